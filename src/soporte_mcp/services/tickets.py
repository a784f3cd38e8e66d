"""Support tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import ESTADOS_TICKET, PRIORIDADES, Ticket, ahora
from soporte_mcp.errors import ClienteInactivo, DatoInvalido, PrioridadInvalida, TicketNoEncontrado
from soporte_mcp.services import validacion
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from soporte_mcp.services.clientes import obtener_cliente
from soporte_mcp.services.schemas import TicketCreado, TicketDetalle, numero_ticket

tickets = Ticket.__table__


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
    """The ticket record (the ``ticket://`` resource), audited as a query.

    Raises:
        TicketNoEncontrado: no ticket has that id.
    """
    with operacion(db, llamada, Tipo.CONSULTA) as op:
        ticket = obtener_ticket(op.conn, ident)
        op.cliente_id = ticket.cliente_id
        op.descripcion = f"Lectura del ticket {ticket.numero}"
        return ticket


def obtener_ticket(conn: Connection, ticket_id: int) -> TicketDetalle:
    """The ticket with that id.

    Raises:
        TicketNoEncontrado: there is none.
    """
    row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().first()
    if row is None:
        raise TicketNoEncontrado(ticket_id)
    return TicketDetalle(numero=numero_ticket(row["id"]), **row)


ESTADOS_RESUELTOS = ("resuelto", "cerrado")
LARGO_ASIGNADO = 100


def actualizar_ticket(
    *, db: Database, llamada: Llamada, ticket_id: int, estado: str | None = None,
    prioridad: str | None = None, asignado_a: str | None = None,
) -> TicketDetalle:
    """Change a ticket's state, priority or assignee (``None`` keeps each; ``asignado_a=""`` unassigns).

    The resolution date follows the state (see ``fecha_resolucion``).  The audit row
    lists each changed field as ``[before, after]`` under ``cambios``.

    Raises:
        TicketNoEncontrado: no ticket has that id.
        DatoInvalido: a state outside the list, or an assignee over 100 characters.
        PrioridadInvalida: a priority outside the list.
    """
    with operacion(db, llamada, Tipo.ACTUALIZACION) as op:
        antes = op.conn.execute(
            select(tickets).where(tickets.c.id == ticket_id).with_for_update()
        ).mappings().first()
        if antes is None:
            raise TicketNoEncontrado(ticket_id)
        op.cliente_id = antes["cliente_id"]
        nuevos = {
            "estado": validacion.elegir(estado, ESTADOS_TICKET, antes["estado"], DatoInvalido,
                                        "El estado {valor!r} no es válido"),
            "prioridad": validacion.elegir(prioridad, PRIORIDADES, antes["prioridad"], PrioridadInvalida,
                                           "La prioridad {valor!r} no es válida"),
            "asignado_a": antes["asignado_a"] if asignado_a is None else _asignado(asignado_a),
        }
        cambios = {c: [antes[c], v] for c, v in nuevos.items() if antes[c] != v}
        if cambios:
            nuevos["fecha_resolucion"] = fecha_resolucion(antes["estado"], antes["fecha_resolucion"],
                                                          nuevos["estado"])
            op.conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(**nuevos))
        op.descripcion = f"Ticket {numero_ticket(ticket_id)} actualizado: " + (
            ", ".join(f"{c} {a} -> {d}" for c, (a, d) in cambios.items()) or "sin cambios"
        )
        op.detalles = {"ticket_id": ticket_id, "cambios": cambios}
        return obtener_ticket(op.conn, ticket_id)


def fecha_resolucion(estado_antes: str, fecha_antes: datetime | None, estado: str) -> datetime | None:
    """When a ticket now in ``estado`` was resolved: stamped on entering resuelto or cerrado, kept while
    it moves between the two, cleared when it is reopened."""
    if estado not in ESTADOS_RESUELTOS:
        return None
    return fecha_antes if estado_antes in ESTADOS_RESUELTOS and fecha_antes is not None else ahora()


def _asignado(valor: str) -> str | None:
    asignado = valor.strip()
    if len(asignado) > LARGO_ASIGNADO:
        raise DatoInvalido(f"El nombre de la persona asignada admite como máximo {LARGO_ASIGNADO} "
                           "caracteres.")
    return asignado or None
