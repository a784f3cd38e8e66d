"""The streamable-HTTP application: MCP at /mcp, /health checks, and /metrics for Prometheus."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import socket
from collections.abc import Sequence
from contextlib import suppress

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from soporte_mcp import __version__
from soporte_mcp.auth import autenticacion
from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.limites import CubetasRedis, LimiteDeTasa
from soporte_mcp.observabilidad import metricas, trazas
from soporte_mcp.red import es_loopback

MCP_PATH = "/mcp"
METRICS_PATH = "/metrics"
# The scope a bearer token needs for /metrics (a Prometheus scraper's token needs nothing else).
SCOPE_METRICAS = "metrics"
# How `serve --workers N` hands its worker processes (new interpreters that build their own app)
# the whole validated Settings and where to listen: one JSON document (see entorno_trabajador).
ENV_TRABAJADOR = "SOPORTE_TRABAJADOR_JSON"
# Without it (bench/servir.py), a worker reads the SOPORTE_* variables like any Settings, and this host.
ENV_HOST = "SOPORTE_HTTP_HOST"

log = logging.getLogger(__name__)


def build_http_app(
    server: MCPServer,
    db: Database,
    *,
    host: str = "127.0.0.1",
    stateless: bool = False,
    allowed_hosts: Sequence[str] = (),
    settings: Settings | None = None,
) -> ASGIApp:
    """An ASGI app for ``server``.

    DNS-rebinding protection is on for a loopback ``host`` (the SDK's default)
    and for the real host names in ``allowed_hosts`` (any other Host → 421,
    Origin → 403).  JSON responses rather than SSE streams: our tools answer in
    one message, and JSON was measured 16-40% faster (see MCP-SDK-V2 notes).
    ``stateless`` lets any worker process answer any request (no server-side sessions).
    ``settings`` bring the per-credential rate limit (see soporte_mcp.limites, shared
    through Redis when they name one) and, when they configure it, the /admin panel
    (see soporte_mcp.admin).  /metrics is served too (see ``metricas_autorizadas``).

    Raises:
        ConfiguracionInvalida: the panel is configured only in part, or with unusable credentials.
    """

    redis = _cubetas_redis(settings)

    async def health(_request: Request) -> JSONResponse:
        try:
            await db.run(db.ping)
        except BaseDeDatosNoDisponible as exc:
            return JSONResponse({"status": "error", "database": exc.mensaje}, status_code=503)
        cuerpo = {"status": "ok", "database": "ok", "version": __version__}
        if redis is None:
            return JSONResponse(cuerpo)
        if await redis.responde():
            return JSONResponse(cuerpo | {"redis": "ok"})
        # Without Redis an instance in "open" mode still serves (per-process limits): it stays ready.
        cerrado = settings.redis_failure_mode == "closed"
        return JSONResponse(cuerpo | {"status": "error" if cerrado else "ok", "redis": "no responde"},
                            status_code=503 if cerrado else 200)

    async def vivo(_request: Request) -> JSONResponse:
        # Liveness: the process answers. Never touches the database, so that an outage of the
        # database makes the instance unready (/health 503) without getting it restarted.
        return JSONResponse({"status": "ok"})

    server.custom_route("/health", methods=["GET"], name="health")(health)
    server.custom_route("/health/live", methods=["GET"], name="live")(vivo)
    server.custom_route(METRICS_PATH, methods=["GET"], name="metrics")(metricas_autorizadas)
    _observar(server, db)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        json_response=True,
        stateless_http=stateless,
        host=host,
        transport_security=seguridad_de_transporte(allowed_hosts, host),
    )
    panel = settings.panel_admin() if settings else None
    if panel:
        from soporte_mcp.admin import montar_admin

        montar_admin(app, db, **panel, zona=settings.zone)
    app.add_middleware(EnCurso)
    if not stateless and (settings is None or settings.confirmar_pagos != "nunca"):
        from soporte_mcp.formularios_http import sse_para_formularios

        sse_para_formularios(server, app, ruta=MCP_PATH)
    limite = settings.limite_por_minuto() if settings else 0
    if limite <= 0:
        return app
    return LimiteDeTasa(app, por_minuto=limite, ruta=MCP_PATH, redis=redis, sin_redis=settings.redis_failure_mode)


def _cubetas_redis(settings: Settings | None) -> CubetasRedis | None:
    if settings is None or not settings.redis_url or settings.limite_por_minuto() <= 0:
        return None
    return CubetasRedis(settings.redis_url, por_minuto=settings.limite_por_minuto())


def _observar(server: MCPServer, db: Database) -> None:
    """Metrics on (with every tool at 0), database errors counted, database spans when tracing is on."""
    metricas.activar(tuple(sorted(t.name for t in server._tool_manager.list_tools())))
    metricas.contar_errores_de(db.engine)
    if trazas.activas():
        trazas.instrumentar_motor(db.engine)


async def metricas_autorizadas(request: Request) -> Response:
    """/metrics in the Prometheus text format, for a token with the ``metrics`` scope.

    Without authentication configured, only for loopback clients (a scraper on the
    same machine, or an operator's curl).
    """
    if "auth" in request.scope:  # the SDK's AuthenticationMiddleware ran: bearer auth is configured
        if not request.user.is_authenticated:
            return JSONResponse({"error": "falta el token (Authorization: Bearer ...)"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        if SCOPE_METRICAS not in request.auth.scopes:
            return JSONResponse({"error": f"el token no tiene el scope {SCOPE_METRICAS!r}"}, status_code=403)
    elif request.client is None or not es_loopback(request.client.host):
        return JSONResponse({"error": "/metrics sin autenticación solo responde en loopback"}, status_code=403)
    cuerpo, tipo = await anyio.to_thread.run_sync(metricas.exposicion)
    return Response(cuerpo, media_type=tipo)


class EnCurso:
    """ASGI middleware: HTTP requests in flight, for the ``soporte_solicitudes_en_curso`` gauge (not /metrics)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        with metricas.en_curso():
            await self.app(scope, receive, send)


LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def seguridad_de_transporte(allowed_hosts: Sequence[str], host: str) -> TransportSecuritySettings | None:
    """Host/Origin checks for the names the operator serves under (None: the SDK's loopback default).

    On a loopback address the loopback names stay allowed too, for local clients and probes.
    """
    if not allowed_hosts:
        return None
    nombres = [*allowed_hosts, *(LOOPBACK if es_loopback(host) else ())]
    hosts = ([h if ":" in h.removeprefix("[::1]") else f"{h}:*" for h in nombres]
             + [h.split(":")[0] for h in allowed_hosts])
    origins = [f"{esquema}://{h}" for h in hosts for esquema in ("http", "https")]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


def entorno_trabajador(settings: Settings, *, host: str, allowed_hosts: Sequence[str]) -> dict[str, str]:
    """The environment a worker of ``serve --workers N`` needs: every setting, already validated.

    The whole model travels (secrets in clear: the variable goes only to our own child
    processes, which inherit the SOPORTE_ADMIN_* secrets from the environment anyway), so
    a new setting reaches the workers without a list to keep in step.
    """
    ajustes = {campo: valor.get_secret_value() if isinstance(valor, SecretStr) else valor
               for campo, valor in settings.model_dump().items()}
    documento = {"ajustes": ajustes, "host": host, "allowed_hosts": list(allowed_hosts)}
    return {ENV_TRABAJADOR: json.dumps(documento, default=str)}


def ajustes_de_trabajador() -> tuple[Settings, str, list[str]]:
    """What :func:`entorno_trabajador` wrote: the settings, the host and the allowed host names."""
    crudo = os.environ.get(ENV_TRABAJADOR)
    if crudo is None:
        return Settings(), os.environ.get(ENV_HOST, "127.0.0.1"), []
    documento = json.loads(crudo)
    return Settings(**documento["ajustes"]), documento["host"], documento["allowed_hosts"]


def app_desde_entorno() -> ASGIApp:
    """The app of one worker of ``serve --workers N`` (see :func:`entorno_trabajador`)."""
    from soporte_mcp.observabilidad.arranque import en_trabajador
    from soporte_mcp.server import build_server

    settings, host, hosts = ajustes_de_trabajador()
    en_trabajador(settings)
    log.info("proceso %d listo: zona %s, límite %d/min, registro %s", os.getpid(), settings.timezone,
             settings.limite_por_minuto(), settings.log_level)
    db = Database.from_url(settings.database_url)
    app = build_http_app(
        build_server(settings, db, auth=autenticacion(settings)), db, host=host,
        stateless=True, allowed_hosts=hosts, settings=settings,
    )
    congelar_lo_construido()
    return app


def congelar_lo_construido() -> None:
    """Leave what the process has built so far (modules, the app, its schemas) out of every future collection.

    Why (issue 13): the cyclic garbage collector's older generations walk every object the
    process holds, ≈ 140,000 once the app is built; measured over 3,000 searches it took
    39 µs a call, 11 µs with them frozen (``gc.freeze``, the standard library's advice for
    servers).  Only the serving processes call it, once the app is ready: what they free
    later is still collected as usual.
    """
    gc.freeze()


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's HTTP protocol with Nagle's algorithm off on every connection.

    With ``--workers`` uvicorn binds the socket itself with ``proto=0``, and
    asyncio only sets TCP_NODELAY when ``proto == IPPROTO_TCP``: every small
    response then waited for the peer's delayed ACK (≈ 40 ms per request).
    """

    def connection_made(self, transport) -> None:  # noqa: ANN001
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


class SoporteH11Protocol(NoDelayH11Protocol):
    """``NoDelayH11Protocol`` whose answers leave in one send each (``EscrituraAgrupada``): what
    ``soporte-mcp serve`` runs.  bench/'s no-op reference keeps uvicorn's plain writes."""

    def connection_made(self, transport) -> None:  # noqa: ANN001
        super().connection_made(EscrituraAgrupada(transport, self.loop))


class EscrituraAgrupada:
    """A connection's transport whose small writes made in one step of the event loop leave in one send.

    Why (issue 13): uvicorn writes an answer's status line and headers as soon as the app
    starts it, and its body next, in the same step: two ``send`` calls, two TCP segments
    and two wake-ups of the client for one answer.  On loopback the kernel's side of a
    send is ≈ 10 % of a worker's time on a ``consultarSaldo`` under load (py-spy), and
    writing both as one made that row ≈ 10 % faster over four alternating pairs with wrk.
    Here a write is held until the end of the step (``call_soon``) and sent together
    with whatever follows it.  Big writes (≥ ``LIMITE`` with what waits) go at once,
    so that uvicorn's flow control still sees the bytes it writes; ``close`` sends what
    waits first.  Everything else is the real transport's.
    """

    LIMITE = 64 * 1024

    __slots__ = ("_transporte", "_loop", "_pendiente", "_tamano")

    def __init__(self, transporte: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transporte = transporte
        self._loop = loop
        self._pendiente: list[bytes] = []
        self._tamano = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pendiente:
            if len(data) >= self.LIMITE:
                self._transporte.write(data)
                return
            self._loop.call_soon(self._vaciar)
        # Held past this call: a bytearray the caller may reuse is copied (uvicorn's writes are bytes).
        self._pendiente.append(data if type(data) is bytes else bytes(data))
        self._tamano += len(data)
        if self._tamano >= self.LIMITE:
            self._vaciar()

    def writelines(self, lineas: Sequence[bytes]) -> None:
        for data in lineas:
            self.write(data)

    def _vaciar(self) -> None:
        if not self._pendiente:
            return
        data = self._pendiente[0] if len(self._pendiente) == 1 else b"".join(self._pendiente)
        self._pendiente.clear()
        self._tamano = 0
        if not self._transporte.is_closing():  # the peer is gone: as the real transport, drop it
            self._transporte.write(data)

    def write_eof(self) -> None:
        self._vaciar()
        self._transporte.write_eof()

    def close(self) -> None:
        self._vaciar()
        self._transporte.close()

    def abort(self) -> None:
        self._pendiente.clear()
        self._tamano = 0
        self._transporte.abort()

    def get_write_buffer_size(self) -> int:
        return self._tamano + self._transporte.get_write_buffer_size()

    # What uvicorn calls on every request, without __getattr__'s detour.
    def is_closing(self) -> bool:
        return self._transporte.is_closing()

    def get_extra_info(self, nombre: str, default: object = None) -> object:
        return self._transporte.get_extra_info(nombre, default)

    def pause_reading(self) -> None:
        self._transporte.pause_reading()

    def resume_reading(self) -> None:
        self._transporte.resume_reading()

    def __getattr__(self, nombre: str) -> object:
        return getattr(self._transporte, nombre)
