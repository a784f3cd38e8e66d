"""The streamable-HTTP application: MCP at /mcp and a /health check of the database."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
from collections.abc import Sequence
from contextlib import suppress

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from soporte_mcp import __version__
from soporte_mcp.auth import autenticacion
from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.limites import LimiteDeTasa
from soporte_mcp.registro import configurar_logging

MCP_PATH = "/mcp"
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
    ``settings`` bring the per-credential rate limit (see soporte_mcp.limites) and,
    when they configure it, the /admin panel (see soporte_mcp.admin).

    Raises:
        ConfiguracionInvalida: the panel is configured only in part, or with unusable credentials.
    """

    async def health(_request: Request) -> JSONResponse:
        try:
            await db.run(db.ping)
        except BaseDeDatosNoDisponible as exc:
            return JSONResponse({"status": "error", "database": exc.mensaje}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    async def vivo(_request: Request) -> JSONResponse:
        # Liveness: the process answers. Never touches the database, so that an outage of the
        # database makes the instance unready (/health 503) without getting it restarted.
        return JSONResponse({"status": "ok"})

    server.custom_route("/health", methods=["GET"], name="health")(health)
    server.custom_route("/health/live", methods=["GET"], name="live")(vivo)
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
    if not stateless and (settings is None or settings.confirmar_pagos != "nunca"):
        from soporte_mcp.formularios_http import sse_para_formularios

        sse_para_formularios(server, app, ruta=MCP_PATH)
    limite = settings.limite_por_minuto() if settings else 0
    return LimiteDeTasa(app, por_minuto=limite, ruta=MCP_PATH) if limite > 0 else app


LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def seguridad_de_transporte(allowed_hosts: Sequence[str], host: str) -> TransportSecuritySettings | None:
    """Host/Origin checks for the names the operator serves under (None: the SDK's loopback default).

    On a loopback address the loopback names stay allowed too, for local clients and probes.
    """
    if not allowed_hosts:
        return None
    nombres = [*allowed_hosts, *(LOOPBACK if es_loopback(host) else ())]
    hosts = [h if ":" in h.removeprefix("[::1]") else f"{h}:*" for h in nombres] + [h.split(":")[0] for h in allowed_hosts]
    origins = [f"{esquema}://{h}" for h in hosts for esquema in ("http", "https")]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


def es_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    from soporte_mcp.server import build_server

    settings, host, hosts = ajustes_de_trabajador()
    configurar_logging(settings.log_level)
    log.info("proceso %d listo: zona %s, límite %d/min, registro %s", os.getpid(), settings.timezone,
             settings.limite_por_minuto(), settings.log_level)
    db = Database.from_url(settings.database_url)
    return build_http_app(
        build_server(settings, db, auth=autenticacion(settings)), db, host=host,
        stateless=True, allowed_hosts=hosts, settings=settings,
    )


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
