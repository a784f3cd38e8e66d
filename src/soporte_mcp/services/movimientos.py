"""Reading the ledger: a customer's payments with their reversals, one payment, the last movements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, Pago
from soporte_mcp.dominio import PAGOS_LIMITE_MAXIMO as LIMITE_MAXIMO
from soporte_mcp.dominio import PAGOS_LIMITE_POR_DEFECTO as LIMITE_POR_DEFECTO
from soporte_mcp.errors import PagoNoEncontrado, RangoFechasInvalido
from soporte_mcp.services import cursor as cursores
from soporte_mcp.services import validacion
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from soporte_mcp.services.clientes import obtener_cliente
from soporte_mcp.services.schemas import AnulacionResumen, ListaPagos, PagoDetalle

pagos = Pago.__table__
anulaciones = Anulacion.__table__

LISTA = "pagos"

# Labelled: the money columns are named *_centavos in the table.
COLUMNAS_PAGO = (pagos.c.id, pagos.c.cliente_id, pagos.c.monto.label("monto"), pagos.c.metodo_pago, pagos.c.descripcion,
                 pagos.c.fecha, pagos.c.procesado_por)
DE_LOS_PAGOS = (
    select(anulaciones.c.id, anulaciones.c.pago_id, anulaciones.c.monto.label("monto"), anulaciones.c.motivo,
           anulaciones.c.fecha, anulaciones.c.procesado_por)
    .where(anulaciones.c.pago_id.in_(bindparam("ids", expanding=True)))
    .order_by(anulaciones.c.fecha, anulaciones.c.id)
)


def listar_pagos(
    *,
    db: Database,
    llamada: Llamada,
    zona: ZoneInfo,
    cliente_id: int,
    desde: date | None = None,
    hasta: date | None = None,
    limite: int = LIMITE_POR_DEFECTO,
    cursor: str | None = None,
) -> ListaPagos:
    """A customer's payments newest first, each with its reversals and what remains reversible.

    ``desde`` and ``hasta`` are whole days in ``zona``, both included.

    Raises:
        ClienteNoEncontrado: no customer has that id.
        RangoFechasInvalido: ``desde`` is after ``hasta``.
        LimiteInvalido: ``limite`` outside 1..50.
        CursorInvalido: a cursor this list did not hand out.
    """
    with operacion(db, llamada, Tipo.CONSULTA) as op:
        validacion.limite(limite, LIMITE_MAXIMO)
        if desde and hasta and desde > hasta:
            raise RangoFechasInvalido(
                f"La fecha desde ({desde.isoformat()}) es posterior a hasta ({hasta.isoformat()}): inviértalas."
            )
        despues = cursores.decodificar(LISTA, cursor, "listarPagos") if cursor else None
        cliente = obtener_cliente(op.conn, cliente_id)
        op.cliente_id = cliente.id
        stmt = select(*COLUMNAS_PAGO).where(pagos.c.cliente_id == cliente.id)
        if desde:
            stmt = stmt.where(pagos.c.fecha >= _inicio(desde, zona))
        if hasta:
            stmt = stmt.where(pagos.c.fecha < _inicio(hasta + timedelta(days=1), zona))
        if despues:
            stmt = stmt.where(cursores.antes_de(pagos.c.fecha, pagos.c.id, *despues))
        filas = op.conn.execute(stmt.order_by(pagos.c.fecha.desc(), pagos.c.id.desc()).limit(limite + 1)).all()
        pagina = _con_anulaciones(op.conn, filas[:limite])
        siguiente = cursores.codificar(LISTA, pagina[-1].fecha, pagina[-1].id) if len(filas) > limite else None
        op.descripcion = f"Pagos del cliente {cliente.id}: {len(pagina)} resultado(s)"
        return ListaPagos(
            cliente_id=cliente.id, cliente_nombre=cliente.nombre, desde=desde, hasta=hasta, zona_horaria=zona.key,
            total=len(pagina), pagos=pagina, siguiente=siguiente,
        )


def _inicio(dia: date, zona: ZoneInfo) -> datetime:
    return datetime.combine(dia, time.min, tzinfo=zona)


def _con_anulaciones(conn: Connection, filas: Sequence) -> list[PagoDetalle]:
    por_pago: dict[int, list[AnulacionResumen]] = defaultdict(list)
    if filas:
        for a in conn.execute(DE_LOS_PAGOS, {"ids": [f.id for f in filas]}):
            por_pago[a.pago_id].append(AnulacionResumen.model_validate(a))
    return [_detalle(f, por_pago[f.id]) for f in filas]


def _detalle(fila, lista: list[AnulacionResumen]) -> PagoDetalle:  # noqa: ANN001
    anulado = sum((a.monto for a in lista), Decimal("0.00"))
    return PagoDetalle(**fila._mapping, anulado=anulado, reversible=fila.monto - anulado, anulaciones=lista)


def ficha_pago(*, db: Database, llamada: Llamada, ident: int) -> PagoDetalle:
    """One payment with its reversals (the ``pago://`` resource), audited as a query.

    Raises:
        PagoNoEncontrado: no payment has that id.
    """
    with operacion(db, llamada, Tipo.CONSULTA) as op:
        fila = op.conn.execute(select(*COLUMNAS_PAGO).where(pagos.c.id == ident)).first()
        if fila is None:
            raise PagoNoEncontrado(ident)
        op.cliente_id = fila.cliente_id
        op.descripcion = f"Lectura del pago {ident}"
        return _con_anulaciones(op.conn, [fila])[0]
