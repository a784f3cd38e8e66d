"""The two endpoints, written the way the original's DRF API was: APIView + ModelSerializer."""

from __future__ import annotations

from django.db.models import Count, Max, Q
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.par.models import Cliente, Pago, Ticket

ABIERTOS = ("abierto", "en_proceso", "pendiente")


class Centavos(serializers.Field):
    """Integer cents → "1250.00", the same text our tools answer."""

    def to_representation(self, value: int) -> str:
        signo = "-" if value < 0 else ""
        return f"{signo}{abs(value) // 100}.{abs(value) % 100:02d}"


class ClienteSerializer(serializers.ModelSerializer):
    saldo = Centavos(source="saldo_centavos")

    class Meta:
        model = Cliente
        fields = ["id", "nombre", "email", "telefono", "saldo", "activo", "fecha_registro"]


class PagoSerializer(serializers.ModelSerializer):
    monto = Centavos(source="monto_centavos")

    class Meta:
        model = Pago
        fields = ["id", "monto", "metodo_pago", "descripcion", "fecha"]


class BuscarClientes(APIView):
    """GET /clientes/buscar?q=…: active customers whose name or email contains q, the first 10."""

    def get(self, request):
        q = request.query_params.get("q", "").strip()
        encontrados = Cliente.objects.filter(Q(nombre__icontains=q) | Q(email__icontains=q), activo=True)[:10]
        datos = ClienteSerializer(encontrados, many=True).data
        return Response({"query": q, "total": len(datos), "clientes": datos})


class SaldoCliente(APIView):
    """GET /clientes/<id>/saldo: the customer, their last 5 payments and the counts consultarSaldo gives."""

    def get(self, request, cliente_id: int):
        try:
            cliente = Cliente.objects.get(pk=cliente_id)
        except Cliente.DoesNotExist:
            return Response({"detail": "no existe"}, status=404)
        pagos = Pago.objects.filter(cliente_id=cliente_id).order_by("-fecha", "-id")[:5]
        tickets = Ticket.objects.filter(cliente_id=cliente_id).aggregate(
            total=Count("id"), abiertos=Count("id", filter=Q(estado__in=ABIERTOS))
        )
        resumen_pagos = Pago.objects.filter(cliente_id=cliente_id).aggregate(total=Count("id"), ultimo=Max("fecha"))
        return Response(
            {
                "cliente": ClienteSerializer(cliente).data,
                "saldo": Centavos().to_representation(cliente.saldo_centavos),
                "ultimos_pagos": PagoSerializer(pagos, many=True).data,
                "resumen": {
                    "tickets_total": tickets["total"],
                    "tickets_abiertos": tickets["abiertos"],
                    "pagos_total": resumen_pagos["total"],
                    "fecha_ultimo_pago": resumen_pagos["ultimo"],
                },
            }
        )
