"""MCP tools as OpenAI tools: names the model may use, one call, and the result as text.

OpenAI accepts tool names matching ``^[a-zA-Z0-9_-]{1,64}$`` and needs them unique
across everything offered, while MCP allows any name and two servers may both have a
``search``.  Each tool is therefore exposed under a derived name, and the chat keeps
the map back to (server, tool).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import anyio
from mcp import Client, MCPError
from mcp.types import TextContent, Tool
from pydantic import ValidationError

if TYPE_CHECKING:
    from soporte_mcp.chat.formulario import Formularios

LARGO_MAXIMO = 64
# OpenAI refused longer function descriptions for a long time (400 string_above_max_length), and
# compatible endpoints may still: better a cut description than a chat that cannot start.
DESCRIPCION_MAXIMA = 1024
PAGINAS_MAXIMAS = 100
_PROHIBIDOS = re.compile(r"[^a-zA-Z0-9_-]")
# The SDK's wording for a tool error; the model reads the server's message better without it.
_PREFIJO_SDK = re.compile(r"^Error executing tool [^:]*: ")
# Where soporte-mcp's refusals carry their code (see soporte_mcp/tools/_errores.py); not imported
# from there, so that the chat, a client of any MCP server, does not load the server's tools.
CLAVE_CODIGO = "soporte/codigo"
# A tool whose server asks the person itself (MCP elicitation) before it writes says so in its _meta.
META_CONFIRMA = "soporte/confirmacion"


@dataclass(frozen=True)
class Herramienta:
    """One MCP tool as offered to the model."""

    expuesta: str
    servidor: str
    nombre: str
    descripcion: str
    esquema: Mapping[str, Any]
    solo_lectura: bool
    # The server declared that it asks the person to confirm this tool in a form of its own.
    confirma_servidor: bool = False

    @classmethod
    def desde_mcp(cls, expuesta: str, servidor: str, tool: Tool) -> Herramienta:
        # Only an explicit readOnlyHint=true counts: the MCP default for a tool that says nothing is "may write".
        solo_lectura = bool(tool.annotations and tool.annotations.read_only_hint is True)
        confirma = (tool.meta or {}).get(META_CONFIRMA) == "elicitation"
        return cls(expuesta, servidor, tool.name, tool.description or "", tool.input_schema, solo_lectura, confirma)

    def para_openai(self) -> dict[str, Any]:
        """The Chat Completions ``tools`` entry for this tool."""
        descripcion = self.descripcion
        if len(descripcion) > DESCRIPCION_MAXIMA:
            descripcion = descripcion[:DESCRIPCION_MAXIMA - 1] + "…"
        funcion = {"name": self.expuesta, "description": descripcion, "parameters": dict(self.esquema)}
        return {"type": "function", "function": funcion}


@dataclass(frozen=True)
class Resultado:
    """What a tool call gave: the text for the model, the structured content for --json, and whether it failed."""

    texto: str
    estructurado: Any = None
    es_error: bool = False
    codigo: str | None = None  # a refusal's stable code, when the server sends one (soporte-mcp does)
    # Something the person must know about the call beyond its result (shown on stderr).
    aviso: str | None = None

    @property
    def para_modelo(self) -> str:
        """The tool message content; failures start with ``Error:`` so the model cannot mistake them for data."""
        return f"Error: {self.texto}" if self.es_error else self.texto

    @property
    def resumen(self) -> str:
        """One line for the screen."""
        if self.estructurado is not None and not self.es_error:
            linea = json.dumps(self.estructurado, ensure_ascii=False)
        else:
            linea = " ".join(self.para_modelo.split())
        return linea if len(linea) <= 160 else linea[:159] + "…"


def nombre_seguro(texto: str) -> str:
    """``texto`` with every character OpenAI refuses replaced by ``_``, cut to 64 with a hash if longer."""
    limpio = _PROHIBIDOS.sub("_", texto) or "herramienta"
    if len(limpio) <= LARGO_MAXIMO:
        return limpio
    huella = hashlib.sha256(texto.encode()).hexdigest()[:8]
    return f"{limpio[:LARGO_MAXIMO - 9]}_{huella}"


def nombres_expuestos(pares: Sequence[tuple[str, str]]) -> list[str]:
    """A valid, unique OpenAI name for each (server, tool), in the same order.

    A tool keeps its own (sanitized) name unless another server has one that
    sanitizes the same; then every such tool is prefixed with its server's name.
    """
    bases = [nombre_seguro(tool) for _, tool in pares]
    repetidas = {b for b, n in Counter(bases).items() if n > 1}
    candidatos = [
        nombre_seguro(f"{servidor}__{tool}") if base in repetidas else base
        for (servidor, tool), base in zip(pares, bases, strict=True)
    ]
    return _sin_duplicados(candidatos)


def _sin_duplicados(nombres: Iterable[str]) -> list[str]:
    # Two servers whose names sanitize alike can still collide after prefixing: number the rest.
    vistos: set[str] = set()
    salida = []
    for nombre in nombres:
        unico, n = nombre, 1
        while unico in vistos:
            n += 1
            unico = f"{nombre[:LARGO_MAXIMO - len(str(n)) - 1]}_{n}"
        vistos.add(unico)
        salida.append(unico)
    return salida


class Caja:
    """The tools of every connected server, under their exposed names."""

    def __init__(self, clientes: Mapping[str, Client], herramientas: Sequence[Herramienta]) -> None:
        self._clientes = dict(clientes)
        self.herramientas = list(herramientas)
        self.instrucciones = {n: c.instructions for n, c in self._clientes.items() if c.instructions}
        # The forms each server showed (None: the chat did not declare elicitation).
        self.formularios: Formularios | None = None
        self._sin_confianza: set[str] = set()

    def confirma_el_servidor(self, herramienta: Herramienta) -> bool:
        """Whether to leave this tool's confirmation to its server instead of asking s/n here.

        Only when the server declared it in the tool's ``_meta`` (the model cannot forge that; the
        server, which does the writing, could as well write without being called) and has kept its
        word: a call that wrote without showing a form makes the chat ask itself from then on.
        """
        return (herramienta.confirma_servidor and self.formularios is not None
                and herramienta.servidor not in self._sin_confianza)

    @classmethod
    def armar(cls, clientes: Mapping[str, Client], tools: Mapping[str, Sequence[Tool]]) -> Caja:
        """Name every server's tools for OpenAI (``tools`` keyed by server, as listed)."""
        pares = [(servidor, tool) for servidor, lista in tools.items() for tool in lista]
        nombres = nombres_expuestos([(servidor, tool.name) for servidor, tool in pares])
        return cls(clientes, [Herramienta.desde_mcp(n, s, t) for n, (s, t) in zip(nombres, pares, strict=True)])

    def ofrecidas(self, *, solo_lectura: bool) -> list[Herramienta]:
        return [h for h in self.herramientas if h.solo_lectura or not solo_lectura]

    async def llamar(self, herramienta: Herramienta, argumentos: dict[str, Any]) -> Resultado:
        """Call the tool on its server; a failure of any kind comes back as an error result, never raised."""
        confiada = self.confirma_el_servidor(herramienta)
        antes = self.formularios.vistos[herramienta.servidor] if self.formularios else 0
        resultado = await self._llamar(herramienta, argumentos)
        if confiada and not resultado.es_error and self.formularios.vistos[herramienta.servidor] == antes \
                and not _repetido(resultado):
            self._sin_confianza.add(herramienta.servidor)
            return replace(resultado, aviso=(
                f"El servidor {herramienta.servidor} dijo que pediría confirmación para {herramienta.nombre} y no "
                "la pidió: a partir de ahora soporte-chat le preguntará a usted antes de cada llamada que modifique "
                "datos en ese servidor."))
        return resultado

    async def _llamar(self, herramienta: Herramienta, argumentos: dict[str, Any]) -> Resultado:
        try:
            r = await self._clientes[herramienta.servidor].call_tool(herramienta.nombre, argumentos)
        except MCPError as exc:
            return Resultado(f"el servidor {herramienta.servidor} rechazó la llamada: {exc}", es_error=True)
        except (OSError, ValidationError, anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            return Resultado(f"el servidor {herramienta.servidor} no respondió ({type(exc).__name__}: {exc})",
                             es_error=True)
        texto = "\n".join(c.text if isinstance(c, TextContent) else f"[{c.type}]" for c in r.content)
        if r.is_error:
            texto = _PREFIJO_SDK.sub("", texto) or "la herramienta falló sin dar detalles"
            return Resultado(texto, es_error=True, codigo=_codigo(r.meta))
        if not texto and r.structured_content is not None:
            texto = json.dumps(r.structured_content, ensure_ascii=False)
        return Resultado(texto, r.structured_content)


def _codigo(meta: Mapping[str, Any] | None) -> str | None:
    """The refusal code soporte-mcp puts in an error result's ``_meta`` (other servers send none)."""
    codigo = (meta or {}).get(CLAVE_CODIGO)
    return codigo if isinstance(codigo, str) else None


def _repetido(resultado: Resultado) -> bool:
    # A retry with the idempotency key of a write already made answers it again without a new question.
    return isinstance(resultado.estructurado, dict) and resultado.estructurado.get("repetido") is True


async def listar_tools(cliente: Client) -> list[Tool]:
    """Every tool of a server, following the pages of tools/list."""
    tools, cursor = [], None
    for _ in range(PAGINAS_MAXIMAS):  # a server whose cursor never ends cannot hang the start
        pagina = await cliente.list_tools(cursor=cursor)
        tools.extend(pagina.tools)
        cursor = pagina.next_cursor
        if cursor is None:
            break
    return tools
