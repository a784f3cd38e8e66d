"""Support tickets."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import HistorialTicket, Ticket, ahora
from soporte_mcp.errors import ClienteInactivo, TicketNoEncontrado
from soporte_mcp.services import validacion
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from soporte_mcp.services.clientes import obtener_cliente
from soporte_mcp.services.schemas import CambioTicket, TicketCreado, TicketDetalle, numero_ticket
from soporte_mcp.services.texto import texto_ticket

tickets = Ticket.__table__
historial = HistorialTicket.__table__


def crear_ticket(
    *, db: Database, llamada: Llamada, cliente_id: int, titulo: str, descripcion: str, prioridad: str | None = None
) -> TicketCreado:
    """Open a ticket (state ``abierto``) for an active customer.

    Raises:
        ClienteNoEncontrado: no customer has that id.
        ClienteInactivo: the customer is deactivated.
        PrioridadInvalida: the priority is not baja, media, alta or critica.
        DatoInvalido: blank or over-long title or description.
    """
    with operacion(db, llamada, Tipo.CREACION) as op:
        prioridad_ok = validacion.prioridad(prioridad)
        titulo_ok = validacion.texto_requerido(titulo, "el título", 200)
        descripcion_ok = validacion.texto_requerido(descripcion, "la descripción", 5000)
        cliente = obtener_cliente(op.conn, cliente_id)
        op.cliente_id = cliente.id
        if not cliente.activo:
            raise ClienteInactivo(cliente.id, cliente.nombre)
        fecha = ahora()
        ticket_id = op.conn.execute(
            insert(tickets)
            .values(
                cliente_id=cliente.id,
                titulo=titulo_ok,
                descripcion=descripcion_ok,
                prioridad=prioridad_ok,
                estado="abierto",
                fecha_creacion=fecha,
                version=1,
                busqueda=texto_ticket(titulo_ok, descripcion_ok),
            )
            .returning(tickets.c.id)
        ).scalar_one()
        op.descripcion = f"Ticket {numero_ticket(ticket_id)} ({prioridad_ok}) para el cliente {cliente.id}: {titulo_ok}"
        op.detalles = {"ticket_id": ticket_id}
        return TicketCreado(
            id=ticket_id,
            numero=numero_ticket(ticket_id),
            cliente_id=cliente.id,
            cliente_nombre=cliente.nombre,
            titulo=titulo_ok,
            descripcion=descripcion_ok,
            prioridad=prioridad_ok,
            estado="abierto",
            fecha_creacion=fecha,
        )


def ficha_ticket(*, db: Database, llamada: Llamada, ident: int) -> TicketDetalle:
    """The ticket record with its history (the ``ticket://`` resource), audited as a query.

    Raises:
        TicketNoEncontrado: no ticket has that id.
    """
    with operacion(db, llamada, Tipo.CONSULTA) as op:
        ticket = obtener_ticket(op.conn, ident)
        op.cliente_id = ticket.cliente_id
        op.descripcion = f"Lectura del ticket {ticket.numero}"
        return ticket.model_copy(update={"historial": historial_de(op.conn, ident)})


def obtener_ticket(conn: Connection, ticket_id: int) -> TicketDetalle:
    """The ticket with that id.

    Raises:
        TicketNoEncontrado: there is none.
    """
    row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().first()
    if row is None:
        raise TicketNoEncontrado(ticket_id)
    return TicketDetalle(numero=numero_ticket(row["id"]), **{k: v for k, v in row.items() if k != "busqueda"})


def historial_de(conn: Connection, ticket_id: int) -> list[CambioTicket]:
    """A ticket's history, oldest first."""
    filas = conn.execute(
        select(historial).where(historial.c.ticket_id == ticket_id).order_by(historial.c.fecha, historial.c.id)
    )
    return [CambioTicket.model_validate(f) for f in filas]
