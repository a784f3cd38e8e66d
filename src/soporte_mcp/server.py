"""The MCP server: assembles tools, resources and the prompt around a database lifespan.

Nothing imported here brings SQLAlchemy: a stdio host waits for ``initialize`` and
``tools/list`` before anything else, and this server answers both before it opens
its database (db/perezosa.py, issue 13). For the same reason ``tools/list`` is
answered from the published catalogue (tools/catalogo.py), and over stdio the
tools themselves are built when the first call needs them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver import server as _sdk_server
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.request_state import RequestStateSecurity
from mcp.shared.inbound import x_mcp_header_map
from mcp.types import CallToolResult, InputRequiredResult
from mcp.types import Tool as MCPTool
from pydantic import ValidationError

from soporte_mcp import __version__
from soporte_mcp.config import Settings
from soporte_mcp.db.perezosa import BasePerezosa, para_servir
from soporte_mcp.dominio import Llamada, Tipo
from soporte_mcp.errors import BaseDeDatosNoDisponible, ErrorInterno, HerramientaDesconocida, Rechazo, SoporteError
from soporte_mcp.observabilidad import medir_llamada
from soporte_mcp.observabilidad.llamadas import clasificar
from soporte_mcp.perezoso import perezoso
from soporte_mcp.recursos import registrar_recursos
from soporte_mcp.state import AppState
from soporte_mcp.tools import catalogo
from soporte_mcp.tools._comun import TIPOS, estado, llamada, peticion
from soporte_mcp.tools._errores import argumento_invalido, resultado_de_error
from soporte_mcp.vistas import SoloConApps, apps_con_vistas

if TYPE_CHECKING:
    from soporte_mcp.db.engine import Database

log = logging.getLogger(__name__)
auditoria = perezoso("soporte_mcp.services.auditoria")  # imported by the first refused call

INSTRUCCIONES = (
    "Herramientas de un equipo de atención al cliente: buscar clientes, consultar saldos, abrir, listar y "
    "actualizar tickets, registrar, listar y anular pagos, y ver estadísticas. Use siempre las herramientas en "
    "lugar de suponer datos; busque el id del cliente con buscarCliente cuando solo tenga su nombre o email, y "
    "el de un ticket o un pago con listarTickets o listarPagos cuando el usuario no lo dé; "
    "si el cliente o el monto de un pago o de una anulación no están claros, pregunte antes de hacerlo. "
    "Los importes son dólares con dos decimales."
)


@contextmanager
def _registro_ya_configurado() -> Iterator[None]:
    """While the SDK builds the server: skip its logging set-up when the root logger has its handler.

    ``MCPServer.__init__`` calls ``configure_logging``, which imports rich and builds a
    ``RichHandler`` for ``logging.basicConfig``; basicConfig does nothing at all when the
    root logger already has a handler, and ours has (``registro.configurar``, called by
    every command first). That import was ≈ 20 ms of a stdio cold start of ≈ 460 ms, for
    nothing (issue 13). Without a handler on the root (a server built by a library
    user), the SDK's set-up runs as it always did.
    """
    original = _sdk_server.configure_logging

    def configurar(level: Any = "INFO") -> None:
        if not logging.getLogger().handlers:
            original(level)

    _sdk_server.configure_logging = configurar
    try:
        yield
    finally:
        _sdk_server.configure_logging = original


class ServidorSoporte(MCPServer[AppState]):
    """MCPServer whose tool calls fail only one way: a Spanish message with a stable code.

    The SDK wraps every failure of a tool in a ``ToolError`` (its English text
    prefixed ``Error executing tool X:``); here the cause is unwrapped and
    answered with ``resultado_de_error``. Calls refused before any adapter ran
    (arguments that do not fit the schema, an unknown tool) get their audit
    row here, since no service saw them.

    ``tools/list`` is answered from the catalogue (tools/catalogo.py), and the
    tools are registered by ``registrar_herramientas``: at once by ``build_server``
    on an open database, else by the first call or in the background after the
    first ``tools/list`` (issue 13).
    """

    def __init__(self, *args: Any, confirmar_pagos: str = "auto", **kwargs: Any) -> None:
        self._esquemas_de_cabeceras: dict[str, dict[str, Any] | None] = {}
        with _registro_ya_configurado():
            super().__init__(*args, **kwargs)
        self._confirmar_pagos = confirmar_pagos
        self._registradas = False
        self._cerrojo_registro = threading.Lock()

    def registrar_herramientas(self) -> None:
        """Build and register the tools (their models, validators and schemas), once, from any thread."""
        if self._registradas:
            return
        with self._cerrojo_registro:
            if self._registradas:
                return
            from soporte_mcp.tools import _confirmacion, registrar_herramientas

            registrar_herramientas(self)
            if self._confirmar_pagos != "nunca":
                _confirmacion.declarar(self)
            self._registradas = True

    async def list_tools(self) -> list[MCPTool]:
        return catalogo.herramientas(self._confirmar_pagos)

    async def preparar_tras_listar(
        self, ctx: ServerRequestContext[AppState, Any], call_next: CallNext
    ) -> HandlerResult:
        """Middleware: once the first ``tools/list`` is answered, build the tools and open the database in
        the background, for the first call.

        Not earlier: that work (SQLAlchemy's import above all) would compete with the
        handshake for the interpreter; not later: the host's first call should find it
        done. A call that comes first does it itself (see db/perezosa.py).
        """
        resultado = await call_next(ctx)
        if ctx.method == "tools/list":
            ctx.lifespan_context.base.en_segundo_plano(antes=self.registrar_herramientas)
        return resultado

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        """The schema the SDK checks a call's ``Mcp-Param-*`` headers against, None when it declares none.

        The SDK walks the whole input schema on every HTTP call looking for ``x-mcp-header``
        properties (≈ 26 positions for registrarPago, ≈ 8 % of a payment's event-loop time in
        issue 13's profile); ours declare none, and with none the check can only pass, so it is
        answered once per tool.
        """
        if name not in self._esquemas_de_cabeceras:
            esquema = super()._tool_input_schema(name)
            if esquema is None:  # not (yet) a tool: nothing to remember
                return None
            self._esquemas_de_cabeceras[name] = esquema if x_mcp_header_map(esquema) else None
        return self._esquemas_de_cabeceras[name]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context | None = None
    ) -> CallToolResult | InputRequiredResult:
        if not self._registradas:  # usually done in the background already; else ~40 ms once, off the loop
            await anyio.to_thread.run_sync(self.registrar_herramientas)
        # medir_llamada: metrics, trace attributes and the JSON log line of the call (soporte_mcp.observabilidad).
        contexto = context.request_context if context is not None else None
        origen = llamada(context, name, arguments, contexto) if context is not None else None
        app = contexto.lifespan_context if contexto is not None else None
        with peticion(name, arguments, origen, app), medir_llamada(**_medible(contexto, name, origen)) as medida:
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as exc:
                medida.resultado = clasificar(exc) if name in TIPOS else "rechazado"
                return await self._rechazo(name, arguments, context, exc)

    async def _rechazo(
        self, name: str, arguments: dict[str, Any], context: Context | None, exc: ToolError
    ) -> CallToolResult:
        causa = exc.__cause__
        if isinstance(causa, SoporteError):  # a service refused (and audited) it
            nivel = logging.WARNING if causa.reintentable else logging.INFO  # a database outage is the operator's
            log.log(nivel, "%s rechazada (%s): %s", name, causa.codigo, causa.mensaje)
            return resultado_de_error(causa)
        if isinstance(causa, ValidationError):
            error: SoporteError = argumento_invalido(name, causa, self._tool_manager.get_tool(name).parameters)
        elif name not in TIPOS:
            error = HerramientaDesconocida(name, list(TIPOS))
        else:  # a bug: the operation has recorded it as "error"; the details stay in the log
            log.error("%s falló", name, exc_info=causa or exc)
            return resultado_de_error(ErrorInterno(
                f"Error interno del servidor en {name}; no se completó la operación. "
                "Informe al equipo técnico; no repita la llamada hasta que lo revisen."
            ))
        if context is not None:
            await self._auditar(context, name, arguments, error)
        return resultado_de_error(error)

    @staticmethod
    async def _auditar(context: Context, name: str, arguments: dict[str, Any], error: Rechazo) -> None:
        try:
            db = await estado(context).db()
        except BaseDeDatosNoDisponible:  # logged where the open failed; the caller's own error matters more
            log.warning("%s rechazada (%s) sin registro en el historial: la base de datos no está disponible",
                        name, error.codigo)
            return
        tipo = TIPOS.get(name, Tipo.CONSULTA)
        correr = db.escribir if tipo.escribe else db.run  # a write's row waits for the lock off the loop
        await correr(auditoria.registrar_fallo, db, llamada(context, name, arguments), tipo, error)


def _medible(contexto: ServerRequestContext[AppState, Any] | None, name: str, origen: Llamada | None) -> dict[str, Any]:
    # A name the client made up must not become a metrics label of its own.
    herramienta = name if name in TIPOS else "desconocida"
    if contexto is None or origen is None:
        return {"herramienta": herramienta}
    return {"herramienta": herramienta, "llamante": origen.usuario,
            "peticion": contexto.request, "jsonrpc_id": contexto.request_id}


def _sello(settings: Settings) -> RequestStateSecurity | None:
    """The key that seals a confirmation's requestState: shared by every worker when configured,
    else the SDK's own per-process key (enough for stdio and for one HTTP process)."""
    secreto = settings.request_state_secret
    return RequestStateSecurity(keys=[secreto.get_secret_value()]) if secreto else None


def build_server(
    settings: Settings | None = None,
    db: Database | BasePerezosa | None = None,
    *,
    auth: tuple[TokenVerifier | None, AuthSettings | None] = (None, None),
) -> ServidorSoporte:
    """A ready MCPServer on ``db``: an open ``Database`` (its owner disposes it), a ``BasePerezosa``
    (its owner closes it; ``serve`` over stdio passes one) or None, for a ``BasePerezosa`` of the
    configured database that the lifespan closes.  Either lazy kind opens after the first
    ``tools/list`` or at the first call, and on SQLite creates or upgrades the schema; the
    tools are then built at that time too (on an open database, here).

    ``auth`` (from ``soporte_mcp.auth.autenticacion``) turns on bearer
    authentication for HTTP: every request needs the ``read`` scope; writing
    tools also need ``write``.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(_server: MCPServer[AppState]) -> AsyncIterator[AppState]:
        if db is not None:  # the caller's: it closes or disposes it
            yield AppState(settings=settings, base=db if isinstance(db, BasePerezosa) else BasePerezosa.abierta(db))
            return
        base = para_servir(settings)
        try:
            yield AppState(settings=settings, base=base)
        finally:
            base.cerrar()

    server = ServidorSoporte(
        "soporte-mcp",
        title="Soporte",
        version=__version__,
        instructions=INSTRUCCIONES,
        lifespan=lifespan,
        log_level=settings.log_level.upper(),
        token_verifier=auth[0],
        auth=auth[1],
        extensions=[apps_con_vistas()], middleware=[SoloConApps()],  # MCP Apps: soporte_mcp/vistas
        request_state_security=_sello(settings),
        confirmar_pagos=settings.confirmar_pagos,
    )
    server.middleware.append(server.preparar_tras_listar)
    if db is not None and not isinstance(db, BasePerezosa):
        server.registrar_herramientas()  # HTTP and the tests: the server starts whole
    registrar_recursos(server)
    return server
