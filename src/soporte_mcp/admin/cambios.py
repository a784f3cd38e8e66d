"""The changes the panel makes to customers and tickets, each in one transaction with its audit row.

Money is not here: a balance changes only through ``services.pagos.registrar_pago``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import ESTADOS_TICKET, PRIORIDADES, Cliente, Ticket, ahora
from soporte_mcp.errors import ClienteNoEncontrado, DatoInvalido, PrioridadInvalida, TicketNoEncontrado
from soporte_mcp.services import validacion
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from soporte_mcp.services.schemas import numero_ticket
from soporte_mcp.services.texto import texto_busqueda

clientes = Cliente.__table__
tickets = Ticket.__table__
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ESTADOS_RESUELTOS = ("resuelto", "cerrado")


def crear_cliente(*, db: Database, llamada: Llamada, datos: Mapping[str, Any]) -> int:
    """Add a customer (balance and opening balance 0.00) and return its id.

    Raises:
        DatoInvalido: blank or over-long name, malformed email, or an email another customer has.
    """
    with operacion(db, llamada, Tipo.CREACION) as op:
        valores = _datos_cliente(datos)
        _email_libre(op.conn, valores["email"], None)
        cliente_id = op.conn.execute(
            insert(clientes)
            .values(**valores, busqueda=texto_busqueda(valores["nombre"], valores["email"]),
                    fecha_registro=ahora(), saldo=Decimal("0.00"), saldo_inicial=Decimal("0.00"))
            .returning(clientes.c.id)
        ).scalar_one()
        op.cliente_id = cliente_id
        op.descripcion = f"Alta del cliente {cliente_id} ({valores['nombre']}) en el panel"
        return cliente_id


def editar_cliente(*, db: Database, llamada: Llamada, cliente_id: int, datos: Mapping[str, Any]) -> None:
    """Change a customer's name, email, phone and active flag (never the balance), keeping the search column.

    Raises:
        ClienteNoEncontrado: no customer has that id.
        DatoInvalido: as for ``crear_cliente``.
    """
    with operacion(db, llamada, Tipo.ACTUALIZACION) as op:
        valores = _datos_cliente(datos)
        antes = op.conn.execute(
            select(*(clientes.c[k] for k in valores)).where(clientes.c.id == cliente_id).with_for_update()
        ).mappings().first()
        if antes is None:
            raise ClienteNoEncontrado(cliente_id)
        op.cliente_id = cliente_id
        _email_libre(op.conn, valores["email"], cliente_id)
        cambios = {k: [antes[k], v] for k, v in valores.items() if antes[k] != v}
        if cambios:
            busqueda = texto_busqueda(valores["nombre"], valores["email"])
            op.conn.execute(
                update(clientes).where(clientes.c.id == cliente_id).values(**valores, busqueda=busqueda)
            )
        op.descripcion = f"Cliente {cliente_id} editado en el panel: {', '.join(cambios) or 'sin cambios'}"
        op.detalles = {"cambios": cambios}


def editar_ticket(*, db: Database, llamada: Llamada, ticket_id: int, datos: Mapping[str, Any]) -> None:
    """Change a ticket's state, priority and assignee.

    Moving it to resuelto or cerrado stamps ``fecha_resolucion``; reopening it clears it.

    Raises:
        TicketNoEncontrado: no ticket has that id.
        DatoInvalido / PrioridadInvalida: a state or priority not in the lists, an over-long assignee.
    """
    with operacion(db, llamada, Tipo.ACTUALIZACION) as op:
        antes = op.conn.execute(
            select(tickets.c.cliente_id, tickets.c.estado, tickets.c.prioridad, tickets.c.asignado_a,
                   tickets.c.fecha_resolucion).where(tickets.c.id == ticket_id).with_for_update()
        ).mappings().first()
        if antes is None:
            raise TicketNoEncontrado(ticket_id)
        op.cliente_id = antes["cliente_id"]
        valores = _datos_ticket(datos, antes)
        cambios = {k: [antes[k], v] for k, v in valores.items() if antes[k] != v}
        if cambios:
            valores["fecha_resolucion"] = _fecha_resolucion(antes, valores["estado"])
            op.conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(**valores))
        op.descripcion = f"Ticket {numero_ticket(ticket_id)} editado en el panel: " + (
            ", ".join(f"{k} {a} -> {d}" for k, (a, d) in cambios.items()) or "sin cambios"
        )
        op.detalles = {"ticket_id": ticket_id, "cambios": cambios}


def _datos_cliente(datos: Mapping[str, Any]) -> dict[str, Any]:
    email = validacion.texto_requerido(datos.get("email"), "el email", 254).lower()
    if not EMAIL.fullmatch(email):
        raise DatoInvalido(f"El email {email!r} no es válido: escríbalo como nombre@dominio.com.")
    telefono = (datos.get("telefono") or "").strip()
    if len(telefono) > 40:
        raise DatoInvalido("El teléfono admite como máximo 40 caracteres.")
    return {
        "nombre": validacion.texto_requerido(datos.get("nombre"), "el nombre", 200),
        "email": email,
        "telefono": telefono or None,
        "activo": bool(datos.get("activo")),
    }


def _email_libre(conn: Connection, email: str, cliente_id: int | None) -> None:
    otro = conn.execute(
        select(clientes.c.id).where(clientes.c.email == email, clientes.c.id != cliente_id)
    ).scalar()
    if otro is not None:
        raise DatoInvalido(f"El email {email} ya es del cliente {otro}: cada cliente necesita uno distinto.")


def _datos_ticket(datos: Mapping[str, Any], antes: Mapping[str, Any]) -> dict[str, Any]:
    asignado = (datos.get("asignado_a") or "").strip()
    if len(asignado) > 100:
        raise DatoInvalido("El nombre de la persona asignada admite como máximo 100 caracteres.")
    return {
        "estado": validacion.elegir(datos.get("estado"), ESTADOS_TICKET, antes["estado"], DatoInvalido,
                                    "El estado {valor!r} no es válido"),
        "prioridad": validacion.elegir(datos.get("prioridad"), PRIORIDADES, antes["prioridad"],
                                       PrioridadInvalida, "La prioridad {valor!r} no es válida"),
        "asignado_a": asignado or None,
    }


def _fecha_resolucion(antes: Mapping[str, Any], estado: str):  # noqa: ANN202
    if estado not in ESTADOS_RESUELTOS:
        return None
    return antes["fecha_resolucion"] if antes["estado"] in ESTADOS_RESUELTOS else ahora()
