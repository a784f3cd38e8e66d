"""crearTicket."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from soporte_mcp.db.models import PRIORIDADES
from soporte_mcp.services import tickets as servicio
from soporte_mcp.services.auditoria import Tipo
from soporte_mcp.services.schemas import TicketCreado
from soporte_mcp.tools._comun import ESCRITURA, ejecutar, publicar
from soporte_mcp.tools.clientes import ClienteId


async def crear_ticket(
    clienteId: ClienteId,  # noqa: N803
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


def registrar(server: MCPServer) -> None:
    publicar(server, crear_ticket, "crearTicket", "Crear ticket", ESCRITURA, Tipo.CREACION)
