"""SSE responses only for the HTTP sessions that may be asked to confirm a payment.

The HTTP app answers JSON (measured faster, see http.py), and a JSON body
carries only the response: on protocol 2025-11-25 the server then has no way to
send ``elicitation/create`` in the middle of a call.  A session whose client
declared elicitation in its ``initialize`` is therefore opened in SSE mode (its
requests answer as event streams, which can carry the question); every other
session, and all of protocol 2026-07-28 (whose question travels inside the
call's result), stays JSON.

The decision is per session because the SDK fixes the response mode of a
session's transport when it admits the session; ``sse_para_formularios`` wraps
the session manager's admission for that (a private SDK method: the HTTP tests
of the confirmation fail if an SDK upgrade changes it).  Stateless apps (several
workers) are left alone: there a 2025-11-25 client cannot answer mid-call at all.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# An `initialize` is a few hundred bytes; a bigger opening body is not read here, just passed on.
CUERPO_MAXIMO = 64 * 1024

_con_formularios: ContextVar[bool] = ContextVar("soporte_sesion_con_formularios", default=False)


def sse_para_formularios(server: MCPServer, app: Starlette, *, ruta: str) -> None:
    """Make ``app`` answer with SSE the new sessions of clients that declared elicitation (stateful apps only).

    Added as a middleware, so ``app`` stays the Starlette app (its routes, the /admin mount).
    """
    manager = server.session_manager
    admitir = manager._admit_session

    def admitir_con_formularios(*args: Any, **kwargs: Any) -> Any:
        transporte = admitir(*args, **kwargs)
        if transporte is not None and _con_formularios.get():
            transporte.is_json_response_enabled = False
        return transporte

    manager._admit_session = admitir_con_formularios
    app.add_middleware(_AperturaConFormularios, ruta=ruta)


class _AperturaConFormularios:
    """Reads the opening request of a session and tells the admission whether its client answers forms."""

    def __init__(self, app: ASGIApp, ruta: str) -> None:
        self.app = app
        self.ruta = ruta

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._es_apertura(scope):
            await self.app(scope, receive, send)
            return
        leidos, cuerpo = await _leer(receive)
        token = _con_formularios.set(pide_formularios(cuerpo))
        try:
            await self.app(scope, _repetir(leidos, receive), send)
        finally:
            _con_formularios.reset(token)

    def _es_apertura(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.ruta:
            return False
        cabeceras = dict(scope["headers"])
        # A 2026-07-28 request names its method in a header, and opens no session: no body to read
        # (every stateless call would otherwise pay a JSON parse here).
        if b"mcp-method" in cabeceras:
            return False
        # SSE answers need a client that accepts them (the spec requires both; a JSON-only one stays JSON).
        return b"mcp-session-id" not in cabeceras and b"text/event-stream" in cabeceras.get(b"accept", b"")


def pide_formularios(cuerpo: bytes | None) -> bool:
    """Whether ``cuerpo`` is a 2025-11-25-style ``initialize`` whose client can answer a form."""
    if not cuerpo:
        return False
    try:
        mensaje = json.loads(cuerpo)
    except ValueError:
        return False
    if not isinstance(mensaje, dict) or mensaje.get("method") != "initialize":
        return False
    params = mensaje.get("params") or {}
    capacidades = params.get("capabilities") if isinstance(params, dict) else None
    elicitation = capacidades.get("elicitation") if isinstance(capacidades, dict) else None
    if not isinstance(elicitation, dict):
        return False
    solo_url = "url" in elicitation and "form" not in elicitation
    return not solo_url and params.get("protocolVersion") in HANDSHAKE_PROTOCOL_VERSIONS


async def _leer(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The body's messages as received, and the body (None when it is larger than CUERPO_MAXIMO)."""
    leidos: list[Message] = []
    cuerpo = b""
    while True:
        mensaje = await receive()
        leidos.append(mensaje)
        if mensaje["type"] != "http.request":
            return leidos, None
        cuerpo += mensaje.get("body", b"")
        if len(cuerpo) > CUERPO_MAXIMO:
            return leidos, None
        if not mensaje.get("more_body", False):
            return leidos, cuerpo


def _repetir(leidos: list[Message], receive: Receive) -> Callable[[], Awaitable[Message]]:
    pendientes = list(leidos)

    async def recibir() -> Message:
        return pendientes.pop(0) if pendientes else await receive()

    return recibir
