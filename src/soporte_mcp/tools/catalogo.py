"""The tools as ``tools/list`` publishes them, shipped in catalogo.json: the server lists them without building them.

Why (issue 13): registering the nine tools builds a pydantic model and JSON schemas per
tool and imports the result models, about a tenth of a stdio cold start that the host
waits for before its first ``tools/list``. What the list says is a function of the code
alone, so it is written with the code (``python -m soporte_mcp.tools.catalogo``) and
shipped with the package. The server (server.py) answers ``tools/list``, and the HTTP
transport's input-schema lookups, from it, and builds the tools when the first call
needs them, or in the background after the first ``tools/list``.

tests/tools/test_catalogo.py fails, saying how to regenerate the file, as soon as it no
longer matches what the registered tools publish.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from mcp.types import Tool as MCPTool

ARCHIVO = Path(__file__).with_name("catalogo.json")
# Declared in the tool's _meta when the server asks the person itself, so that a client that would
# ask too (soporte-chat) can leave it to the server. Absent under SOPORTE_CONFIRMAR_PAGOS=nunca.
META_CONFIRMA = "soporte/confirmacion"
CONFIRMAN = ("registrarPago", "anularPago")


@cache
def _publicadas() -> tuple[dict[str, Any], ...]:
    """The file's tools as the server publishes them under ``SOPORTE_CONFIRMAR_PAGOS=nunca``."""
    return tuple(json.loads(ARCHIVO.read_text(encoding="utf-8")))


@cache
def _herramientas(confirmar_pagos: str) -> tuple[MCPTool, ...]:
    herramientas = []
    for datos in _publicadas():
        if confirmar_pagos != "nunca" and datos["name"] in CONFIRMAN:
            datos = {**datos, "_meta": {**datos.get("_meta", {}), META_CONFIRMA: "elicitation"}}
        herramientas.append(MCPTool.model_validate(datos))
    return tuple(herramientas)


def herramientas(confirmar_pagos: str) -> list[MCPTool]:
    """The answer of ``tools/list`` under a confirmation policy (auto, siempre, nunca)."""
    return list(_herramientas(confirmar_pagos))


def esquema_de_entrada(nombre: str) -> dict[str, Any] | None:
    """The input schema of tool ``nombre`` (None: no such tool)."""
    return next((datos["inputSchema"] for datos in _publicadas() if datos["name"] == nombre), None)


async def generar() -> list[dict[str, Any]]:
    """What the registered tools publish under ``nunca``: the file's content, built the slow way."""
    from mcp.server.mcpserver import MCPServer

    from soporte_mcp.config import Settings
    from soporte_mcp.server import build_server

    servidor = build_server(Settings(confirmar_pagos="nunca"))
    servidor.registrar_herramientas()
    construidas = await MCPServer.list_tools(servidor)  # the SDK's own list, not this file's
    return [h.model_dump(by_alias=True, mode="json", exclude_none=True) for h in construidas]


def main() -> None:
    """Write catalogo.json from the registered tools (run after changing a tool, its schema or its docstring)."""
    import anyio

    ARCHIVO.write_text(json.dumps(anyio.run(generar), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
