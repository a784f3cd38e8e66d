"""How a refused tool call reaches an MCP client: one Spanish sentence for the model, a code for programs.

Every refusal, whoever raised it (a service rule, the input schema before any
rule ran, an unknown tool name, a busy database), becomes the same shape:

    isError: true
    content: [{"type": "text", "text": <mensaje>}]
    _meta: {"soporte/codigo": ..., "soporte/reintentable": true|false}

No ``structuredContent``: a tool with an ``outputSchema`` promises that shape,
and strict clients (the MCP Inspector 2.12 CLI) check an error's structured
content against it too and turn our refusal into their own failure.

The SDK's own English (``Error executing tool X:`` and pydantic's dump with
its errors.pydantic.dev links) never reaches the client.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

from soporte_mcp.errors import ArgumentoInvalido, SoporteError

CLAVE_META = "soporte/codigo"
CLAVE_REINTENTABLE = "soporte/reintentable"


def resultado_de_error(exc: SoporteError) -> CallToolResult:
    """The tool result of a refusal: its message as text, its code (and whether to retry) in _meta."""
    return CallToolResult(
        content=[TextContent(type="text", text=exc.mensaje)],
        is_error=True,
        _meta={CLAVE_META: exc.codigo, CLAVE_REINTENTABLE: exc.reintentable},
    )


def argumento_invalido(herramienta: str, exc: ValidationError, esquema: Mapping[str, Any]) -> ArgumentoInvalido:
    """One Spanish line naming each wrong argument and what it expects, from pydantic's errors and the schema."""
    propiedades = esquema.get("properties", {})
    frases: dict[str, str] = {}
    for error in exc.errors():
        campo = str(error["loc"][0]) if error["loc"] else "argumentos"
        if campo in frases:  # a union reports one error per branch; one sentence per field is enough
            continue
        frases[campo] = _frase(campo, error, propiedades.get(campo, {}))
    return ArgumentoInvalido(
        f"Argumentos no válidos para {herramienta}: {'; '.join(frases.values())}. "
        "Corrija esos argumentos y vuelva a llamar a la herramienta."
    )


def _frase(campo: str, error: Mapping[str, Any], propiedad: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return f"falta «{campo}», que es obligatorio: {_esperado(propiedad)}"
    if error["type"] == "string_too_long":
        return f"«{campo}» admite como máximo {error['ctx']['max_length']} caracteres"
    if error["type"] == "string_too_short":
        return f"«{campo}» necesita al menos {error['ctx']['min_length']} caracteres"
    return f"«{campo}» debe ser {_esperado(propiedad)}; se recibió {_mostrar(error.get('input'))}"


TIPOS = {
    "integer": "un número entero",
    "number": "un número",
    "string": "un texto",
    "boolean": "true o false",
    "array": "una lista",
    "object": "un objeto",
}


def _esperado(propiedad: Mapping[str, Any]) -> str:
    if "enum" in propiedad:
        return "uno de: " + ", ".join(map(str, propiedad["enum"]))
    tipos = [p.get("type") for p in propiedad.get("anyOf", [propiedad])]
    nombres = list(dict.fromkeys(TIPOS[t] for t in tipos if t in TIPOS and t != "null"))
    texto = " o ".join(nombres) or "un valor válido"
    limites = [f"mínimo {propiedad['minimum']}" if "minimum" in propiedad else "",
               f"máximo {propiedad['maximum']}" if "maximum" in propiedad else ""]
    limites = [x for x in limites if x]
    return f"{texto} ({', '.join(limites)})" if limites else texto


def _mostrar(valor: object) -> str:
    if isinstance(valor, float) and not math.isfinite(valor):
        return "un número infinito o no numérico"
    texto = json.dumps(valor, ensure_ascii=False, default=str)
    return texto if len(texto) <= 60 else texto[:57] + "..."
