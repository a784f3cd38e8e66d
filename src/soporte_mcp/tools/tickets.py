"""crearTicket, listarTickets and actualizarTicket."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from soporte_mcp.dominio import (
    CURSOR_LARGO_MAXIMO,
    ESTADOS_TICKET,
    PRIORIDADES,
    TICKETS_LIMITE_MAXIMO,
    TICKETS_LIMITE_POR_DEFECTO,
    TICKETS_TEXTO_LARGO_MAXIMO,
    Tipo,
)
from soporte_mcp.perezoso import perezoso
from soporte_mcp.services.schemas import ListaTickets, TicketActualizado, TicketCreado
from soporte_mcp.tools._comun import ESCRITURA, LECTURA, ejecutar, publicar
from soporte_mcp.tools.clientes import ClienteId

# Imported by the first call (see tools/clientes.py).
servicio = perezoso("soporte_mcp.services.tickets")
seguimiento = perezoso("soporte_mcp.services.seguimiento")

# Changes a ticket in place (never deletes anything); not idempotent: each call with a comment adds an entry.
ACTUALIZACION = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)

Estado = Annotated[str, Field(json_schema_extra={"enum": list(ESTADOS_TICKET)})]
# The page cursor of listarTickets and listarPagos.
Cursor = Annotated[
    str | None,
    Field(description="El valor «siguiente» de la respuesta anterior, para ver la página siguiente.",
          max_length=CURSOR_LARGO_MAXIMO),
]


async def crear_ticket(
    clienteId: ClienteId,
    titulo: Annotated[str, Field(description="Resumen breve del problema (máx. 200 caracteres).")],
    descripcion: Annotated[str, Field(description="Qué le pasa al cliente, con los detalles que dio.")],
    ctx: Context,
    prioridad: Annotated[
        str,
        Field(
            description="baja, media (por defecto), alta o critica. \"Urgente\" o \"lo antes posible\" → alta; "
            "servicio caído o dinero en riesgo → critica; consultas sin prisa → baja.",
            json_schema_extra={"enum": list(PRIORIDADES)},
        ),
    ] = "media",
) -> TicketCreado:
    """Abre un ticket de soporte (estado "abierto") para un cliente activo y devuelve su número (#000042).

    Úsela cuando el usuario pida registrar un problema o reclamo de un cliente. Si solo tiene el
    nombre, busque antes el id con buscarCliente. Escriba título y descripción en español.
    """
    return await ejecutar(
        ctx, servicio.crear_ticket, cliente_id=clienteId, titulo=titulo, descripcion=descripcion, prioridad=prioridad
    )


async def listar_tickets(
    ctx: Context,
    clienteId: Annotated[
        int | None,
        Field(description="Id del cliente cuyos tickets quiere ver (búsquelo con buscarCliente). "
                          "Sin él, tickets de todos los clientes.", json_schema_extra={"minimum": 1}),
    ] = None,
    estado: Annotated[
        Estado | list[Estado] | None,
        Field(description="Un estado o una lista: abierto, en_proceso, pendiente, resuelto, cerrado. "
                          "\"Tickets abiertos\" o \"sin resolver\" → [\"abierto\", \"en_proceso\", \"pendiente\"]."),
    ] = None,
    prioridad: Annotated[
        str | None, Field(description="baja, media, alta o critica.", json_schema_extra={"enum": list(PRIORIDADES)})
    ] = None,
    texto: Annotated[
        str | None,
        Field(description="Palabras del título o la descripción (\"factura\", \"internet\"); "
                          "no distingue mayúsculas ni tildes.", max_length=TICKETS_TEXTO_LARGO_MAXIMO),
    ] = None,
    limite: Annotated[
        int, Field(description="Máximo de tickets por página (1 a 50).",
                   json_schema_extra={"minimum": 1, "maximum": TICKETS_LIMITE_MAXIMO})
    ] = TICKETS_LIMITE_POR_DEFECTO,
    cursor: Cursor = None,
) -> ListaTickets:
    (  # the description the model reads, split only to fit the line (one string, unchanged)
        "Lista tickets, el más reciente primero: número (#000042), cliente, título, estado, prioridad, "
        """asignado, fechas y versión.

    Úsela para "¿qué tickets abiertos tiene María García?" (busque antes el id con buscarCliente),
    para encontrar el número de un ticket antes de actualizarlo, o para revisar la cola por estado
    o prioridad. Si «siguiente» no es null hay más: vuelva a llamarla con cursor=siguiente.
    Solo consulta; no cambia nada.
    """
    )
    return await ejecutar(
        ctx, seguimiento.listar_tickets, cliente_id=clienteId, estado=estado, prioridad=prioridad, texto=texto,
        limite=limite, cursor=cursor,
    )


async def actualizar_ticket(
    ticketId: Annotated[
        int | str, Field(description="El ticket: su número (42) o como lo ve el cliente (\"#000042\").")
    ],
    ctx: Context,
    estado: Annotated[
        str | None,
        Field(description="Nuevo estado. Desde abierto: en_proceso, pendiente o resuelto; desde en_proceso: "
                          "pendiente o resuelto; desde pendiente: en_proceso o resuelto; desde resuelto: cerrado, o "
                          "abierto para reabrirlo; cerrado es definitivo.",
              json_schema_extra={"enum": list(ESTADOS_TICKET)}),
    ] = None,
    prioridad: Annotated[
        str | None, Field(description="Nueva prioridad: baja, media, alta o critica.",
                          json_schema_extra={"enum": list(PRIORIDADES)})
    ] = None,
    asignadoA: Annotated[
        str | None, Field(description="Persona a la que se asigna (p. ej. \"Ana\"); \"\" quita la asignación.")
    ] = None,
    comentario: Annotated[
        str | None,
        Field(description="Nota para el historial: qué se hizo o por qué (p. ej. \"se reinició el router\")."),
    ] = None,
    version: Annotated[
        int | None,
        Field(description="La versión del ticket que usted leyó (de listarTickets): si otro lo cambió "
                          "después, el cambio se rechaza con su estado actual en vez de pisarlo.",
              json_schema_extra={"minimum": 1}),
    ] = None,
) -> TicketActualizado:
    (  # the description the model reads, split only to fit the line (one string, unchanged)
        "Cambia el estado, la prioridad o la persona asignada de un ticket, o le añade un comentario; "
        """cada cambio queda en su historial.

    Úsela para "pasa el ticket #000003 a en proceso y asígnalo a Ana", "marca el ticket 3 como
    resuelto: se reinició el router" (comentario) o "reabre el ticket 3" (estado abierto). Indique
    al menos un cambio. Un paso no permitido por la tabla de estados se rechaza nombrando los
    estados posibles; resuelto fija la fecha de resolución y reabrir la borra. Si no sabe el número
    del ticket, búsquelo antes con listarTickets.
    """
    )
    return await ejecutar(
        ctx, seguimiento.actualizar_ticket, ticket_id=ticketId, estado=estado, prioridad=prioridad,
        asignado_a=asignadoA, comentario=comentario, version=version,
    )


def registrar(server: MCPServer) -> None:
    publicar(server, crear_ticket, "crearTicket", "Crear ticket", ESCRITURA, Tipo.CREACION)
    publicar(server, listar_tickets, "listarTickets", "Listar tickets", LECTURA, Tipo.CONSULTA)
    publicar(server, actualizar_ticket, "actualizarTicket", "Actualizar ticket", ACTUALIZACION, Tipo.ACTUALIZACION)
