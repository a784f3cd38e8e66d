"""Resources (cliente://{id}, ticket://{id}) and the prompt that opens a support conversation."""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from soporte_mcp.errors import NoEncontrado
from soporte_mcp.services.clientes import obtener_cliente
from soporte_mcp.services.tickets import obtener_ticket
from soporte_mcp.tools._comun import estado


async def _leer(ctx: Context, lector, ident: str) -> str:  # noqa: ANN001
    if not ident.isdigit():
        raise ResourceNotFoundError(f"id no válido: {ident!r} (se espera un número)")
    db = estado(ctx).db

    def leer() -> str:
        with db.lectura() as conn:
            return lector(conn, int(ident)).model_dump_json(indent=2)

    try:
        return await db.run(leer)
    except NoEncontrado as exc:
        raise ResourceNotFoundError(exc.mensaje) from exc


async def cliente(id: str, ctx: Context) -> str:  # noqa: A002 - the URI template's variable
    """Ficha de un cliente en JSON: datos de contacto, saldo y si está activo."""
    return await _leer(ctx, obtener_cliente, id)


async def ticket(id: str, ctx: Context) -> str:  # noqa: A002
    """Un ticket de soporte en JSON: título, descripción, estado, prioridad y fechas."""
    return await _leer(ctx, obtener_ticket, id)


def atender_cliente(cliente: str) -> str:
    """Guía para atender a un cliente por su nombre o email usando las herramientas de soporte."""
    return (
        f"Vas a atender al cliente «{cliente}» como agente de soporte. Responde en español.\n"
        "1. Llama a buscarCliente con ese nombre o email. Si hay varios candidatos, muéstralos "
        "(nombre, email, id) y pregunta cuál es; si no hay ninguno, pide otro dato.\n"
        "2. Con el id, llama a consultarSaldo y resume su saldo, sus últimos pagos y sus tickets abiertos.\n"
        "3. Pregunta en qué puedes ayudar. Para un problema, usa crearTicket (\"urgente\" → alta). "
        "Para un pago, confirma monto y método antes de llamar a registrarPago, y comunica el saldo nuevo.\n"
        "Nunca inventes datos: todo lo que digas del cliente debe venir de las herramientas."
    )


def registrar_recursos(server: MCPServer) -> None:
    server.resource("cliente://{id}", name="cliente", mime_type="application/json")(cliente)
    server.resource("ticket://{id}", name="ticket", mime_type="application/json")(ticket)
    server.prompt(name="atender_cliente", title="Atender a un cliente")(atender_cliente)
