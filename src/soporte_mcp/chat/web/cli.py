"""``soporte-chat web`` (serve the agents' web chat) and ``soporte-chat web cuenta`` (operator accounts).

The model and server options are the terminal chat's own click options, shared rather
than copied, so both front-ends always take the same ones.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from soporte_mcp.clic import AJUSTES, Grupo  # before any decorator: click's own texts in Spanish
from soporte_mcp.errors import SoporteError

COMPARTIDAS = ("model", "base_url", "urls", "cabeceras", "config", "database_url", "solo_lectura", "max_tool_rounds",
               "timeout", "tool_timeout", "retries", "backoff", "verbose")
NOMBRE_VALIDO = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
CARPETA = click.option("--data-dir", "carpeta", type=click.Path(file_okay=False, path_type=Path),
                       envvar="SOPORTE_CHAT_DATA_DIR",
                       help="Carpeta de los datos propios del chat web: cuentas, sesiones y conversaciones "
                       "(variable SOPORTE_CHAT_DATA_DIR; por defecto, la carpeta de datos de usuario de soporte-chat).")


def comando_web(principal: click.Command) -> click.Group:
    """The ``web`` group, with ``principal``'s model and server options."""

    @click.group("web", cls=Grupo, invoke_without_command=True, context_settings=AJUSTES,
                 subcommand_metavar="[COMANDO [ARGS]...]")
    @click.option("--host", default="127.0.0.1", show_default=True, metavar="DIRECCIÓN",
                  help="Dirección en la que escuchar. Fuera de loopback se exige iniciar sesión "
                  "y deben existir cuentas.")
    @click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, metavar="PUERTO",
                  help="Puerto en el que escuchar.")
    @CARPETA
    @click.option("--secure-cookie", "cookie_segura", is_flag=True,
                  help="Marcar la cookie de sesión como Secure (detrás de un proxy TLS); ya lo es al servir por https.")
    @click.pass_context
    def web(ctx: click.Context, **opciones: Any) -> None:
        """Sirve el chat web de los agentes: las mismas conversaciones, herramientas y confirmaciones
        que el chat de terminal, en una página del navegador.

        Sin cuentas solo escucha en loopback, con una sesión privada por navegador. Con cuentas
        (`soporte-chat web cuenta crear NOMBRE`) cada navegador inicia sesión primero.
        """
        if ctx.invoked_subcommand is not None:
            return
        _servir(**opciones)

    web.params.extend(p for p in principal.params if p.name in COMPARTIDAS)
    web.add_command(cuenta)
    return web


def _servir(**o: Any) -> None:
    import anyio

    from soporte_mcp.chat import cli as chat_cli
    from soporte_mcp.chat.modelo import clave_api
    from soporte_mcp.chat.web.almacen import carpeta_por_defecto
    from soporte_mcp.chat.web.servidor import AjustesWeb, servir

    logging.basicConfig(level={0: logging.WARNING, 1: logging.INFO}.get(o["verbose"], logging.DEBUG),
                        stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    base_url = o["base_url"] or None
    try:
        ajustes = AjustesWeb(
            host=o["host"], port=o["port"], carpeta=o["carpeta"] or carpeta_por_defecto(),
            cookie_segura=o["cookie_segura"], modelo=o["model"], base_url=base_url,
            clave=clave_api(os.environ.get("OPENAI_API_KEY"), base_url),
            servidores=chat_cli._servidores(o["urls"], o["cabeceras"], o["config"], o["database_url"]),
            solo_lectura=o["solo_lectura"], max_rondas=o["max_tool_rounds"], timeout=o["timeout"],
            timeout_herramientas=o["tool_timeout"], reintentos=o["retries"], espera_base=o["backoff"])
        anyio.run(servir, ajustes)
    except SoporteError as exc:
        raise click.ClickException(exc.mensaje) from exc


@click.group(cls=Grupo, context_settings=AJUSTES)
def cuenta() -> None:
    """Cuentas de operador del chat web (con la contraseña en hash PBKDF2-SHA256, en su carpeta de datos)."""


@cuenta.command("crear")
@click.argument("nombre")
@CARPETA
@click.password_option("--clave", prompt="Contraseña", metavar="CLAVE", confirmation_prompt="Repita la contraseña",
                       help="La contraseña (si no se da, se pide dos veces, oculta).")
def crear(nombre: str, carpeta: Path | None, clave: str) -> None:
    """Crea la cuenta NOMBRE, o le da una contraseña nueva (lo que cierra sus sesiones abiertas)."""
    from soporte_mcp.chat.web.acceso import hash_clave

    if not NOMBRE_VALIDO.match(nombre):
        raise click.BadParameter("use de 1 a 64 letras, cifras o . _ @ -", param_hint="NOMBRE")
    try:
        clave_hash = hash_clave(clave)
    except SoporteError as exc:
        raise click.ClickException(exc.mensaje) from exc
    almacen = _almacen(carpeta)
    nueva = almacen.crear_cuenta(nombre, clave_hash)
    click.echo(f"Cuenta {nombre} {'creada' if nueva else 'actualizada'} en {almacen.ruta}.")


@cuenta.command("borrar")
@click.argument("nombre")
@CARPETA
def borrar(nombre: str, carpeta: Path | None) -> None:
    """Borra la cuenta NOMBRE y cierra sus sesiones.

    Sus conversaciones quedan, para una cuenta nueva con ese nombre.
    """
    if not _almacen(carpeta).borrar_cuenta(nombre):
        raise click.ClickException(f"No existe la cuenta {nombre}.")
    click.echo(f"Cuenta {nombre} borrada.")


@cuenta.command("listar")
@CARPETA
def listar(carpeta: Path | None) -> None:
    """Lista las cuentas."""
    for nombre in _almacen(carpeta).cuentas():
        click.echo(nombre)


def _almacen(carpeta: Path | None):  # noqa: ANN202
    from soporte_mcp.chat.web.almacen import Almacen, carpeta_por_defecto

    return Almacen(carpeta or carpeta_por_defecto())
