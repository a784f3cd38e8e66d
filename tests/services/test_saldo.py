"""consultarSaldo's last movements: the newest payments and reversals merged in Python give what one
ORDER BY over their UNION ALL gives (the statement it replaced, kept here as the oracle)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, literal_column, select, union_all, update

from soporte_mcp.db.models import Anulacion, Pago, ahora
from soporte_mcp.dominio import Llamada
from soporte_mcp.services import anulaciones as servicio_anulaciones
from soporte_mcp.services import clientes as servicio
from soporte_mcp.services import pagos as servicio_pagos
from soporte_mcp.services.schemas import Movimiento

pagos, anulaciones = Pago.__table__, Anulacion.__table__
_UNION = union_all(
    select(literal_column("'pago'").label("tipo"), pagos.c.id, pagos.c.id.label("pago_id"),
           pagos.c.monto.label("monto"), pagos.c.descripcion, pagos.c.fecha)
    .where(pagos.c.cliente_id == bindparam("id")),
    select(literal_column("'anulacion'").label("tipo"), anulaciones.c.id, anulaciones.c.pago_id,
           anulaciones.c.monto.label("monto"), anulaciones.c.motivo.label("descripcion"), anulaciones.c.fecha)
    .where(anulaciones.c.cliente_id == bindparam("id")),
).subquery()
ORACULO = select(_UNION).order_by(_UNION.c.fecha.desc(), _UNION.c.id.desc()).limit(5)
LLAMADA = Llamada(herramienta="prueba")


def _movimientos_por_sql(db, cliente_id: int) -> list[dict]:
    with db.lectura() as conn:
        filas = conn.execute(ORACULO, {"id": cliente_id})
        return [Movimiento.model_validate(dict(f._mapping)).model_dump() for f in filas]


def _saldo(db, cliente_id: int) -> list[dict]:
    saldo = servicio.consultar_saldo(db=db, llamada=LLAMADA, cliente_id=cliente_id)
    return [m.model_dump() for m in saldo.ultimos_movimientos]


def test_the_last_movements_are_what_one_order_by_over_both_tables_gives(db) -> None:
    cliente_id = 2
    pagados = [servicio_pagos.registrar_pago(db=db, llamada=LLAMADA, cliente_id=cliente_id, monto="10.00").pago_id
               for _ in range(6)]
    for pago_id in pagados[1::2]:  # reversals interleaved with the payments
        servicio_anulaciones.anular_pago(db=db, llamada=LLAMADA, pago_id=pago_id, motivo="error", monto="1.00")
    assert _saldo(db, cliente_id) == _movimientos_por_sql(db, cliente_id)
    assert {m["tipo"] for m in _saldo(db, cliente_id)} == {"pago", "anulacion"}
    # Equal dates: the id decides, across both tables, as in SQL.
    with db.escritura() as conn:
        mismo = ahora() + timedelta(days=1)
        conn.execute(update(pagos).where(pagos.c.cliente_id == cliente_id).values(fecha=mismo))
        conn.execute(update(anulaciones).where(anulaciones.c.cliente_id == cliente_id).values(fecha=mismo))
    assert _saldo(db, cliente_id) == _movimientos_por_sql(db, cliente_id)


def test_a_customer_with_only_reversals_recent_or_no_movements_at_all(db) -> None:
    for cliente_id in (1, 3, 4, 5):
        assert _saldo(db, cliente_id) == _movimientos_por_sql(db, cliente_id)
