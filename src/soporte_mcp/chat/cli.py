"""The ``soporte-chat`` command: options, then a one-shot answer or the interactive chat."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import click

from soporte_mcp import __version__
from soporte_mcp.chat import servidores as srv
from soporte_mcp.chat.conversacion import Conversacion, Turno
from soporte_mcp.chat.formulario import Formularios
from soporte_mcp.chat.interactivo import conversar
from soporte_mcp.chat.modelo import Modelo, clave_api, cliente_openai
from soporte_mcp.chat.salida import (
    Json,
    Pantalla,
    UnaVez,
    aprobar_en_terminal,
    consola_markdown,
    imprimir_json,
)
from soporte_mcp.chat.web.cli import comando_web
from soporte_mcp.clic import AJUSTES, Grupo  # before any decorator: click's own texts in Spanish
from soporte_mcp.errors import SoporteError

EJEMPLOS = """\b
Ejemplos:
  soporte-chat                                   conversar con el servidor incluido
  soporte-chat -p "Busque a María García y dígame su saldo"
  echo "¿Cuántos tickets están abiertos?" | soporte-chat --json
  soporte-chat -p "Registre un pago de $500 para el cliente 2" --yes
  soporte-chat --base-url http://localhost:11434/v1 -m qwen2.5:7b     (Ollama)
  soporte-chat --server https://soporte.example.com/mcp -H "Authorization: Bearer $TOKEN"
  soporte-chat --config claude_desktop_config.json
"""


@dataclass(frozen=True)
class Ajustes:
    """Everything a chat run needs, decided before any server starts."""

    pregunta: str | None  # None: interactive
    como_json: bool
    modelo: str
    base_url: str | None
    clave: str
    servidores: list[srv.Servidor]
    auto_aprobar: bool
    solo_lectura: bool
    max_rondas: int
    timeout: float
    timeout_herramientas: float
    reintentos: int
    espera_base: float


@click.group(cls=Grupo, context_settings=AJUSTES, epilog=EJEMPLOS, invoke_without_command=True,
             subcommand_metavar="[COMANDO [ARGS]...]")
@click.version_option(__version__, prog_name="soporte-chat")
@click.option("-p", "--prompt", metavar="TEXTO",
              help="Responde esta única petición, muestra la respuesta final y termina. "
              "Sin -p, una petición recibida por stdin hace lo mismo.")
@click.option("-i", "--interactive", is_flag=True,
              help="Conversa línea a línea aunque stdin no sea un terminal.")
@click.option("--json", "como_json", is_flag=True,
              help="Solo para una petición: muestra la respuesta y cada llamada a herramienta con su resultado "
              "como un objeto JSON.")
@click.option("-m", "--model", envvar="OPENAI_MODEL", default="gpt-4o", show_default=True, metavar="MODELO",
              help="Nombre del modelo (variable OPENAI_MODEL).")
@click.option("--base-url", envvar="OPENAI_BASE_URL", metavar="URL",
              help="Punto compatible con OpenAI (variable OPENAI_BASE_URL), p. ej. http://localhost:11434/v1 para "
              "Ollama. La clave se lee de OPENAI_API_KEY; un punto propio puede no necesitarla.")
@click.option("--server", "urls", multiple=True, metavar="URL",
              help="Un servidor MCP por HTTP streamable, p. ej. http://127.0.0.1:8000/mcp (repetible). "
              "Con --server o --config no se arranca el servidor incluido.")
@click.option("-H", "--header", "cabeceras", multiple=True, metavar="'NOMBRE: VALOR'",
              help="Cabecera HTTP enviada a cada --server (repetible), p. ej. 'Authorization: Bearer ...'.")
@click.option("-c", "--config", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="ARCHIVO",
              help="Archivo JSON con \"mcpServers\" como lo escribe Claude Desktop: entradas stdio "
              "(command/args/env) y url (url/headers), varias a la vez.")
@click.option("--database-url", envvar="SOPORTE_DATABASE_URL", metavar="URL",
              help="Base de datos del servidor incluido (variable SOPORTE_DATABASE_URL; por defecto, la de "
              "soporte-mcp).")
@click.option("-y", "--yes", "auto_aprobar", is_flag=True,
              help="Ejecuta sin preguntar las herramientas que pueden modificar datos.")
@click.option("--read-only", "solo_lectura", is_flag=True,
              help="Ofrece al modelo solo las herramientas marcadas de solo lectura.")
@click.option("--max-tool-rounds", type=click.IntRange(1, 100), default=8, show_default=True, metavar="N",
              help="Máximo de rondas de llamadas a herramientas que el modelo puede hacer para responder un mensaje.")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=60.0, show_default=True,
              envvar="SOPORTE_CHAT_TIMEOUT", metavar="SEGUNDOS",
              help="Segundos de espera a que el modelo conecte o envíe más (variable SOPORTE_CHAT_TIMEOUT).")
@click.option("--tool-timeout", type=click.FloatRange(0, min_open=True), default=120.0, show_default=True,
              envvar="SOPORTE_CHAT_TOOL_TIMEOUT", metavar="SEGUNDOS",
              help="Segundos de espera a que un servidor MCP arranque o responda una llamada (variable "
              "SOPORTE_CHAT_TOOL_TIMEOUT).")
@click.option("--retries", type=click.IntRange(0, 10), default=3, show_default=True, envvar="SOPORTE_CHAT_RETRIES",
              metavar="N",
              help="Reintentos cuando el modelo responde 429 o 5xx, esperando lo que pida o 1, 2, 4... s "
              "(variable SOPORTE_CHAT_RETRIES).")
@click.option("--backoff", type=click.FloatRange(0), default=1.0, envvar="SOPORTE_CHAT_BACKOFF", hidden=True,
              help="Primera espera entre reintentos, en segundos (variable SOPORTE_CHAT_BACKOFF; para las pruebas).")
@click.option("-v", "--verbose", count=True, help="Más registro en stderr (-v información, -vv depuración).")
def main(prompt: str | None, interactive: bool, como_json: bool, verbose: int, **opciones: Any) -> None:
    """Conversación en lenguaje natural con las herramientas de soporte-mcp (o de cualquier servidor
    MCP) a través de cualquier modelo compatible con OpenAI.

    Por defecto arranca el servidor soporte-mcp incluido, por stdio, sobre la base de datos
    configurada: ejecute `soporte-mcp seed` una vez, defina OPENAI_API_KEY y pregunte. Las
    herramientas que pueden modificar datos (pagos, tickets) solo se ejecutan cuando usted las
    confirma, salvo con --yes.

    En la conversación: /tools, /clear, /help, /exit; Ctrl-C detiene la respuesta en curso.
    """
    logging.basicConfig(level={0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if click.get_current_context().invoked_subcommand is not None:
        return  # `soporte-chat web ...`
    pregunta = _pregunta(prompt, interactive=interactive, como_json=como_json)
    turno = Turno() if pregunta is not None else None
    try:
        ajustes = _ajustes(pregunta, como_json, **opciones)
        anyio.run(_chatear, ajustes, turno)
    except SoporteError as exc:
        if como_json:  # a program reads stdout: it gets the object, with the error's code, whatever failed
            imprimir_json(turno, modelo=opciones["model"], error=exc)
        raise click.ClickException(exc.mensaje) from exc
    if turno is not None and turno.limite_alcanzado:
        click.get_current_context().exit(1)


def _pregunta(prompt: str | None, *, interactive: bool, como_json: bool) -> str | None:
    """The one-shot request (from -p or stdin), or None for the interactive chat."""
    if prompt is not None and interactive:
        raise click.UsageError("-p y --interactive se excluyen: use uno de los dos.")
    if prompt is None and (interactive or sys.stdin.isatty()):
        if como_json:
            raise click.UsageError("--json necesita una petición única: -p TEXTO, "
                                   "o la petición por la entrada estándar.")
        return None
    texto = (prompt if prompt is not None else sys.stdin.read()).strip()
    if not texto:
        raise click.UsageError("La petición está vacía: escriba -p TEXTO, envíela por la entrada estándar "
                               "o ejecute soporte-chat en un terminal para conversar.")
    return texto


def _ajustes(pregunta: str | None, como_json: bool, **o: Any) -> Ajustes:
    """The run's settings from the command line; raises ConfiguracionInvalida or click.UsageError."""
    base_url = o["base_url"] or None
    return Ajustes(
        pregunta=pregunta, como_json=como_json, modelo=o["model"], base_url=base_url,
        clave=clave_api(os.environ.get("OPENAI_API_KEY"), base_url),
        servidores=_servidores(o["urls"], o["cabeceras"], o["config"], o["database_url"]),
        auto_aprobar=o["auto_aprobar"], solo_lectura=o["solo_lectura"], max_rondas=o["max_tool_rounds"],
        timeout=o["timeout"], timeout_herramientas=o["tool_timeout"], reintentos=o["retries"], espera_base=o["backoff"],
    )


def _servidores(urls: tuple[str, ...], cabeceras: tuple[str, ...], config: Path | None,
                database_url: str | None) -> list[srv.Servidor]:
    """--config's servers, then the --server URLs; the bundled server when neither is given."""
    pares = dict(srv.cabecera(c) for c in cabeceras)
    if pares and not urls:
        raise click.UsageError("--header se aplica a los servidores de --server: "
                               "indique al menos un --server.")
    if not urls and config is None:
        return [srv.incluido(database_url)]
    desde_config = srv.leer_configuracion(config) if config is not None else []
    return srv.sin_nombres_repetidos(desde_config + srv.remotos(urls, pares))


async def _chatear(a: Ajustes, en_curso: Turno | None) -> None:
    """Open the model client and the MCP sessions for the whole chat, then answer.

    One-shot, the turn is filled into ``en_curso``, which the caller keeps if the run fails.
    """
    async with AsyncExitStack() as pila:
        try:
            await _sesion(a, pila, en_curso)
            return
        except SoporteError as exc:
            # Re-raised once the sessions are closed: raised through their task groups it would
            # come out wrapped in an ExceptionGroup.
            fallo = exc
    raise fallo


async def _sesion(a: Ajustes, pila: AsyncExitStack, en_curso: Turno | None) -> None:
    consola = consola_markdown()
    salida = (Json if a.como_json else UnaVez)(consola) if a.pregunta is not None else Pantalla(consola)
    cliente = await pila.enter_async_context(cliente_openai(clave=a.clave, base_url=a.base_url, timeout=a.timeout))
    formularios = Formularios(aceptar=a.auto_aprobar)  # the servers' own confirmation forms, answered here
    caja = await srv.conectar(a.servidores, pila, timeout=a.timeout_herramientas, formularios=formularios)
    modelo = Modelo(cliente, nombre=a.modelo, reintentos=a.reintentos, espera_base=a.espera_base, avisar=salida.aviso)
    conversacion = Conversacion(modelo=modelo, caja=caja, salida=salida, aprobar=aprobar_en_terminal,
                                auto_aprobar=a.auto_aprobar, solo_lectura=a.solo_lectura, max_rondas=a.max_rondas)
    if a.pregunta is None:
        click.echo(f"soporte-chat {__version__} · modelo {a.modelo} · {len(conversacion.ofrecidas)} herramientas "
                   f"({', '.join(s.nombre for s in a.servidores)}) · /help para ayuda", err=True)
        await conversar(conversacion, salida, editar_lineas=sys.stdin.isatty())
        return
    salida.imprimir(await conversacion.turno(a.pregunta, en_curso), modelo=a.modelo)


main.add_command(comando_web(main))
