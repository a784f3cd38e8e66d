"""What every tool adapter shares: publishing a tool, the caller for the audit trail, running its service.

Adapters bind their arguments once, in the service call: the audit row takes
the arguments as the client sent them from the request itself (``peticion``).
Refusals are not translated here but once for every tool, in
``ServidorSoporte.call_tool`` (server.py), which also audits calls refused
before any adapter ran (wrong arguments, unknown tool).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import pydantic_core
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp.types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations

from soporte_mcp.dominio import Llamada, Tipo
from soporte_mcp.state import AppState

T = TypeVar("T")

LECTURA = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# Writes that add a record: never destructive, and a repeat adds another one.
ESCRITURA = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)

# Each published tool's kind of operation, for the audit row of a call refused before its adapter ran.
TIPOS: dict[str, Tipo] = {}


@dataclass(frozen=True)
class Peticion:
    """The tool call being served, as the client sent it."""

    herramienta: str
    argumentos: Mapping[str, Any]
    origen: Llamada | None = None  # who is calling, worked out once per call (None without a context)
    app: AppState | None = None  # the server's state, read once per call (None without a context)


_peticion: ContextVar[Peticion | None] = ContextVar("soporte_peticion", default=None)


class peticion:  # noqa: N801 - used as a function: ``with peticion(...):``
    """Make the call being served visible to ``ejecutar`` (set around each tools/call).

    A class, not a ``@contextmanager`` generator: every tool call passes through it (issue 13).
    """

    __slots__ = ("_peticion", "_token")

    def __init__(
        self, herramienta: str, argumentos: Mapping[str, Any], origen: Llamada | None = None,
        app: AppState | None = None,
    ) -> None:
        self._peticion = Peticion(herramienta, dict(argumentos), origen, app)

    def __enter__(self) -> None:
        self._token = _peticion.set(self._peticion)

    def __exit__(self, *_: object) -> None:
        _peticion.reset(self._token)


def publicar(
    server: MCPServer, fn: Callable[..., Any], nombre: str, titulo: str, anotaciones: ToolAnnotations, tipo: Tipo
) -> None:
    """Register ``fn`` as the tool ``nombre``; its docstring, dedented, is what the model reads."""
    if anotaciones.read_only_hint != (not tipo.escribe):
        raise ValueError(f"{nombre}: las anotaciones no coinciden con el tipo de operación {tipo}")
    TIPOS[nombre] = tipo
    server.tool(name=nombre, title=titulo, description=inspect.cleandoc(fn.__doc__ or ""), annotations=anotaciones)(fn)
    herramienta = server._tool_manager.get_tool(nombre)
    herramienta.fn_metadata = ResultadoDirecto.de(herramienta.fn_metadata)


@dataclass(frozen=True, slots=True)
class EnJson:
    """A tool's result already in its JSON form (a service's ``..._json``): sent as it is, as the
    ``structuredContent`` of the output model the tool declares (see ResultadoDirecto)."""

    datos: dict[str, Any]


class ResultadoDirecto(FuncMetadata):
    """The SDK's function metadata, with our result models turned into a tool result in one pass.

    Why (issue 13): for a result of its output model the SDK validates the model it
    already is (pydantic returns the same instance), dumps it, and serialises it a
    second time from the model, indented, for the text block: ≈ 90 µs of a
    ten-customer search.  Here the dump is made once and the text block is that
    same JSON, compact (the same content, a quarter smaller, and so cheaper for every
    later step of the SDK and for the model that reads it).  A result the service
    gave in its JSON form (``EnJson``: the hot reads) needs no dump at all.  Anything
    else (a subclass, a confirmation's ``InputRequiredResult``) takes the SDK's own path.
    """

    @classmethod
    def de(cls, metadatos: FuncMetadata) -> ResultadoDirecto:
        return cls.model_construct(**{campo: getattr(metadatos, campo) for campo in FuncMetadata.model_fields})

    def convert_result(self, result: Any) -> CallToolResult | InputRequiredResult:
        if type(result) is EnJson and self.output_model is not None and not self.wrap_output:
            estructurado = result.datos  # the service's own JSON form of the output model (EnJson)
        elif self.output_model is None or type(result) is not self.output_model or self.wrap_output:
            return super().convert_result(result)
        else:
            estructurado = result.model_dump(mode="json", by_alias=True)
        texto = pydantic_core.to_json(estructurado).decode()
        # Built, not validated: both parts are the dump just made (validating walked it once more).
        contenido = [TextContent.model_construct(type="text", text=texto)]
        return CallToolResult.model_construct(content=contenido, structured_content=estructurado)


def estado(ctx: Context) -> AppState:
    actual = _peticion.get()
    if actual is not None and actual.app is not None:  # read once for the call (see ``llamada``)
        return actual.app
    return ctx.request_context.lifespan_context


def llamada(ctx: Context, herramienta: str, argumentos: Mapping[str, Any], contexto: Any = None) -> Llamada:
    """Who is calling: the token's name (over HTTP with auth), the MCP client's name and
    version, and the address over HTTP.

    ``ctx.request_context`` is read once, or not at all when the caller has it (``contexto``):
    each read of it is a pydantic private attribute (≈ 2 µs), and a call used to read it
    five times (issue 13's profile).
    """
    if contexto is None:
        contexto = ctx.request_context
    token = get_access_token()
    cliente = _cliente(contexto.session)
    ip = getattr(getattr(contexto.request, "client", None), "host", None)
    if token is None:
        return Llamada(herramienta=herramienta, argumentos=argumentos, usuario=cliente, ip=ip)
    quien = token.subject or token.client_id
    return Llamada(
        herramienta=herramienta,
        argumentos=argumentos,
        usuario=f"{quien} ({cliente})" if cliente else quien,
        ip=ip,
        puede_escribir="write" in token.scopes,
    )


def _cliente(sesion: Any) -> str | None:
    params = sesion.client_params
    if params is None:
        return None
    info = params.client_info
    return f"{info.name} {info.version}".strip()


async def ejecutar(ctx: Context, servicio: Callable[..., T], *, en_hilo: bool = False, **kwargs: Any) -> T:
    """Run ``servicio(db=..., llamada=..., **kwargs)`` for the tool call being served.

    The audit row gets the tool's name and its arguments as the client sent
    them (see ``peticion``).  A writing tool's service, and a slow one
    (``en_hilo``), run in a worker thread even on SQLite (see ``Database.run``).

    Raises:
        SoporteError: whatever the service refuses, or ``BaseDeDatosNoDisponible`` when the database
            cannot be opened; ``ServidorSoporte`` turns it into the tool error.
    """
    actual = _peticion.get()
    if actual is None:
        raise RuntimeError("ejecutar() fuera de una llamada a una herramienta")
    db = await estado(ctx).db()
    origen = actual.origen or llamada(ctx, actual.herramienta, actual.argumentos)
    # A write may wait up to the busy timeout for SQLite's write lock: never on the event loop
    # (issue 13: one waiting payment froze its whole worker). Reads take no lock and stay inline.
    if TIPOS.get(actual.herramienta, Tipo.CONSULTA).escribe:
        correr = db.escribir
    else:
        correr = db.run_en_hilo if en_hilo else db.run
    return await correr(servicio, db=db, llamada=origen, **kwargs)
