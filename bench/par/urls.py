from django.urls import path

from bench.par.views import BuscarClientes, SaldoCliente

urlpatterns = [
    path("clientes/buscar", BuscarClientes.as_view()),
    path("clientes/<int:cliente_id>/saldo", SaldoCliente.as_view()),
]
