"""The system's figures, with "today" in the configured time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, Cliente, HistorialTicket, Pago, Ticket
from soporte_mcp.money import from_cents
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from soporte_mcp.services.conciliacion import centavos
from soporte_mcp.services.schemas import (
    Estadisticas,
    EstadisticasClientes,
    EstadisticasPagos,
    EstadisticasTickets,
)

clientes = Cliente.__table__
tickets = Ticket.__table__
pagos = Pago.__table__
anulaciones = Anulacion.__table__
historial = HistorialTicket.__table__


def dia_local(zona: ZoneInfo, ahora: datetime | None = None) -> tuple[date, datetime, datetime]:
    """Today's date in ``zona`` and its [start, end) as aware datetimes."""
    hoy = (ahora or datetime.now(zona)).astimezone(zona).date()
    inicio = datetime.combine(hoy, time.min, tzinfo=zona)
    return hoy, inicio, datetime.combine(hoy + timedelta(days=1), time.min, tzinfo=zona)


def estadisticas(*, db: Database, llamada: Llamada, zona: ZoneInfo, ahora: datetime | None = None) -> Estadisticas:
    """Customers, tickets by state (and resolved and closed today), today's payments and reversals."""
    hoy, inicio, fin = dia_local(zona, ahora)
    with operacion(db, llamada, Tipo.CONSULTA) as op:
        resultado = Estadisticas(
            fecha=hoy.isoformat(),
            zona_horaria=zona.key,
            clientes=_clientes(op.conn, inicio, fin),
            tickets=_tickets(op.conn, inicio, fin),
            pagos=_pagos(op.conn, inicio, fin),
        )
        op.descripcion = f"Estadísticas del {hoy.isoformat()}"
        return resultado


def _contar_si(condicion):  # noqa: ANN001, ANN202
    return func.coalesce(func.sum(case((condicion, 1), else_=0)), 0)


def _clientes(conn: Connection, inicio: datetime, fin: datetime) -> EstadisticasClientes:
    fila = conn.execute(
        select(
            func.count(),
            _contar_si(clientes.c.saldo > 0),
            _contar_si((clientes.c.fecha_registro >= inicio) & (clientes.c.fecha_registro < fin)),
        )
    ).one()
    return EstadisticasClientes(total=fila[0], con_saldo_positivo=fila[1], registrados_hoy=fila[2])


def _tickets(conn: Connection, inicio: datetime, fin: datetime) -> EstadisticasTickets:
    por_estado = dict(conn.execute(select(tickets.c.estado, func.count()).group_by(tickets.c.estado)).all())
    resueltos_hoy = conn.execute(
        select(func.count()).where(tickets.c.fecha_resolucion >= inicio, tickets.c.fecha_resolucion < fin)
    ).scalar_one()
    # Closing leaves no date on the ticket; its history has the moment.
    cerrados_hoy = conn.execute(
        select(func.count(historial.c.ticket_id.distinct())).where(
            historial.c.campo == "estado", historial.c.nuevo == "cerrado",
            historial.c.fecha >= inicio, historial.c.fecha < fin,
        )
    ).scalar_one()
    return EstadisticasTickets(
        total=sum(por_estado.values()),
        abiertos=por_estado.get("abierto", 0),
        en_proceso=por_estado.get("en_proceso", 0),
        pendientes=por_estado.get("pendiente", 0),
        resueltos=por_estado.get("resuelto", 0),
        cerrados=por_estado.get("cerrado", 0),
        resueltos_hoy=resueltos_hoy,
        cerrados_hoy=cerrados_hoy,
    )


def _pagos(conn: Connection, inicio: datetime, fin: datetime) -> EstadisticasPagos:
    # Summed as integer cents (the raw column): exact on every backend.
    cantidad, total = _del_dia(conn, pagos, inicio, fin)
    anuladas, anulado = _del_dia(conn, anulaciones, inicio, fin)
    return EstadisticasPagos(
        hoy_cantidad=cantidad, hoy_total=total, anulaciones_hoy_cantidad=anuladas, anulaciones_hoy_total=anulado
    )


def _del_dia(conn: Connection, tabla, inicio: datetime, fin: datetime):  # noqa: ANN001, ANN202
    cantidad, total = conn.execute(
        select(func.count(), func.coalesce(func.sum(centavos(tabla.c.monto)), 0)).where(
            tabla.c.fecha >= inicio, tabla.c.fecha < fin
        )
    ).one()
    return cantidad, from_cents(int(total))
