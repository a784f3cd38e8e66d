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
from soporte_mcp.chat.salida import Json, Pantalla, UnaVez, aprobar_en_terminal, consola_markdown
from soporte_mcp.errors import SoporteError

EJEMPLOS = """\b
Examples:
  soporte-chat                                   chat with the bundled server
  soporte-chat -p "Busca a María García y dime su saldo"
  echo "¿Cuántos tickets están abiertos?" | soporte-chat --json
  soporte-chat -p "Registra un pago de $500 para el cliente 2" --yes
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


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EJEMPLOS)
@click.version_option(__version__, prog_name="soporte-chat")
@click.option("-p", "--prompt", metavar="TEXT",
              help="Answer this one request, print the final answer and exit. "
              "Without -p, a request piped on stdin does the same.")
@click.option("-i", "--interactive", is_flag=True, help="Chat line by line even when stdin is not a terminal.")
@click.option("--json", "como_json", is_flag=True,
              help="One-shot only: print the answer and every tool call with its result as one JSON object.")
@click.option("-m", "--model", envvar="OPENAI_MODEL", default="gpt-4o", show_default=True,
              help="Model name (env OPENAI_MODEL).")
@click.option("--base-url", envvar="OPENAI_BASE_URL", metavar="URL",
              help="OpenAI-compatible endpoint (env OPENAI_BASE_URL), e.g. http://localhost:11434/v1 for Ollama. "
              "The key is read from OPENAI_API_KEY; a custom endpoint may do without it.")
@click.option("--server", "urls", multiple=True, metavar="URL",
              help="A streamable-HTTP MCP server, e.g. http://127.0.0.1:8000/mcp (repeatable). "
              "Given --server or --config, the bundled server is not started.")
@click.option("-H", "--header", "cabeceras", multiple=True, metavar="'NAME: VALUE'",
              help="HTTP header sent to every --server (repeatable), e.g. 'Authorization: Bearer ...'.")
@click.option("-c", "--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON file with \"mcpServers\" as Claude Desktop writes it: stdio (command/args/env) "
              "and url (url/headers) entries, several at once.")
@click.option("--database-url", envvar="SOPORTE_DATABASE_URL", metavar="URL",
              help="Database of the bundled server (env SOPORTE_DATABASE_URL; default: as soporte-mcp).")
@click.option("-y", "--yes", "auto_aprobar", is_flag=True, help="Run tools that may modify data without asking.")
@click.option("--read-only", "solo_lectura", is_flag=True,
              help="Offer the model only the tools annotated read-only.")
@click.option("--max-tool-rounds", type=click.IntRange(1, 100), default=8, show_default=True,
              help="Most rounds of tool calls the model may make to answer one message.")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=60.0, show_default=True,
              envvar="SOPORTE_CHAT_TIMEOUT",
              help="Seconds to wait for the model to connect or send more (env SOPORTE_CHAT_TIMEOUT).")
@click.option("--tool-timeout", type=click.FloatRange(0, min_open=True), default=120.0, show_default=True,
              envvar="SOPORTE_CHAT_TOOL_TIMEOUT",
              help="Seconds to wait for an MCP server to start or answer a call (env SOPORTE_CHAT_TOOL_TIMEOUT).")
@click.option("--retries", type=click.IntRange(0, 10), default=3, show_default=True, envvar="SOPORTE_CHAT_RETRIES",
              help="Retries when the model answers 429 or 5xx, waiting as it asks or 1, 2, 4... s "
              "(env SOPORTE_CHAT_RETRIES).")
@click.option("--backoff", type=click.FloatRange(0), default=1.0, envvar="SOPORTE_CHAT_BACKOFF", hidden=True,
              help="First backoff wait in seconds (env SOPORTE_CHAT_BACKOFF; for tests).")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-v info, -vv debug).")
def main(prompt: str | None, interactive: bool, como_json: bool, verbose: int, **opciones: Any) -> None:  # noqa: ANN401
    """Chat in natural language with the soporte-mcp tools (or any MCP server) through any
    OpenAI-compatible model.

    By default it starts the bundled soporte-mcp server over stdio on the configured
    database: run `soporte-mcp seed` once, set OPENAI_API_KEY, and ask. Tools that may
    modify data (payments, tickets) run only after you confirm them, unless --yes.

    In the chat: /tools, /clear, /help, /exit; Ctrl-C stops the current answer.
    """
    logging.basicConfig(level={0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    pregunta = _pregunta(prompt, interactive=interactive, como_json=como_json)
    try:
        ajustes = _ajustes(pregunta, como_json, **opciones)
        turno = anyio.run(_chatear, ajustes)
    except SoporteError as exc:
        raise click.ClickException(exc.mensaje) from exc
    if turno is not None and turno.limite_alcanzado:
        click.get_current_context().exit(1)


def _pregunta(prompt: str | None, *, interactive: bool, como_json: bool) -> str | None:
    """The one-shot request (from -p or stdin), or None for the interactive chat."""
    if prompt is not None and interactive:
        raise click.UsageError("-p and --interactive exclude each other.")
    if prompt is None and (interactive or sys.stdin.isatty()):
        if como_json:
            raise click.UsageError("--json needs a one-shot request (-p TEXT, or piped on stdin).")
        return None
    texto = (prompt if prompt is not None else sys.stdin.read()).strip()
    if not texto:
        raise click.UsageError("Empty request: pass -p TEXT, pipe one on stdin, or run in a terminal to chat.")
    return texto


def _ajustes(pregunta: str | None, como_json: bool, **o: Any) -> Ajustes:  # noqa: ANN401
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
        raise click.UsageError("--header applies to --server URLs; give at least one --server.")
    if not urls and config is None:
        return [srv.incluido(database_url)]
    desde_config = srv.leer_configuracion(config) if config is not None else []
    return srv.sin_nombres_repetidos(desde_config + srv.remotos(urls, pares))


async def _chatear(a: Ajustes) -> Turno | None:
    """Open the model client and the MCP sessions for the whole chat, then answer."""
    async with AsyncExitStack() as pila:
        try:
            return await _sesion(a, pila)
        except SoporteError as exc:
            # Re-raised once the sessions are closed: raised through their task groups it would
            # come out wrapped in an ExceptionGroup.
            fallo = exc
    raise fallo


async def _sesion(a: Ajustes, pila: AsyncExitStack) -> Turno | None:
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
        return None
    turno = await conversacion.turno(a.pregunta)
    salida.imprimir(turno, modelo=a.modelo)
    return turno
