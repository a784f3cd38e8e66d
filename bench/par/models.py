"""Our tables as Django sees them: ``managed = False``, the real table and column names."""

from __future__ import annotations

from django.db import models


class Cliente(models.Model):
    nombre = models.CharField(max_length=200)
    email = models.CharField(max_length=254)
    telefono = models.CharField(max_length=40, null=True)
    saldo_centavos = models.BigIntegerField()  # money is integer cents in our schema
    activo = models.BooleanField()
    fecha_registro = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "clientes"
        app_label = "par"


class Ticket(models.Model):
    cliente = models.ForeignKey(Cliente, on_delete=models.DO_NOTHING, db_column="cliente_id")
    estado = models.CharField(max_length=20)

    class Meta:
        managed = False
        db_table = "tickets"
        app_label = "par"


class Pago(models.Model):
    cliente = models.ForeignKey(Cliente, on_delete=models.DO_NOTHING, db_column="cliente_id")
    monto_centavos = models.BigIntegerField()
    metodo_pago = models.CharField(max_length=20)
    descripcion = models.TextField()
    fecha = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "pagos"
        app_label = "par"
