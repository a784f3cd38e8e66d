"""The interactive chat: read a line, answer it, until /exit or end of input.

Line editing and history come from the standard ``readline`` module when stdin is a
terminal; the history is kept in the user's state directory.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import click
import platformdirs

from soporte_mcp.chat.conversacion import Conversacion
from soporte_mcp.chat.errores import ErrorDelModelo
from soporte_mcp.chat.salida import Pantalla
from soporte_mcp.chat.senales import ctrl_c_cancela, ctrl_c_interrumpe
from soporte_mcp.config import APP_NAME

INDICADOR = "> "
AYUDA = """\
Escriba su petición en lenguaje natural, p. ej. "Busque a María García y dígame su saldo".
  /tools   herramientas que el modelo puede usar (✎ = modifica datos y pide confirmación)
  /clear   empezar una conversación nueva
  /help    esta ayuda
  /exit    salir (también Ctrl-D)
Ctrl-C detiene la respuesta en curso y conserva la conversación."""


async def conversar(conversacion: Conversacion, pantalla: Pantalla, *, editar_lineas: bool) -> None:
    """Run the chat until the user leaves."""
    with _historial(activo=editar_lineas):
        while (linea := _leer()) is not None:
            if not linea:
                continue
            if linea.startswith("/"):
                if not _comando(linea, conversacion):
                    return
                continue
            await _turno(conversacion, pantalla, linea)


async def _turno(conversacion: Conversacion, pantalla: Pantalla, linea: str) -> None:
    with anyio.CancelScope() as scope, ctrl_c_cancela(scope):
        try:
            await conversacion.turno(linea)
        except ErrorDelModelo as exc:
            pantalla.error(exc.mensaje)
    if scope.cancelled_caught:
        pantalla.aviso("[respuesta interrumpida; la conversación sigue]")


def _leer() -> str | None:
    """The next line, stripped; None at end of input.  Ctrl-C abandons the line being typed."""
    while True:
        try:
            with ctrl_c_interrumpe():
                return input(INDICADOR).strip()
        except EOFError:
            if sys.stdin.isatty():
                click.echo(err=True)  # Ctrl-D left the cursor after the prompt
            return None
        except KeyboardInterrupt:
            click.echo("\n(/exit o Ctrl-D para salir)", err=True)


def _comando(linea: str, conversacion: Conversacion) -> bool:
    """Run a /command; False means leave."""
    nombre = linea.split()[0].lower()
    acciones: dict[str, Callable[[], object]] = {
        "/help": lambda: click.echo(AYUDA),
        "/tools": lambda: click.echo(listado(conversacion)),
        "/clear": lambda: (conversacion.limpiar(), click.echo("Conversación nueva.")),
    }
    if nombre in ("/exit", "/quit"):
        return False
    accion = acciones.get(nombre)
    if accion is None:
        click.echo(f"Comando desconocido: {nombre}. /help lista los comandos.", err=True)
    else:
        accion()
    return True


def listado(conversacion: Conversacion) -> str:
    """One line per tool offered to the model: name, server, whether it writes, first line of its description."""
    if not conversacion.ofrecidas:
        return "El modelo no tiene herramientas."
    lineas = []
    for h in conversacion.ofrecidas.values():
        marca = " " if h.solo_lectura else "✎"
        resumen = (h.descripcion.strip().splitlines() or [""])[0]
        lineas.append(f"{marca} {h.expuesta} [{h.servidor}] {resumen}")
    return "\n".join(lineas)


@contextmanager
def _historial(*, activo: bool) -> Iterator[None]:
    # readline is imported only for a terminal: merely importing it can write escape codes to stdout.
    if not activo:
        yield
        return
    import readline

    ruta = Path(platformdirs.user_state_dir(APP_NAME)) / "chat_history"
    try:
        readline.read_history_file(ruta)
    except OSError:
        pass  # first run, or an unreadable file: start without history
    readline.set_history_length(1000)
    try:
        yield
    finally:
        try:
            ruta.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(ruta)
        except OSError:
            pass  # history is a convenience; never fail the exit for it
