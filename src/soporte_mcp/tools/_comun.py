"""What every tool adapter shares: the caller for the audit trail and the one error translation."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from sqlalchemy.exc import DBAPIError

from soporte_mcp.db.engine import describe_db_error
from soporte_mcp.errors import SoporteError
from soporte_mcp.observabilidad import medir_llamada
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.state import AppState

T = TypeVar("T")
log = logging.getLogger(__name__)

LECTURA = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# Writes that add a record: never destructive, and a repeat adds another one.
ESCRITURA = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)


def publicar(server: MCPServer, fn: Callable[..., Any], nombre: str, titulo: str, anotaciones: ToolAnnotations) -> None:
    """Register ``fn`` as the tool ``nombre``; its docstring, dedented, is what the model reads."""
    server.tool(name=nombre, title=titulo, description=inspect.cleandoc(fn.__doc__ or ""), annotations=anotaciones)(fn)


def estado(ctx: Context) -> AppState:
    return ctx.request_context.lifespan_context


def llamada(ctx: Context, herramienta: str, argumentos: Mapping[str, Any]) -> Llamada:
    """Who is calling: the token's name (over HTTP with auth), the MCP client's name and
    version, and the address over HTTP."""
    token = get_access_token()
    cliente = _cliente(ctx)
    if token is None:
        return Llamada(herramienta=herramienta, argumentos=argumentos, usuario=cliente, ip=_direccion(ctx))
    quien = token.subject or token.client_id
    return Llamada(
        herramienta=herramienta,
        argumentos=argumentos,
        usuario=f"{quien} ({cliente})" if cliente else quien,
        ip=_direccion(ctx),
        puede_escribir="write" in token.scopes,
    )


def _cliente(ctx: Context) -> str | None:
    params = ctx.session.client_params
    if params is None:
        return None
    info = params.client_info
    return f"{info.name} {info.version}".strip()


def _direccion(ctx: Context) -> str | None:
    cliente = getattr(ctx.request_context.request, "client", None)
    return getattr(cliente, "host", None)


async def ejecutar(
    ctx: Context,
    herramienta: str,
    argumentos: Mapping[str, Any],
    servicio: Callable[..., T],
    *,
    en_hilo: bool = False,
    **kwargs: Any,
) -> T:
    """Run ``servicio(db=..., llamada=..., **kwargs)`` for a tool call.

    ``argumentos`` are the tool's arguments as the client sent them, for the
    audit row.  A domain refusal becomes a tool error (``isError``) whose text
    tells the model what to do next.  ``en_hilo`` runs a slow service in a
    worker thread even on SQLite (see ``Database.run``).
    """
    app = estado(ctx)
    origen = llamada(ctx, herramienta, argumentos)
    # Metrics, trace attributes and the JSON log line of the call (soporte_mcp.observabilidad).
    with medir_llamada(herramienta, llamante=origen.usuario, peticion=ctx.request_context.request,
                       jsonrpc_id=ctx.request_id):
        try:
            correr = app.db.run_en_hilo if en_hilo else app.db.run
            return await correr(servicio, db=app.db, llamada=origen, **kwargs)
        except SoporteError as exc:
            raise ToolError(exc.mensaje) from exc
        except DBAPIError as exc:
            # Locked or unreachable database: say so, so that the model can retry or tell the user.
            log.warning("%s: %s", herramienta, describe_db_error(exc))
            raise ToolError(
                "La base de datos no respondió a tiempo; no se hizo ningún cambio. Reintente en unos segundos."
            ) from exc
