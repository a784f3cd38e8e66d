"""`db check`: every balance must be explainable from the records."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import BigInteger, func, select, type_coerce

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, Pago
from soporte_mcp.money import from_cents

clientes = Cliente.__table__
pagos = Pago.__table__


class Descuadre(BaseModel):
    cliente_id: int
    nombre: str
    saldo: Decimal
    esperado: Decimal


def centavos(columna):  # noqa: ANN001, ANN201
    """A money column as its raw integer cents, so that sums and comparisons are exact."""
    return type_coerce(columna, BigInteger)


def verificar_saldos(*, db: Database) -> list[Descuadre]:
    """Customers whose balance differs from opening balance + payments (empty when all reconcile)."""
    suma = (
        select(pagos.c.cliente_id, func.sum(centavos(pagos.c.monto)).label("total"))
        .group_by(pagos.c.cliente_id)
        .subquery()
    )
    esperado = centavos(clientes.c.saldo_inicial) + func.coalesce(suma.c.total, 0)
    stmt = (
        select(clientes.c.id, clientes.c.nombre, centavos(clientes.c.saldo), esperado)
        .select_from(clientes.outerjoin(suma, suma.c.cliente_id == clientes.c.id))
        .where(centavos(clientes.c.saldo) != esperado)
        .order_by(clientes.c.id)
    )
    with db.lectura() as conn:
        return [
            Descuadre(cliente_id=r[0], nombre=r[1], saldo=from_cents(r[2]), esperado=from_cents(int(r[3])))
            for r in conn.execute(stmt)
        ]
