"""Which MCP servers the chat uses, and their sessions, open for the whole chat.

Three sources: the bundled soporte-mcp server over stdio (the default), ``--server URL``
(streamable HTTP, with ``--header``), and ``--config FILE`` in Claude Desktop's
``mcpServers`` format, whose entries are either ``command``/``args``/``env`` (stdio) or
``url``/``headers`` (streamable HTTP).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import anyio
import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client import advertise
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation, Tool
from pydantic import BaseModel, ConfigDict, ValidationError

from soporte_mcp import __version__
from soporte_mcp.chat.errores import ConfiguracionInvalida, ServidorNoDisponible, causa_legible
from soporte_mcp.chat.formulario import Formularios
from soporte_mcp.chat.herramientas import Caja, listar_tools, nombre_seguro

NOMBRE_INCLUIDO = "soporte"
# MCP Apps, as a host declares it (the values of mcp.server.apps, not imported: the chat is a client).
EXTENSION_APPS = "io.modelcontextprotocol/ui"
MIME_APP = "text/html;profile=mcp-app"
CLIENTE = Implementation(name="soporte-chat", version=__version__)
# What create_mcp_http_client uses: a server may hold a response stream open for a while.
TIEMPOS_HTTP = httpx2.Timeout(30.0, read=300.0)


@dataclass(frozen=True)
class Servidor:
    """How to reach one MCP server: a command to start over stdio, or a URL."""

    nombre: str
    comando: StdioServerParameters | None = None
    url: str | None = None
    cabeceras: Mapping[str, str] = field(default_factory=dict)

    @property
    def descripcion(self) -> str:
        if self.comando is not None:
            return " ".join([self.comando.command, *self.comando.args])
        return str(self.url)


def incluido(database_url: str | None) -> Servidor:
    """The bundled soporte-mcp server over stdio, on the configured database.

    The SDK gives a stdio child only PATH, HOME and a few more, so the ``SOPORTE_*``
    settings are passed on explicitly.
    """
    env = {k: v for k, v in os.environ.items() if k.startswith("SOPORTE_") and not k.startswith("SOPORTE_CHAT_")}
    if database_url:
        env["SOPORTE_DATABASE_URL"] = database_url
    comando = StdioServerParameters(command=sys.executable, args=["-m", "soporte_mcp", "serve"], env=env)
    return Servidor(NOMBRE_INCLUIDO, comando=comando)


def remotos(urls: Iterable[str], cabeceras: Mapping[str, str]) -> list[Servidor]:
    """One streamable-HTTP server per ``--server`` URL, named after its host and port."""
    servidores = []
    for url in urls:
        partes = urlsplit(url)
        if partes.scheme not in ("http", "https") or not partes.netloc:
            raise ConfiguracionInvalida(f"--server {url!r} no es una URL http(s)://, p. ej. http://127.0.0.1:8000/mcp")
        servidores.append(Servidor(nombre_seguro(partes.netloc), url=url, cabeceras=dict(cabeceras)))
    return servidores


def cabecera(texto: str) -> tuple[str, str]:
    """``'Name: value'`` as a pair (raises ConfiguracionInvalida)."""
    nombre, separador, valor = texto.partition(":")
    if not separador or not nombre.strip() or " " in nombre.strip():
        raise ConfiguracionInvalida(
            f"--header {texto!r}: se espera 'Nombre: valor', p. ej. 'Authorization: Bearer ...'")
    return nombre.strip(), valor.strip()


class _Entrada(BaseModel):
    """One ``mcpServers`` entry; unknown keys other clients add are ignored."""

    model_config = ConfigDict(extra="ignore")

    command: str | None = None
    args: list[str] = []
    env: dict[str, str] = {}
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = {}
    type: str | None = None
    disabled: bool = False


def leer_configuracion(ruta: Path) -> list[Servidor]:
    """The enabled servers of a Claude Desktop-style ``mcpServers`` file (raises ConfiguracionInvalida)."""
    try:
        datos = json.loads(ruta.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfiguracionInvalida(f"No se pudo leer {ruta}: {exc}") from exc
    entradas = datos.get("mcpServers") if isinstance(datos, dict) else None
    if not isinstance(entradas, dict) or not entradas:
        raise ConfiguracionInvalida(f"{ruta} no tiene servidores en \"mcpServers\" (formato de Claude Desktop).")
    servidores = [_servidor(ruta, nombre, valor) for nombre, valor in entradas.items()]
    return [s for s in servidores if s is not None]


def _servidor(ruta: Path, nombre: str, valor: object) -> Servidor | None:
    try:
        entrada = _Entrada.model_validate(valor)
    except ValidationError as exc:
        mensaje = f"{ruta}: el servidor {nombre!r} no es válido: {_que_falla(exc)}"
        raise ConfiguracionInvalida(mensaje) from exc
    if entrada.disabled:
        return None
    if (entrada.command is None) == (entrada.url is None):
        raise ConfiguracionInvalida(f"{ruta}: el servidor {nombre!r} necesita \"command\" o \"url\" (uno de los dos).")
    if entrada.type == "sse":
        raise ConfiguracionInvalida(f"{ruta}: el servidor {nombre!r} usa SSE; soporte-chat habla streamable HTTP.")
    if entrada.url is not None:
        return Servidor(nombre, url=entrada.url, cabeceras=entrada.headers)
    comando = StdioServerParameters(command=entrada.command, args=entrada.args, env=entrada.env, cwd=entrada.cwd)
    return Servidor(nombre, comando=comando)


# What each kind of value in an mcpServers entry should be, for pydantic's error types.
_ESPERADO = {"string_type": "un texto", "list_type": "una lista de textos", "dict_type": "un objeto",
             "model_type": "un objeto", "bool_type": "true o false", "bool_parsing": "true o false"}


def _que_falla(exc: ValidationError) -> str:
    error = exc.errors()[0]
    campo = ".".join(str(parte) for parte in error["loc"])
    esperado = _ESPERADO.get(error["type"], "otro valor")
    return f"{campo!r} debe ser {esperado}" if campo else f"la entrada debe ser {esperado}"


def sin_nombres_repetidos(servidores: Sequence[Servidor]) -> list[Servidor]:
    """The same servers, renamed ``name_2``... where two share a name (e.g. two --server on one host)."""
    vistos: set[str] = set()
    salida = []
    for s in servidores:
        nombre, n = s.nombre, 1
        while nombre in vistos:
            n += 1
            nombre = f"{s.nombre}_{n}"
        vistos.add(nombre)
        salida.append(Servidor(nombre, s.comando, s.url, s.cabeceras))
    return salida


async def conectar(
    servidores: Sequence[Servidor], pila: AsyncExitStack, *, timeout: float, formularios: Formularios | None = None,
    apps: bool = False,
) -> Caja:
    """Open a session with every server on ``pila`` and list its tools.

    One after the other: each session's tasks must be entered and left by the task
    that owns ``pila``.  With ``formularios`` the chat declares elicitation and answers each
    server's forms with them.  With ``apps`` it declares MCP Apps (the web chat shows the
    views; the terminal cannot, so a server does not offer them to it).  Raises
    ServidorNoDisponible naming the server that failed.
    """
    clientes: dict[str, Client] = {}
    tools: dict[str, list[Tool]] = {}
    for servidor in servidores:
        try:
            cliente = await _cliente(servidor, pila, timeout, formularios, apps=apps)
            clientes[servidor.nombre] = await pila.enter_async_context(cliente)
            tools[servidor.nombre] = await listar_tools(clientes[servidor.nombre])
        except (OSError, MCPError, httpx2.HTTPError, anyio.BrokenResourceError, ExceptionGroup) as exc:
            raise ServidorNoDisponible(
                f"No se pudo usar el servidor MCP {servidor.nombre!r} ({servidor.descripcion}): {_causa(exc)}"
            ) from exc
    caja = Caja.armar(clientes, tools)
    caja.formularios = formularios
    return caja


async def _cliente(
    servidor: Servidor, pila: AsyncExitStack, timeout: float, formularios: Formularios | None, *, apps: bool
) -> Client:
    if servidor.comando is not None:
        transporte = stdio_client(servidor.comando, errlog=_stderr_heredable())
    else:
        http = await pila.enter_async_context(
            httpx2.AsyncClient(headers=dict(servidor.cabeceras), timeout=TIEMPOS_HTTP))
        transporte = streamable_http_client(str(servidor.url), http_client=http)
    responder = formularios.para(servidor.nombre) if formularios is not None else None
    extensiones = [advertise(EXTENSION_APPS, {"mimeTypes": [MIME_APP]})] if apps else None
    return Client(transporte, client_info=CLIENTE, read_timeout_seconds=timeout, elicitation_callback=responder,
                  extensions=extensiones)


def _stderr_heredable() -> TextIO:
    # The child inherits our stderr for its logs; under a test runner sys.stderr can be an
    # in-memory buffer with no file descriptor to hand over.
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return sys.__stderr__
    return sys.stderr


def _causa(exc: BaseException) -> str:
    """The first real error inside the SDK's exception groups, as a short text."""
    return causa_legible(exc)
