"""Working a ticket to the end: listing tickets, and changing them along the state table with a history.

Every change appends one ``tickets_historial`` row per field changed (who,
when, from, to, the comment) in the same transaction as the change and its
audit row, and raises the ticket's ``version``.  Concurrent updates of one
ticket are serialised (row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite), so
none is lost; a caller that passes the ``version`` it read gets its change
applied only on that version (optimistic concurrency).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Select, bindparam, insert, select, update

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import TRANSICIONES, Cliente, HistorialTicket, Ticket, ahora
from soporte_mcp.dominio import TICKETS_LIMITE_MAXIMO as LIMITE_MAXIMO
from soporte_mcp.dominio import TICKETS_LIMITE_POR_DEFECTO as LIMITE_POR_DEFECTO
from soporte_mcp.dominio import TICKETS_TEXTO_LARGO_MAXIMO as LARGO_MAXIMO_TEXTO
from soporte_mcp.errors import (
    ConsultaDemasiadoLarga,
    DatoInvalido,
    SinCambios,
    TicketCerrado,
    TicketNoEncontrado,
    TransicionInvalida,
    VersionDesactualizada,
)
from soporte_mcp.services import cursor as cursores
from soporte_mcp.services import validacion
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from soporte_mcp.services.clientes import obtener_cliente
from soporte_mcp.services.schemas import (
    CambioTicket,
    ListaTickets,
    TicketActualizado,
    TicketResumen,
    numero_ticket,
)
from soporte_mcp.services.texto import normalizar

tickets = Ticket.__table__
clientes = Cliente.__table__
historial = HistorialTicket.__table__

PALABRAS_MAXIMAS = 8
LARGO_MAXIMO_COMENTARIO = 2000
LISTA = "tickets"

COLUMNAS = (
    tickets.c.id, tickets.c.cliente_id, clientes.c.nombre.label("cliente_nombre"), tickets.c.titulo,
    tickets.c.estado, tickets.c.prioridad, tickets.c.asignado_a, tickets.c.fecha_creacion,
    tickets.c.fecha_resolucion, tickets.c.version,
)
BASE = select(*COLUMNAS).join(clientes, clientes.c.id == tickets.c.cliente_id)
PARA_CAMBIAR = BASE.where(tickets.c.id == bindparam("id")).with_for_update(of=tickets)


def listar_tickets(
    *,
    db: Database,
    llamada: Llamada,
    cliente_id: int | None = None,
    estado: str | Sequence[str] | None = None,
    prioridad: str | None = None,
    texto: str | None = None,
    limite: int = LIMITE_POR_DEFECTO,
    cursor: str | None = None,
) -> ListaTickets:
    """Tickets newest first, filtered by customer, state(s), priority and words of title or description.

    Raises:
        ClienteNoEncontrado: ``cliente_id`` names no customer.
        EstadoInvalido / PrioridadInvalida: a state or priority not in the lists.
        ConsultaDemasiadoLarga: ``texto`` over 200 characters or 8 words.
        LimiteInvalido: ``limite`` outside 1..50.
        CursorInvalido: a cursor this list did not hand out.
    """
    with operacion(db, llamada, Tipo.CONSULTA) as op:
        validacion.limite(limite, LIMITE_MAXIMO)
        estados = _estados(estado)
        prioridad_ok = validacion.prioridad(prioridad) if prioridad and prioridad.strip() else None
        palabras = _palabras(texto)
        despues = cursores.decodificar(LISTA, cursor, "listarTickets") if cursor else None
        if cliente_id is not None:
            op.cliente_id = obtener_cliente(op.conn, cliente_id).id
        stmt = _consulta(cliente_id, estados, prioridad_ok, palabras, despues).limit(limite + 1)
        filas = [_resumen(r) for r in op.conn.execute(stmt)]
        pagina, siguiente = filas[:limite], None
        if len(filas) > limite:
            siguiente = cursores.codificar(LISTA, pagina[-1].fecha_creacion, pagina[-1].id)
        op.descripcion = f"Listado de tickets: {len(pagina)} resultado(s)"
        op.detalles = {"tickets": [t.id for t in pagina]}
        return ListaTickets(total=len(pagina), tickets=pagina, siguiente=siguiente)


def _estados(estado: str | Sequence[str] | None) -> list[str]:
    valores = [estado] if isinstance(estado, str) else list(estado or [])
    return [e for e in (validacion.estado(v) for v in valores) if e]


def _palabras(texto: str | None) -> list[str]:
    palabras = normalizar(texto or "").split()
    if len(texto or "") > LARGO_MAXIMO_TEXTO or len(palabras) > PALABRAS_MAXIMAS:
        raise ConsultaDemasiadoLarga(
            f"El texto admite como máximo {PALABRAS_MAXIMAS} palabras y {LARGO_MAXIMO_TEXTO} caracteres: "
            "busque por una o dos palabras clave del problema."
        )
    return palabras


def _consulta(cliente_id, estados, prioridad, palabras, despues) -> Select:  # noqa: ANN001
    stmt = BASE
    if cliente_id is not None:
        stmt = stmt.where(tickets.c.cliente_id == cliente_id)
    if estados:
        stmt = stmt.where(tickets.c.estado.in_(estados))
    if prioridad:
        stmt = stmt.where(tickets.c.prioridad == prioridad)
    for palabra in palabras:
        stmt = stmt.where(tickets.c.busqueda.contains(palabra, autoescape=True))
    if despues is not None:
        stmt = stmt.where(cursores.antes_de(tickets.c.fecha_creacion, tickets.c.id, *despues))
    return stmt.order_by(tickets.c.fecha_creacion.desc(), tickets.c.id.desc())


def _resumen(fila) -> TicketResumen:  # noqa: ANN001
    return TicketResumen(numero=numero_ticket(fila.id), **fila._mapping)


def actualizar_ticket(
    *,
    db: Database,
    llamada: Llamada,
    ticket_id: int | str,
    estado: str | None = None,
    prioridad: str | None = None,
    asignado_a: str | None = None,
    comentario: str | None = None,
    version: int | None = None,
) -> TicketActualizado:
    """Change a ticket's state (along ``TRANSICIONES``), priority or assignee, and/or comment on it.

    ``asignado_a=""`` unassigns it.  Moving to resuelto stamps
    ``fecha_resolucion``; reopening (back to abierto) clears it.

    Raises:
        DatoInvalido: a malformed ticket id, an over-long assignee or comment.
        SinCambios: none of estado, prioridad, asignado_a, comentario given.
        EstadoInvalido / PrioridadInvalida: not in the lists.
        TicketNoEncontrado: no ticket has that id.
        VersionDesactualizada: ``version`` is not the ticket's current one.
        TicketCerrado: the ticket is closed (final).
        TransicionInvalida: the state table does not allow that move.
    """
    with operacion(db, llamada, Tipo.ACTUALIZACION) as op:
        ident = validacion.ticket_id(ticket_id)
        pedido = _pedido(estado, prioridad, asignado_a)
        nota = _comentario(comentario)
        if not pedido and nota is None:
            raise SinCambios(
                "Indique al menos un cambio: estado, prioridad, asignadoA o comentario."
            )
        actual = op.conn.execute(PARA_CAMBIAR, {"id": ident}).first()
        if actual is None:
            raise TicketNoEncontrado(ident)
        op.cliente_id = actual.cliente_id
        _comprobar(actual, pedido, version)
        cambios = {campo: (getattr(actual, campo), nuevo) for campo, nuevo in pedido.items()
                   if getattr(actual, campo) != nuevo}
        entradas = _aplicar(op.conn, actual, cambios, nota, llamada.usuario)
        despues = _resumen(op.conn.execute(BASE.where(tickets.c.id == ident)).one())
        op.descripcion = f"Ticket {numero_ticket(ident)} actualizado: " + (
            ", ".join(f"{c} {a} -> {n}" for c, (a, n) in cambios.items()) or ("comentario" if nota else "sin cambios")
        )
        op.detalles = {"ticket_id": ident, "cambios": {c: list(v) for c, v in cambios.items()}}
        return TicketActualizado(ticket=despues, cambios=entradas,
                                 estados_siguientes=list(TRANSICIONES[despues.estado]))


def _pedido(estado: str | None, prioridad: str | None, asignado_a: str | None) -> dict[str, str | None]:
    pedido: dict[str, str | None] = {}
    estado_ok = validacion.estado(estado)
    if estado_ok:
        pedido["estado"] = estado_ok
    if prioridad is not None and prioridad.strip():
        pedido["prioridad"] = validacion.prioridad(prioridad)
    if asignado_a is not None:
        nombre = " ".join(asignado_a.split())
        if len(nombre) > 100:
            raise DatoInvalido("El nombre de la persona asignada admite como máximo 100 caracteres.")
        pedido["asignado_a"] = nombre or None
    return pedido


def _comentario(comentario: str | None) -> str | None:
    texto = (comentario or "").strip()
    if len(texto) > LARGO_MAXIMO_COMENTARIO:
        raise DatoInvalido(f"El comentario admite como máximo {LARGO_MAXIMO_COMENTARIO} caracteres.")
    return texto or None


def _comprobar(actual, pedido: dict[str, str | None], version: int | None) -> None:  # noqa: ANN001
    numero = numero_ticket(actual.id)
    if version is not None and version != actual.version:
        raise VersionDesactualizada(
            f"El ticket {numero} cambió desde que lo leyó (usted tiene la versión {version}, la actual es la "
            f"{actual.version}): ahora está {actual.estado}, prioridad {actual.prioridad}, asignado a "
            f"{actual.asignado_a or 'nadie'}. Revise si su cambio sigue haciendo falta y repítalo con version="
            f"{actual.version}."
        )
    if actual.estado == "cerrado":
        raise TicketCerrado(
            f"El ticket {numero} está cerrado y no admite cambios. Si el problema persiste, abra un ticket nuevo "
            "con crearTicket."
        )
    nuevo = pedido.get("estado")
    if nuevo is not None and nuevo != actual.estado and nuevo not in TRANSICIONES[actual.estado]:
        raise TransicionInvalida(
            f"El ticket {numero} está {actual.estado} y no puede pasar a {nuevo}. "
            f"Desde {actual.estado} puede pasar a: {', '.join(TRANSICIONES[actual.estado])}."
        )


def _aplicar(conn: Connection, actual, cambios: dict, nota: str | None, usuario: str | None) -> list[CambioTicket]:  # noqa: ANN001
    fecha = ahora()
    filas = [
        {"ticket_id": actual.id, "fecha": fecha, "usuario": usuario, "campo": campo, "anterior": anterior,
         "nuevo": nuevo, "comentario": nota}
        for campo, (anterior, nuevo) in cambios.items()
    ] or ([{"ticket_id": actual.id, "fecha": fecha, "usuario": usuario, "campo": "comentario", "anterior": None,
            "nuevo": None, "comentario": nota}] if nota else [])
    if not filas:
        return []
    valores = {campo: nuevo for campo, (_a, nuevo) in cambios.items()}
    if "estado" in cambios:
        valores["fecha_resolucion"] = _fecha_resolucion(actual, cambios["estado"][1], fecha)
    conn.execute(update(tickets).where(tickets.c.id == actual.id).values(**valores, version=tickets.c.version + 1))
    conn.execute(insert(historial), filas)
    return [CambioTicket.model_validate(f) for f in filas]


def _fecha_resolucion(actual, estado: str, fecha):  # noqa: ANN001, ANN202
    if estado == "resuelto":
        return fecha
    if estado == "abierto":  # reopened
        return None
    return actual.fecha_resolucion  # closing keeps the day it was resolved
