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
    server.prompt(name="atender_cliente", title="Atender a un cliente")(atender_cliente)
