"""A server's form (MCP elicitation, form mode) answered in the terminal.

soporte-chat declares elicitation, so a server may ask the person something in the
middle of a call: soporte-mcp asks to confirm a payment or a reversal with the data
in the message and one yes/no field.  The form is shown on stderr and each field is
read from stdin (its title, its description, its default); a boolean is answered s/n.
``--yes`` accepts (booleans yes, defaults elsewhere; a required field without a
default cannot be made up, so that form is declined).  When nobody is left to answer
(stdin ended, as when the request itself came on stdin) the form is declined;
Ctrl-C cancels it.

``Formularios`` also counts the forms each server showed: the chat leaves the
confirmation of a tool to its server only while that server keeps its word
(see ``herramientas.Caja``).  Who answers is pluggable: the terminal by default;
the web chat passes ``a_quien_llama``, which hands the form to the page whose call
the server is running (the ``Elicitador`` given to ``Caja.llamar`` for that call).
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import click
from mcp.types import INVALID_REQUEST, ElicitRequestFormParams, ElicitRequestParams, ElicitResult, ErrorData

from soporte_mcp.chat.senales import ctrl_c_interrumpe

SI = {"s", "si", "sí", "y", "yes"}
NO = {"n", "no"}
INTENTOS = 3
# Terminal control characters a server could use to rewrite the screen (ESC, CSI...); newlines and tabs stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# Answers one form of a server (its name, the form) with the person's answer.
Responder = Callable[[str, ElicitRequestFormParams], Awaitable[ElicitResult | ErrorData]]
# What a front-end passes with one call (``Caja.llamar``) to answer the forms asked during it.
Elicitador = Callable[[str, ElicitRequestFormParams], Awaitable[ElicitResult]]
_ELICITADOR: ContextVar[Elicitador | None] = ContextVar("elicitador", default=None)
_esperando: list[Elicitador] = []  # the elicitors of the calls in flight, for callbacks outside their task


class SinRespuesta(Exception):
    """stdin ended: nobody can answer."""


class Formularios:
    """The chat's elicitation callbacks, one per server, and how many forms each server showed.

    ``responder`` answers each form (default: the terminal, or ``aceptar`` as with --yes).
    """

    def __init__(self, *, aceptar: bool = False, responder: Responder | None = None) -> None:
        self.aceptar = aceptar
        self.responder = responder
        self.vistos: Counter[str] = Counter()

    def para(self, servidor: str):  # noqa: ANN201 - the SDK's ElicitationFnT
        async def responder(_contexto: Any, params: ElicitRequestParams) -> ElicitResult | ErrorData:
            self.vistos[servidor] += 1
            if not isinstance(params, ElicitRequestFormParams):
                click.echo(f"El servidor {servidor} pidió abrir una dirección web; "
                           "soporte-chat no lo hace: se rechaza.", err=True)
                return ElicitResult(action="decline")
            if self.responder is not None:
                return await self.responder(servidor, params)
            return responder_en_terminal(servidor, params, aceptar=self.aceptar)

        return responder


@contextmanager
def elicitando(elicitar: Elicitador | None) -> Iterator[None]:
    """While a call runs: its forms go to ``elicitar`` (see ``a_quien_llama``)."""
    if elicitar is None:
        yield
        return
    marca = _ELICITADOR.set(elicitar)
    _esperando.append(elicitar)
    try:
        yield
    finally:
        _esperando.remove(elicitar)
        _ELICITADOR.reset(marca)


async def a_quien_llama(servidor: str, params: ElicitRequestFormParams) -> ElicitResult | ErrorData:
    """A ``Formularios`` responder that hands the form to whoever made the call (its ``Elicitador``).

    Found through a context variable or, when the SDK runs the callback in its own task (the
    2025-11-25 protocol), as the only one waiting at that moment; otherwise the form is refused.
    """
    elicitar = _ELICITADOR.get() or (_esperando[0] if len(set(map(id, _esperando))) == 1 else None)
    if elicitar is None:
        return ErrorData(code=INVALID_REQUEST, message="soporte-chat no puede mostrar esta solicitud ahora.")
    return await elicitar(servidor, params)


def responder_en_terminal(servidor: str, params: ElicitRequestFormParams, *, aceptar: bool) -> ElicitResult:
    """Show the form on stderr and read its answers from stdin (or accept it, with --yes)."""
    click.echo(f"\nEl servidor {servidor} le pide:\n{textwrap.indent(_texto(params.message), '  ')}", err=True)
    campos: Mapping[str, Any] = params.requested_schema.get("properties") or {}
    requeridos = set(params.requested_schema.get("required") or [])
    if aceptar:
        return _aceptar_sin_preguntar(campos, requeridos)
    contenido: dict[str, Any] = {}
    try:
        with ctrl_c_interrumpe():
            for nombre, esquema in campos.items():
                valor = _preguntar(nombre, esquema, nombre in requeridos)
                if valor is not None:
                    contenido[nombre] = valor
    except KeyboardInterrupt:
        click.echo("\nFormulario cancelado.", err=True)
        return ElicitResult(action="cancel")
    except SinRespuesta:
        click.echo("\nSin respuesta (la entrada terminó): se rechaza el formulario. Use --yes para aceptarlo.",
                   err=True)
        return ElicitResult(action="decline")
    return ElicitResult(action="accept", content=contenido)


def _aceptar_sin_preguntar(campos: Mapping[str, Any], requeridos: set[str]) -> ElicitResult:
    contenido = {}
    for nombre, esquema in campos.items():
        if esquema.get("type") == "boolean":
            contenido[nombre] = True
        elif "default" in esquema:
            contenido[nombre] = esquema["default"]
        elif nombre in requeridos:
            click.echo(f"--yes no puede inventar «{_titulo(nombre, esquema)}»: se rechaza el formulario.", err=True)
            return ElicitResult(action="decline")
    click.echo("Aceptado (--yes).", err=True)
    return ElicitResult(action="accept", content=contenido)


def _preguntar(nombre: str, esquema: Mapping[str, Any], requerido: bool) -> Any:
    """One field's answer; None for an optional field left empty."""
    tipo = esquema.get("type")
    opciones = esquema.get("enum")
    defecto = esquema.get("default")
    for _ in range(INTENTOS):
        linea = _leer(_enunciado(nombre, esquema, tipo, opciones, defecto))
        if not linea:
            if defecto is not None:
                return defecto
            if not requerido:
                return None
            click.echo("Este dato es obligatorio.", err=True)
            continue
        valor = _convertir(linea, tipo, opciones)
        if valor is not None:
            return valor
        click.echo(_ayuda(tipo, opciones), err=True)
    raise KeyboardInterrupt  # three wrong answers: give up, as Ctrl-C would


def _enunciado(nombre: str, esquema: Mapping[str, Any], tipo: Any, opciones: Any, defecto: Any) -> str:
    partes = [_titulo(nombre, esquema)]
    if esquema.get("description"):
        partes.append(f"({_texto(esquema['description'])})")
    if tipo == "boolean":
        partes.append({True: "[S/n]", False: "[s/N]"}.get(defecto, "[s/n]"))
    else:
        if opciones:
            partes.append(f"{{{', '.join(map(str, opciones))}}}")
        if defecto is not None:
            partes.append(f"[{defecto}]")
    return " ".join(partes) + ": "


def _convertir(linea: str, tipo: Any, opciones: Any) -> Any:
    if tipo == "boolean":
        return True if linea.lower() in SI else False if linea.lower() in NO else None
    if opciones:
        return linea if linea in opciones else None
    try:
        if tipo == "integer":
            return int(linea)
        if tipo == "number":
            return float(linea)
    except ValueError:
        return None
    return linea


def _ayuda(tipo: Any, opciones: Any) -> str:
    if tipo == "boolean":
        return "Responda s (sí) o n (no)."
    if opciones:
        return f"Elija una de: {', '.join(map(str, opciones))}."
    return "Escriba un número." if tipo in ("integer", "number") else "Respuesta no válida."


def _titulo(nombre: str, esquema: Mapping[str, Any]) -> str:
    return _texto(str(esquema.get("title") or nombre))


def _leer(enunciado: str) -> str:
    click.echo(enunciado, err=True, nl=False)
    linea = sys.stdin.readline()
    if not linea:
        raise SinRespuesta
    return linea.strip()


def _texto(valor: str) -> str:
    """A server's text as it may be printed on a terminal: without control characters."""
    return _CONTROL.sub("", valor)
