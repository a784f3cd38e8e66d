"""Resources (cliente://{id}, ticket://{id}, pago://{id}) and the prompt that opens a support conversation."""

from __future__ import annotations

from collections.abc import Callable

from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS
from pydantic import BaseModel

from soporte_mcp.errors import DatoInvalido, Rechazo, SoporteError
from soporte_mcp.perezoso import perezoso
from soporte_mcp.tools._comun import estado, llamada
from soporte_mcp.tools._errores import CLAVE_META

# Imported by the first read (see tools/clientes.py: no SQLAlchemy before the handshake).
clientes = perezoso("soporte_mcp.services.clientes")
movimientos = perezoso("soporte_mcp.services.movimientos")
tickets = perezoso("soporte_mcp.services.tickets")


async def _leer(ctx: Context, uri: str, servicio: Callable[..., BaseModel], ident: str) -> str:
    """Read one record for a resource, audited like a tool call; refusals are JSON-RPC errors with their code.

    Raises:
        MCPError: INVALID_PARAMS for a bad or unknown id, INTERNAL_ERROR when the database fails;
            ``data`` carries the uri and the code, as a tool error carries it in structuredContent.
    """
    app = estado(ctx)
    origen = llamada(ctx, uri, {"uri": uri})
    try:
        if not ident.isdigit():
            raise DatoInvalido(f"Id no válido en {uri}: se espera un número, p. ej. {uri.split('://')[0]}://2.")
        db = await app.db()
        modelo = await db.run(servicio, db=db, llamada=origen, ident=int(ident))
    except SoporteError as exc:
        codigo = INVALID_PARAMS if isinstance(exc, Rechazo) else INTERNAL_ERROR
        raise MCPError(code=codigo, message=exc.mensaje,
                       data={"uri": uri, "codigo": exc.codigo, CLAVE_META: exc.codigo}) from exc
    return modelo.model_dump_json(indent=2)


async def cliente(id: str, ctx: Context) -> str:
    """Ficha de un cliente en JSON: datos de contacto, saldo y si está activo."""
    return await _leer(ctx, f"cliente://{id}", clientes.ficha_cliente, id)


async def ticket(id: str, ctx: Context) -> str:
    (  # the description clients read, split only to fit the line (one string, unchanged)
        "Un ticket de soporte en JSON: título, descripción, estado, prioridad, fechas, versión y su historial "
        "de cambios."
    )
    return await _leer(ctx, f"ticket://{id}", tickets.ficha_ticket, id)


async def pago(id: str, ctx: Context) -> str:
    """Un pago en JSON: monto, método, fecha, sus anulaciones y lo que aún puede anularse."""
    return await _leer(ctx, f"pago://{id}", movimientos.ficha_pago, id)


def atender_cliente(cliente: str) -> str:
    """Guía para atender a un cliente por su nombre o email usando las herramientas de soporte."""
    return (
        f"Usted va a atender al cliente «{cliente}» como agente de soporte. Responda en español y trate "
        "al cliente de usted.\n"
        "1. Llame a buscarCliente con ese nombre o email. Si hay varios candidatos, muéstrelos "
        "(nombre, email, id) y pregunte cuál es; si no hay ninguno, pida otro dato.\n"
        "2. Con el id, llame a consultarSaldo y resuma su saldo, sus últimos pagos y sus tickets abiertos.\n"
        "3. Pregunte en qué puede ayudarle. Para un problema, use crearTicket (\"urgente\" → alta). "
        "Para un pago, confirme monto y método antes de llamar a registrarPago, y comunique el saldo nuevo.\n"
        "Nunca invente datos: todo lo que diga del cliente debe venir de las herramientas."
    )


def registrar_recursos(server: MCPServer) -> None:
    server.resource("cliente://{id}", name="cliente", mime_type="application/json")(cliente)
    server.resource("ticket://{id}", name="ticket", mime_type="application/json")(ticket)
    server.resource("pago://{id}", name="pago", mime_type="application/json")(pago)
    server.prompt(name="atender_cliente", title="Atender a un cliente")(atender_cliente)
