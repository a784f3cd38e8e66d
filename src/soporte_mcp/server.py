"""The MCP server: assembles tools, resources and the prompt around a database lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from soporte_mcp import __version__
from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.db.migrate import ensure_schema
from soporte_mcp.recursos import registrar_recursos
from soporte_mcp.state import AppState
from soporte_mcp.tools import registrar_herramientas
from soporte_mcp.vistas import SoloConApps, apps_con_vistas

log = logging.getLogger(__name__)

INSTRUCCIONES = (
    "Herramientas de un equipo de atención al cliente: buscar clientes, consultar saldos, abrir tickets, "
    "registrar pagos y ver estadísticas. Use siempre las herramientas en lugar de suponer datos; "
    "busque el id del cliente con buscarCliente cuando solo tenga su nombre o email; "
    "si el cliente o el monto de un pago no están claros, pregunte antes de registrarlo. "
    "Los importes son dólares con dos decimales."
)


def build_server(
    settings: Settings | None = None,
    db: Database | None = None,
    *,
    auth: tuple[TokenVerifier | None, AuthSettings | None] = (None, None),
) -> MCPServer[AppState]:
    """A ready MCPServer.  Without ``db`` the lifespan opens (and on SQLite migrates) the configured one.

    ``auth`` (from ``soporte_mcp.auth.autenticacion``) turns on bearer
    authentication for HTTP: every request needs the ``read`` scope; writing
    tools also need ``write``.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(_server: MCPServer[AppState]) -> AsyncIterator[AppState]:
        if db is not None:  # the caller opened it and made sure of its schema (soporte-mcp serve does)
            yield AppState(settings=settings, db=db)
            return
        database = Database.from_url(settings.database_url)
        try:
            ensure_schema(database)
            yield AppState(settings=settings, db=database)
        finally:
            database.dispose()

    server: MCPServer[AppState] = MCPServer(
        "soporte-mcp",
        title="Soporte",
        version=__version__,
        instructions=INSTRUCCIONES,
        lifespan=lifespan,
        log_level=settings.log_level.upper(),
        token_verifier=auth[0],
        auth=auth[1],
        extensions=[apps_con_vistas()], middleware=[SoloConApps()],  # MCP Apps: soporte_mcp/vistas
    )
    registrar_herramientas(server)
    registrar_recursos(server)
    return server
