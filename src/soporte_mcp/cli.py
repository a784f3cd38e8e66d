"""The ``soporte-mcp`` command: serve, seed, db upgrade/check, info.

Imports here stay light (no SQLAlchemy, no service): ``serve`` over stdio answers
the host's handshake before it opens the database (db/perezosa.py, issue 13), and
each command imports what it uses.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from pydantic import SecretStr, ValidationError

from soporte_mcp import __version__
from soporte_mcp.clic import AJUSTES, Grupo  # before any decorator: click's own texts in Spanish
from soporte_mcp.config import POLITICAS_CONFIRMACION, SCOPES, Settings, url_segura
from soporte_mcp.errors import SoporteError
from soporte_mcp.registro import configurar_logging, nivel_de_verbosidad

if TYPE_CHECKING:
    from soporte_mcp.db.engine import Database

log = logging.getLogger("soporte_mcp")
# Said once, in the settings; the option shows it in --help.
ZONA_POR_DEFECTO = Settings.model_fields["timezone"].default


@contextmanager
def errores_claros() -> Iterator[None]:
    """Domain errors become a one-line ``Error: ...`` and exit code 1, never a traceback."""
    try:
        yield
    except SoporteError as exc:
        raise click.ClickException(exc.mensaje) from exc


@click.group(cls=Grupo, context_settings={**AJUSTES, "auto_envvar_prefix": "SOPORTE"})
@click.version_option(__version__, prog_name="soporte-mcp")
@click.option(
    "--database-url", envvar="SOPORTE_DATABASE_URL", default="", metavar="URL",
    help="URL de SQLAlchemy de la base de datos, SQLite o PostgreSQL (variable SOPORTE_DATABASE_URL). "
    "Por defecto, un archivo SQLite en la carpeta de datos del usuario (vea `soporte-mcp info`).",
)
@click.option(
    "--timezone", envvar="SOPORTE_TIMEZONE", metavar="ZONA",
    help=f"Zona horaria que define \"hoy\" en las estadísticas (variable SOPORTE_TIMEZONE; por defecto "
    f"{ZONA_POR_DEFECTO}).",
)
@click.option("-v", "--verbose", count=True, help="Más registro en stderr (-v información, -vv depuración).")
@click.pass_context
def main(ctx: click.Context, database_url: str, timezone: str | None, verbose: int) -> None:
    """soporte-mcp: servidor MCP con las herramientas de un equipo de soporte al cliente.

    Herramientas: buscarCliente, consultarSaldo, crearTicket, listarTickets, actualizarTicket,
    registrarPago, listarPagos, anularPago, estadisticas.
    """
    nivel = nivel_de_verbosidad(verbose)
    configurar_logging(nivel)
    dados = {"database_url": database_url, "timezone": timezone, "log_level": nivel}
    try:
        settings = Settings(**{campo: valor for campo, valor in dados.items() if valor is not None})
    except ValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"]) from None
    ctx.obj = settings


TOKENS_FILE = click.option(
    "--tokens-file", type=click.Path(dir_okay=False, path_type=Path), envvar="SOPORTE_TOKENS_FILE",
    metavar="ARCHIVO",
    help="Archivo de tokens de portador (líneas nombre:scopes:sha256; variable SOPORTE_TOKENS_FILE). "
    "Vea `soporte-mcp token`.",
)


@main.command()
@click.option(
    "--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True,
    help="stdio para un anfitrión MCP que arranca el servidor (Claude Desktop); http para HTTP streamable.",
)
@click.option("--host", default="127.0.0.1", show_default=True, metavar="DIRECCIÓN",
              help="Dirección en la que escuchar (solo http).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), metavar="PUERTO",
              help="Puerto (solo http).")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), metavar="N",
    help="Procesos de trabajo (solo http). Con más de uno el servidor no guarda sesiones: cualquier proceso "
    "responde cualquier petición.",
)
@TOKENS_FILE
@click.option(
    "--allowed-host", "allowed_hosts", multiple=True, envvar="SOPORTE_ALLOWED_HOSTS", metavar="HOST[:PUERTO]",
    help="Nombre con el que los clientes llegan al servidor (repetible; variable SOPORTE_ALLOWED_HOSTS, separados "
    "por espacios). Otras cabeceras Host reciben 421 (protección contra DNS rebinding). Necesario detrás de un "
    "nombre real.",
)
@click.option(
    "--rate-limit", type=click.IntRange(0), envvar="SOPORTE_RATE_LIMIT", metavar="N",
    help="Peticiones por minuto y token, en cada proceso (429 con Retry-After por encima; variable "
    "SOPORTE_RATE_LIMIT). Por defecto, 600 con autenticación y ninguno sin ella; 0 lo desactiva.",
)
@click.option("--oauth-issuer", envvar="SOPORTE_OAUTH_ISSUER", metavar="URL",
              help="Modo servidor de recursos OAuth 2.1: acepta tokens de acceso JWT de este emisor "
              "(variable SOPORTE_OAUTH_ISSUER).")
@click.option("--oauth-jwks-url", envvar="SOPORTE_OAUTH_JWKS_URL", metavar="URL",
              help="Las claves de firma del emisor (por defecto EMISOR/.well-known/jwks.json; variable "
              "SOPORTE_OAUTH_JWKS_URL).")
@click.option("--public-url", envvar="SOPORTE_PUBLIC_URL", metavar="URL",
              help="URL pública del punto MCP, p. ej. https://soporte.example/mcp: la audiencia de los tokens y "
              "adonde apuntan los metadatos del recurso protegido (variable SOPORTE_PUBLIC_URL).")
@click.option("--insecure", is_flag=True,
              help="Permite escuchar en una dirección que no es de bucle local sin autenticación.")
@click.option("--redis-url", envvar="SOPORTE_REDIS_URL", metavar="URL",
              help="Redis que comparten todos los procesos y máquinas, p. ej. redis://10.0.0.5:6379/0: un solo "
              "límite por token entre todos (variable SOPORTE_REDIS_URL). Sin él, cada proceso cuenta por su cuenta.")
@click.option("--redis-failure-mode", type=click.Choice(["open", "closed"]), default="open", show_default=True,
              envvar="SOPORTE_REDIS_FAILURE_MODE",
              help="Mientras Redis no responde: open atiende con límites por proceso, closed responde 503 "
              "(variable SOPORTE_REDIS_FAILURE_MODE). En ambos casos se registra un aviso y se cuenta en /metrics.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              envvar="SOPORTE_LOG_FORMAT",
              help="json: un objeto JSON por línea en stderr, con una línea por llamada a herramienta (id de "
              "solicitud, herramienta, llamante, resultado, duración) (variable SOPORTE_LOG_FORMAT).")
@click.option(
    "--confirmar-pagos", type=click.Choice(POLITICAS_CONFIRMACION), default="auto", show_default=True,
    envvar="SOPORTE_CONFIRMAR_PAGOS",
    help="Cuándo pide el servidor al usuario que confirme un pago o una anulación en un formulario (MCP "
    "elicitation): auto, si su cliente MCP puede mostrarlo; siempre, y rechaza a los clientes que no pueden; "
    "nunca (variable SOPORTE_CONFIRMAR_PAGOS).",
)
@click.pass_obj
def serve(settings: Settings, transport: str, host: str, port: int, workers: int, allowed_hosts: tuple[str, ...],
          insecure: bool, **ajustes: object) -> None:
    """Sirve las herramientas MCP por stdio (por defecto) o por HTTP streamable en /mcp (con /health).

    Por HTTP en una dirección que no es de bucle local hace falta autenticación
    (--tokens-file u --oauth-issuer), o --insecure.  Por HTTP, el panel web se
    sirve en /admin cuando están definidas SOPORTE_ADMIN_USER,
    SOPORTE_ADMIN_PASSWORD_HASH y SOPORTE_ADMIN_SECRET (vea `soporte-mcp admin --help`).

    Por stdio la base de datos se abre justo después de responder a la lista de
    herramientas: si no se puede abrir, el motivo queda en el registro (stderr) y
    cada llamada lo devuelve como error reintentable hasta que se pueda.
    """
    from soporte_mcp.red import es_loopback

    settings = settings.model_copy(update=ajustes)
    autenticado = bool(settings.tokens_file or settings.oauth_issuer)
    if transport == "stdio" and (workers != 1 or autenticado or allowed_hosts):
        raise click.UsageError("--workers, la autenticación y --allowed-host solo tienen sentido con --transport http.")
    if transport == "http" and not autenticado and not es_loopback(host) and not insecure:
        raise click.UsageError(
            f"escuchar en {host} sin autenticación expondría los datos a la red: use --tokens-file "
            "(ver `soporte-mcp token crear --help`) u --oauth-issuer o, si de verdad lo quiere, --insecure."
        )
    if transport == "stdio":
        _serve_stdio(settings)
        return
    from soporte_mcp.auth import autenticacion
    from soporte_mcp.db.apertura import abrir
    from soporte_mcp.observabilidad.arranque import preparar as preparar_observabilidad

    red = Red(host, port, workers, allowed_hosts)
    with errores_claros():
        auth = autenticacion(settings)
        settings.panel_admin()  # a half-configured panel stops the start, with a one-line error
        comprobar_puerto(red)
        db = abrir(settings)  # over HTTP before listening: a database that cannot be used stops the start
        observacion = preparar_observabilidad(settings, db, http=True)
    try:
        _serve_http(settings, db, auth, red)
    finally:
        db.dispose()
        observacion.terminar()


def _serve_stdio(settings: Settings) -> None:
    """Serve over stdio; the database is opened after the handshake, not before (issue 13).

    A host spawns the server and waits for ``initialize`` and ``tools/list``; neither
    needs the database, whose open (SQLAlchemy, the schema check) cost more than the
    reference server's whole start. It is opened in the background once the first
    ``tools/list`` is answered, or by the first call (db/perezosa.py). A database that
    cannot be opened is logged and refused call by call (retryable) until it can be,
    rather than a server that exits before the host can show why.
    """
    from soporte_mcp.db.perezosa import para_servir
    from soporte_mcp.observabilidad.arranque import preparar as preparar_observabilidad
    from soporte_mcp.server import build_server

    with errores_claros():
        observacion = preparar_observabilidad(settings, None, http=False)
    base = para_servir(settings)
    try:
        log.info("sirviendo por stdio con %s", url_segura(settings.database_url))
        build_server(settings, base).run("stdio")
    finally:
        base.cerrar()  # commits the reads' audit rows written behind, if the database was opened
        observacion.terminar()


@dataclass(frozen=True)
class Red:
    host: str
    port: int
    workers: int
    allowed_hosts: tuple[str, ...]


# The operating system's reasons (English strerror) for the usual mistakes, in Spanish.
MOTIVOS_DE_RED = {
    errno.EADDRNOTAVAIL: "esa dirección no es de esta máquina",
    errno.EACCES: "no tiene permiso para usar ese puerto (los menores que 1024 piden privilegios)",
}


def comprobar_puerto(red: Red) -> None:
    """Fail before the banner when the address cannot be listened on (a port in use, above all).

    Binds and closes a socket the way uvicorn will (SO_REUSEADDR), so a port left in
    TIME_WAIT passes and one that another process listens on does not.

    Raises:
        ConfiguracionInvalida: the address is in use, not this machine's, or not allowed.
    """
    from soporte_mcp.errors import ConfiguracionInvalida

    try:
        direcciones = socket.getaddrinfo(red.host, red.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfiguracionInvalida(f"no se puede escuchar en {red.host}: {exc.strerror}") from exc
    fallos: list[OSError] = []
    for familia, tipo, proto, _nombre, direccion in direcciones:
        with socket.socket(familia, tipo, proto) as prueba:
            prueba.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                prueba.bind(direccion)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise ConfiguracionInvalida(
                        f"el puerto {red.port} de {red.host} ya está en uso por otro proceso: deténgalo o "
                        "elija otro puerto con --port"
                    ) from exc
                fallos.append(exc)
    # Like asyncio's create_server, an address family the machine lacks (EADDRNOTAVAIL, e.g. ::1 for
    # "localhost" without IPv6) is skipped while another address works.
    graves = [f for f in fallos if f.errno != errno.EADDRNOTAVAIL]
    if not graves and len(fallos) == len(direcciones):
        graves = fallos
    if graves:
        motivo = MOTIVOS_DE_RED.get(graves[0].errno, graves[0].strerror)
        raise ConfiguracionInvalida(f"no se puede escuchar en {red.host}:{red.port}: {motivo}") from graves[0]


def aviso_de_host(red: Red) -> str | None:
    """The warning for a non-loopback address served without --allowed-host (None when there is none to give)."""
    from soporte_mcp.red import es_loopback

    if red.allowed_hosts or es_loopback(red.host):
        return None
    return (
        f"Aviso: escucha en {red.host} sin --allowed-host, así que acepta cualquier cabecera Host y Origin: una "
        "página web abierta en un navegador que alcance esta dirección puede enviarle peticiones mediante DNS "
        "rebinding, saltándose el cortafuegos. Indique el nombre con el que lo llaman los clientes, p. ej. "
        "--allowed-host soporte.example.com."
    )


def _serve_http(settings: Settings, db: Database, auth: tuple, red: Red) -> None:
    import uvicorn

    from soporte_mcp.http import (
        MCP_PATH,
        SoporteH11Protocol,
        app_desde_entorno,
        build_http_app,
        congelar_lo_construido,
        entorno_trabajador,
    )
    from soporte_mcp.observabilidad.arranque import opciones_uvicorn
    from soporte_mcp.registro import anunciar
    from soporte_mcp.server import build_server

    opciones = {"host": red.host, "port": red.port, "log_level": "warning", "http": SoporteH11Protocol,
                "timeout_graceful_shutdown": 10, **opciones_uvicorn(settings)}
    seguridad = "con OAuth" if settings.oauth_issuer else "con tokens" if settings.tokens_file else "SIN autenticación"
    panel = " · panel en /admin" if settings.panel_admin() else ""
    if aviso := aviso_de_host(red):
        anunciar(settings.log_format, aviso, logging.WARNING)
    anunciar(settings.log_format, f"soporte-mcp {__version__}: MCP en http://{red.host}:{red.port}{MCP_PATH} · "
             f"salud en /health{panel} · {red.workers} proceso(s) · {seguridad}")
    if red.workers == 1:
        app = build_http_app(build_server(settings, db, auth=auth), db, host=red.host,
                             allowed_hosts=red.allowed_hosts, settings=settings)
        congelar_lo_construido()
        uvicorn.run(app, **opciones)
        return
    # Each worker is a new process that builds its own app: it gets the whole validated settings
    # in one variable (see soporte_mcp.http.entorno_trabajador); the schema was migrated above, once.
    settings = _con_secreto_compartido(settings)
    os.environ.update(entorno_trabajador(settings, host=red.host, allowed_hosts=red.allowed_hosts))
    from soporte_mcp.trabajadores import servir_trabajadores

    # Not uvicorn's --workers: the supervisor hands connections out in turn (issue 13; see trabajadores.py).
    servir_trabajadores(f"{app_desde_entorno.__module__}:{app_desde_entorno.__name__}", red.workers, opciones)


def _con_secreto_compartido(settings: Settings) -> Settings:
    """The settings with one key for every worker to seal and open a confirmation's requestState (a
    2026-07-28 client's answer may come back to any worker). Generated here, once, unless the operator
    set one: then several servers, or a restart, keep accepting answers in flight."""
    if settings.request_state_secret is not None:
        return settings
    import secrets

    return settings.model_copy(update={"request_state_secret": SecretStr(secrets.token_hex(32))})


@main.command()
@click.option("--limpiar", is_flag=True, help="Borra primero TODOS los datos y luego carga los de demostración.")
@click.option("--clientes", type=click.IntRange(0, 10_000_000), default=0, metavar="N",
              help="Añade además N clientes sintéticos.")
@click.option("--semilla", type=int, default=1, show_default=True, metavar="S",
              help="Semilla aleatoria de los datos sintéticos.")
@click.pass_obj
def seed(settings: Settings, limpiar: bool, clientes: int, semilla: int) -> None:
    """Carga los datos de demostración (seis clientes, tickets, pagos) y, si se pide, N clientes sintéticos.

    Sin --limpiar, los datos de demostración que ya estén se dejan como están.
    """
    from soporte_mcp.db import migrate
    from soporte_mcp.db.apertura import abrir
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
    """Esquema y coherencia de la base de datos."""


@db.command()
@click.pass_obj
def upgrade(settings: Settings) -> None:
    """Crea o actualiza el esquema a la última migración."""
    from soporte_mcp.db import migrate
    from soporte_mcp.db.apertura import abrir

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
    """Comprueba que cada saldo es el saldo inicial más los pagos menos las anulaciones, y que ningún pago
    se anula por encima de su monto; sale con 1 y nombra cada cliente y cada pago que no cuadra."""
    from soporte_mcp.db.apertura import abrir_para_leer
    from soporte_mcp.services.conciliacion import verificar_anulaciones, verificar_saldos

    with errores_claros():
        database = abrir_para_leer(settings)
        try:
            descuadres = verificar_saldos(db=database)
            sobreanulados = verificar_anulaciones(db=database)
        finally:
            database.dispose()
    if not descuadres and not sobreanulados:
        click.echo("Todos los saldos cuadran con sus pagos y anulaciones; ningún pago está anulado de más.")
        return
    for d in descuadres:
        click.echo(f"Cliente {d.cliente_id} ({d.nombre}): saldo {d.saldo:.2f}, esperado {d.esperado:.2f}", err=True)
    for p in sobreanulados:
        click.echo(f"Pago {p.pago_id} (cliente {p.cliente_id}) de {p.monto:.2f}: {p.motivo} "
                   f"(anulado {p.anulado:.2f})", err=True)
    raise click.ClickException(
        f"{len(descuadres)} cliente(s) con el saldo descuadrado y {len(sobreanulados)} pago(s) anulados de más."
    )


@main.group()
def token() -> None:
    """Tokens de portador para el servidor HTTP (permisos: read, write, metrics)."""


@token.command("crear")
@click.argument("nombre")
@click.option("--scope", "scopes", type=click.Choice(SCOPES), multiple=True, default=("read",), show_default=True,
              help="Permiso del token (repetible): read para las consultas, write para tickets y pagos, "
              "metrics para /metrics (un recolector de Prometheus solo necesita ese).")
@TOKENS_FILE
def token_crear(nombre: str, scopes: tuple[str, ...], tokens_file: Path | None) -> None:
    """Crea un token llamado NOMBRE, guarda su hash en el archivo de tokens y lo muestra (solo esta vez)."""
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
    """El panel web /admin, que sirve `serve --transport http` cuando están definidas
    SOPORTE_ADMIN_USER, SOPORTE_ADMIN_PASSWORD_HASH y SOPORTE_ADMIN_SECRET."""


@admin.command("hash-clave")
def admin_hash_clave() -> None:
    """Pide la contraseña del panel (dos veces) y muestra su hash, para SOPORTE_ADMIN_PASSWORD_HASH."""
    from soporte_mcp.claves import hash_clave

    clave = click.prompt("Contraseña del panel", hide_input=True, confirmation_prompt=True, err=True)
    with errores_claros():
        click.echo(hash_clave(clave))


@main.command()
@click.pass_obj
def info(settings: Settings) -> None:
    """Muestra la versión, la base de datos en uso y la revisión de su esquema."""
    from sqlalchemy.engine import make_url

    from soporte_mcp.db import migrate
    from soporte_mcp.db.engine import Database, sqlite_file

    click.echo(f"soporte-mcp {__version__}")
    click.echo(f"base de datos: {url_segura(settings.database_url)}")
    url = make_url(settings.database_url)
    archivo = sqlite_file(url.database) if url.get_backend_name() == "sqlite" else None
    if archivo is not None:
        click.echo(f"archivo: {archivo}")
    click.echo(f"zona horaria: {settings.timezone}")
    if archivo is not None and not archivo.exists():
        click.echo("esquema: vacío (el archivo aún no existe: se crea al servir o con `soporte-mcp db upgrade`)")
        return
    with errores_claros():
        database = Database.from_url(settings.database_url, solo_lectura=True)
        try:
            click.echo(f"esquema: {migrate.current_revision(database) or 'vacío'} "
                       f"(última: {migrate.head_revision(database)})")
        finally:
            database.dispose()
