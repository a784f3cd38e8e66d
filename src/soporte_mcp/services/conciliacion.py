"""`db check`: every balance must be explainable from the records.

Two rules: a customer's balance is their opening balance + their payments -
the reversals of those payments; and no payment is reversed beyond its amount
(nor by a reversal booked to another customer).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import BigInteger, func, select, type_coerce

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, Cliente, Pago
from soporte_mcp.money import from_cents

clientes = Cliente.__table__
pagos = Pago.__table__
anulaciones = Anulacion.__table__


class Descuadre(BaseModel):
    cliente_id: int
    nombre: str
    saldo: Decimal
    esperado: Decimal


class PagoSobreanulado(BaseModel):
    pago_id: int
    cliente_id: int
    monto: Decimal
    anulado: Decimal
    motivo: str = "anulado por encima de su monto"


def centavos(columna):  # noqa: ANN001, ANN201
    """A money column as its raw integer cents, so that sums and comparisons are exact."""
    return type_coerce(columna, BigInteger)


def verificar_saldos(*, db: Database) -> list[Descuadre]:
    """Customers whose balance differs from opening balance + payments - reversals (empty when all reconcile)."""
    suma = _por_cliente(pagos)
    restado = _por_cliente(anulaciones)
    esperado = (
        centavos(clientes.c.saldo_inicial) + func.coalesce(suma.c.total, 0) - func.coalesce(restado.c.total, 0)
    )
    stmt = (
        select(clientes.c.id, clientes.c.nombre, centavos(clientes.c.saldo), esperado)
        .select_from(
            clientes.outerjoin(suma, suma.c.cliente_id == clientes.c.id)
            .outerjoin(restado, restado.c.cliente_id == clientes.c.id)
        )
        .where(centavos(clientes.c.saldo) != esperado)
        .order_by(clientes.c.id)
    )
    with db.lectura() as conn:
        return [
            Descuadre(cliente_id=r[0], nombre=r[1], saldo=from_cents(r[2]), esperado=from_cents(int(r[3])))
            for r in conn.execute(stmt)
        ]


def _por_cliente(tabla):  # noqa: ANN001, ANN202
    return (
        select(tabla.c.cliente_id, func.sum(centavos(tabla.c.monto)).label("total"))
        .group_by(tabla.c.cliente_id)
        .subquery()
    )


def verificar_anulaciones(*, db: Database) -> list[PagoSobreanulado]:
    """Payments reversed beyond their amount, or with a reversal booked to another customer (empty when none)."""
    suma = (
        select(anulaciones.c.pago_id, func.sum(centavos(anulaciones.c.monto)).label("total"))
        .group_by(anulaciones.c.pago_id)
        .subquery()
    )
    excedidos = (
        select(pagos.c.id, pagos.c.cliente_id, centavos(pagos.c.monto), suma.c.total)
        .join(suma, suma.c.pago_id == pagos.c.id)
        .where(suma.c.total > centavos(pagos.c.monto))
    )
    ajenos = (
        select(pagos.c.id, pagos.c.cliente_id, centavos(pagos.c.monto), centavos(anulaciones.c.monto))
        .join(anulaciones, anulaciones.c.pago_id == pagos.c.id)
        .where(anulaciones.c.cliente_id != pagos.c.cliente_id)
    )
    with db.lectura() as conn:
        filas = [(r, "anulado por encima de su monto") for r in conn.execute(excedidos)]
        filas += [(r, f"anulación de {from_cents(int(r[3])):.2f} asentada a otro cliente")
                  for r in conn.execute(ajenos)]
    return sorted(
        (PagoSobreanulado(pago_id=r[0], cliente_id=r[1], monto=from_cents(int(r[2])), anulado=from_cents(int(r[3])),
                          motivo=motivo) for r, motivo in filas),
        key=lambda p: p.pago_id,
    )
