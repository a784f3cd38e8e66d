"""The ``soporte-mcp`` command: serve, seed, db upgrade/check, info."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from soporte_mcp import __version__
from soporte_mcp.config import SCOPES, Settings
from soporte_mcp.db import migrate
from soporte_mcp.db.engine import Database
from soporte_mcp.errors import SoporteError

log = logging.getLogger("soporte_mcp")


def configurar_logging(verbose: int) -> None:
    """Logs go to stderr: stdout carries the stdio protocol and the commands' own output."""
    nivel = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=nivel, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@contextmanager
def errores_claros() -> Iterator[None]:
    """Domain errors become a one-line ``Error: ...`` and exit code 1, never a traceback."""
    try:
        yield
    except SoporteError as exc:
        raise click.ClickException(exc.mensaje) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "SOPORTE"})
@click.version_option(__version__, prog_name="soporte-mcp")
@click.option(
    "--database-url", envvar="SOPORTE_DATABASE_URL", default="", metavar="URL",
    help="SQLAlchemy URL of the database (env SOPORTE_DATABASE_URL). "
    "Default: a SQLite file in the user's data directory (see `soporte-mcp info`).",
)
@click.option(
    "--timezone", envvar="SOPORTE_TIMEZONE", default="America/Guayaquil", show_default=True,
    help="Time zone that defines \"today\" in the statistics (env SOPORTE_TIMEZONE).",
)
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-v info, -vv debug).")
@click.pass_context
def main(ctx: click.Context, database_url: str, timezone: str, verbose: int) -> None:
    """soporte-mcp: an MCP server with the tools of a customer-support team.

    Tools: buscarCliente, consultarSaldo, crearTicket, registrarPago, estadisticas.
    """
    configurar_logging(verbose)
    try:
        settings = Settings(database_url=database_url, timezone=timezone, log_level=logging.getLevelName(
            logging.getLogger().level))
    except ValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"]) from None
    ctx.obj = settings


def abrir(settings: Settings, *, migrar: bool = True) -> Database:
    """Open the configured database (creating or upgrading a SQLite schema)."""
    db = Database.from_url(settings.database_url)
    if migrar:
        migrate.ensure_schema(db)
    return db


TOKENS_FILE = click.option(
    "--tokens-file", type=click.Path(dir_okay=False, path_type=Path), envvar="SOPORTE_TOKENS_FILE",
    help="File of bearer tokens (nombre:scopes:sha256 lines; env SOPORTE_TOKENS_FILE). See `soporte-mcp token`.",
)


@main.command()
@click.option(
    "--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True,
    help="stdio for an MCP host that starts the server (Claude Desktop); http for streamable HTTP.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (http only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port (http only).")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64),
    help="Worker processes (http only). With more than one the server is stateless: any worker answers any request.",
)
@TOKENS_FILE
@click.option(
    "--allowed-host", "allowed_hosts", multiple=True, envvar="SOPORTE_ALLOWED_HOSTS", metavar="HOST[:PORT]",
    help="Host name clients use to reach the server (repeatable; env SOPORTE_ALLOWED_HOSTS, space-separated). "
    "Other Host headers get 421 (DNS-rebinding protection). Needed behind a real host name.",
)
@click.option(
    "--rate-limit", type=click.IntRange(0), envvar="SOPORTE_RATE_LIMIT", metavar="N",
    help="Requests a minute per token, per worker (429 with Retry-After beyond it; env SOPORTE_RATE_LIMIT). "
    "Default: 600 with authentication, off without; 0 turns it off.",
)
@click.option("--oauth-issuer", envvar="SOPORTE_OAUTH_ISSUER", metavar="URL",
              help="OAuth 2.1 resource-server mode: accept JWT access tokens from this issuer (env SOPORTE_OAUTH_ISSUER).")
@click.option("--oauth-jwks-url", envvar="SOPORTE_OAUTH_JWKS_URL", metavar="URL",
              help="The issuer's signing keys (default ISSUER/.well-known/jwks.json; env SOPORTE_OAUTH_JWKS_URL).")
@click.option("--public-url", envvar="SOPORTE_PUBLIC_URL", metavar="URL",
              help="Public URL of the MCP endpoint, e.g. https://soporte.example/mcp: the tokens' audience, "
              "and where the protected-resource metadata points (env SOPORTE_PUBLIC_URL).")
@click.option("--insecure", is_flag=True, help="Allow listening on a non-loopback address without authentication.")
@click.pass_obj
def serve(settings: Settings, transport: str, host: str, port: int, workers: int, allowed_hosts: tuple[str, ...],
          insecure: bool, **ajustes: object) -> None:
    """Serve the MCP tools over stdio (default) or streamable HTTP at /mcp (with /health).

    Over HTTP on a non-loopback address, authentication (--tokens-file or
    --oauth-issuer) is required, or --insecure.  Over HTTP, the web panel is
    served at /admin when SOPORTE_ADMIN_USER, SOPORTE_ADMIN_PASSWORD_HASH and
    SOPORTE_ADMIN_SECRET are set (see `soporte-mcp admin --help`).
    """
    from soporte_mcp.auth import autenticacion
    from soporte_mcp.http import es_loopback
    from soporte_mcp.server import build_server

    settings = settings.model_copy(update=ajustes)
    autenticado = bool(settings.tokens_file or settings.oauth_issuer)
    if transport == "stdio" and (workers != 1 or autenticado or allowed_hosts):
        raise click.UsageError("--workers, la autenticación y --allowed-host solo tienen sentido con --transport http.")
    if transport == "http" and not autenticado and not es_loopback(host) and not insecure:
        raise click.UsageError(
            f"escuchar en {host} sin autenticación expondría los datos a la red: use --tokens-file "
            "(ver `soporte-mcp token crear --help`) u --oauth-issuer o, si de verdad lo quiere, --insecure."
        )
    with errores_claros():
        auth = autenticacion(settings)
        if transport == "http":
            settings.panel_admin()  # a half-configured panel stops the start, with a one-line error
        db = abrir(settings)
    try:
        if transport == "stdio":
            log.info("sirviendo por stdio con %s", _url_segura(settings.database_url))
            build_server(settings, db).run("stdio")
        else:
            _serve_http(settings, db, auth, Red(host, port, workers, allowed_hosts))
    finally:
        db.dispose()


@dataclass(frozen=True)
class Red:
    host: str
    port: int
    workers: int
    allowed_hosts: tuple[str, ...]


# What a worker process of `serve --workers N` must find in its environment (it builds its own app).
ENTORNO_TRABAJADOR = {
    "SOPORTE_DATABASE_URL": "database_url", "SOPORTE_TIMEZONE": "timezone", "SOPORTE_TOKENS_FILE": "tokens_file",
    "SOPORTE_RATE_LIMIT": "rate_limit", "SOPORTE_OAUTH_ISSUER": "oauth_issuer",
    "SOPORTE_OAUTH_JWKS_URL": "oauth_jwks_url", "SOPORTE_PUBLIC_URL": "public_url",
}


def _serve_http(settings: Settings, db: Database, auth: tuple, red: Red) -> None:
    import uvicorn

    from soporte_mcp.http import (
        ENV_ALLOWED_HOSTS, ENV_HOST, MCP_PATH, NoDelayH11Protocol, app_desde_entorno, build_http_app,
    )
    from soporte_mcp.server import build_server

    opciones = {"host": red.host, "port": red.port, "log_level": "warning", "http": NoDelayH11Protocol,
                "timeout_graceful_shutdown": 10}
    seguridad = "con OAuth" if settings.oauth_issuer else "con tokens" if settings.tokens_file else "SIN autenticación"
    panel = " · panel en /admin" if settings.panel_admin() else ""
    click.echo(f"soporte-mcp {__version__}: MCP en http://{red.host}:{red.port}{MCP_PATH} · salud en /health"
               f"{panel} · {red.workers} proceso(s) · {seguridad}", err=True)
    if red.workers == 1:
        app = build_http_app(build_server(settings, db, auth=auth), db, host=red.host,
                             allowed_hosts=red.allowed_hosts, settings=settings)
        uvicorn.run(app, **opciones)
        return
    # Each worker builds its own app from the environment (SOPORTE_ADMIN_* come only from it, so the
    # workers inherit them); the schema was migrated above, once.
    for variable, campo in ENTORNO_TRABAJADOR.items():
        valor = getattr(settings, campo)
        if valor is not None:
            os.environ[variable] = str(valor)
    os.environ.update({ENV_HOST: red.host, ENV_ALLOWED_HOSTS: ",".join(red.allowed_hosts)})
    from soporte_mcp.trabajadores import servir_trabajadores

    # Not uvicorn's --workers: the supervisor hands connections out in turn (issue 13; see trabajadores.py).
    servir_trabajadores(f"{app_desde_entorno.__module__}:{app_desde_entorno.__name__}", red.workers, opciones)


@main.command()
@click.option("--limpiar", is_flag=True, help="Delete ALL existing data first, then load the demo data.")
@click.option("--clientes", type=click.IntRange(0, 10_000_000), default=0, help="Also add N synthetic customers.")
@click.option("--semilla", type=int, default=1, show_default=True, help="Random seed of the synthetic data.")
@click.pass_obj
def seed(settings: Settings, limpiar: bool, clientes: int, semilla: int) -> None:
    """Load the demo data (six customers, tickets, payments); optionally N synthetic customers.

    Without --limpiar, demo data already present is left as it is.
    """
    from soporte_mcp.seed.demo import cargar_demo
    from soporte_mcp.seed.sintetico import cargar_sinteticos

    with errores_claros():
        db = abrir(settings, migrar=False)
        try:
            migrate.upgrade(db)  # seeding is set-up: bring any database's schema up to date first
            cargado = cargar_demo(db=db, zona=settings.zone, ahora=datetime.now(UTC), limpiar_antes=limpiar)
            click.echo("Datos de demostración cargados." if cargado else "Los datos de demostración ya estaban.")
            if clientes:
                with _barra(clientes) as avanzar:
                    primero = cargar_sinteticos(db=db, cantidad=clientes, semilla=semilla, avance=avanzar)
                click.echo(f"{clientes} clientes sintéticos añadidos (ids {primero}-{primero + clientes - 1}).")
        finally:
            db.dispose()


@contextmanager
def _barra(total: int) -> Iterator:
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    with click.progressbar(length=total, label="Clientes", file=sys.stderr) as barra:
        yield barra.update


@main.group()
def db() -> None:
    """Database schema and consistency."""


@db.command()
@click.pass_obj
def upgrade(settings: Settings) -> None:
    """Create or upgrade the schema to the latest migration."""
    with errores_claros():
        database = abrir(settings, migrar=False)
        try:
            migrate.upgrade(database)
            click.echo(f"Esquema en la revisión {migrate.current_revision(database)}.")
        finally:
            database.dispose()


@db.command()
@click.pass_obj
def check(settings: Settings) -> None:
    """Verify that every balance equals opening balance + payments; exit 1 naming those that do not."""
    from soporte_mcp.services.conciliacion import verificar_saldos

    with errores_claros():
        database = abrir(settings)
        try:
            descuadres = verificar_saldos(db=database)
        finally:
            database.dispose()
    if not descuadres:
        click.echo("Todos los saldos cuadran con sus pagos.")
        return
    for d in descuadres:
        click.echo(f"Cliente {d.cliente_id} ({d.nombre}): saldo {d.saldo:.2f}, esperado {d.esperado:.2f}", err=True)
    raise click.ClickException(f"{len(descuadres)} cliente(s) con el saldo descuadrado.")


@main.group()
def token() -> None:
    """Bearer tokens for the HTTP server (scopes: read, write)."""


@token.command("crear")
@click.argument("nombre")
@click.option("--scope", "scopes", type=click.Choice(SCOPES), multiple=True, default=("read",), show_default=True,
              help="Scope of the token (repeatable): read for the queries, write for tickets and payments.")
@TOKENS_FILE
def token_crear(nombre: str, scopes: tuple[str, ...], tokens_file: Path | None) -> None:
    """Create a token named NOMBRE, store its hash in the tokens file and print it (only this once)."""
    from soporte_mcp.auth import crear_token

    if tokens_file is None:
        raise click.UsageError("indique el archivo con --tokens-file o SOPORTE_TOKENS_FILE.")
    with errores_claros():
        secreto = crear_token(tokens_file, nombre, tuple(dict.fromkeys(scopes)))
    click.echo(secreto)
    click.echo(f"Token {nombre!r} ({', '.join(scopes)}) guardado en {tokens_file}. Cópielo ahora: no se "
               "vuelve a mostrar.", err=True)


@main.group()
def admin() -> None:
    """The /admin web panel, served by `serve --transport http` when SOPORTE_ADMIN_USER,
    SOPORTE_ADMIN_PASSWORD_HASH and SOPORTE_ADMIN_SECRET are set."""


@admin.command("hash-clave")
def admin_hash_clave() -> None:
    """Ask for the panel's password (twice) and print its hash, for SOPORTE_ADMIN_PASSWORD_HASH."""
    from soporte_mcp.admin.claves import hash_clave

    clave = click.prompt("Contraseña del panel", hide_input=True, confirmation_prompt=True, err=True)
    with errores_claros():
        click.echo(hash_clave(clave))


@main.command()
@click.pass_obj
def info(settings: Settings) -> None:
    """Show the version, the database in use and its schema revision."""
    click.echo(f"soporte-mcp {__version__}")
    click.echo(f"base de datos: {_url_segura(settings.database_url)}")
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        click.echo(f"archivo: {url.database}")
    click.echo(f"zona horaria: {settings.timezone}")
    with errores_claros():
        database = abrir(settings, migrar=False)
        try:
            click.echo(f"esquema: {migrate.current_revision(database) or 'vacío'} (última: {migrate.head_revision(database)})")
        finally:
            database.dispose()


def _url_segura(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
