"""The published catalogue (tools/catalogo.json), from which tools/list is answered, is what the tools publish."""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from soporte_mcp.config import POLITICAS_CONFIRMACION
from soporte_mcp.db.perezosa import BasePerezosa
from soporte_mcp.server import build_server
from soporte_mcp.tools import catalogo

pytestmark = pytest.mark.anyio

REGENERAR = "tools/catalogo.json no coincide con las herramientas: regénerelo con python -m soporte_mcp.tools.catalogo"


def publicadas(herramientas: list) -> list[dict]:
    return [h.model_dump(by_alias=True, mode="json", exclude_none=True) for h in herramientas]


@pytest.mark.parametrize("politica", POLITICAS_CONFIRMACION)
async def test_the_catalogue_is_exactly_what_the_registered_tools_publish_under_each_policy(
    settings, db, politica
) -> None:
    servidor = build_server(settings.model_copy(update={"confirmar_pagos": politica}), db)  # registered at once
    assert publicadas(await servidor.list_tools()) == publicadas(await MCPServer.list_tools(servidor)), REGENERAR


async def test_a_server_on_a_database_not_yet_opened_lists_its_tools_before_building_them_and_builds_them_for_a_call(
    settings, db
) -> None:
    servidor = build_server(settings, BasePerezosa.abierta(db))
    async with Client(servidor) as client:
        assert len((await client.list_tools()).tools) == len(catalogo.herramientas("auto"))
        assert await MCPServer.list_tools(servidor) == []  # nothing built yet
        resultado = await client.call_tool("buscarCliente", {"query": "maria garcia"})
    assert not resultado.is_error
    assert len(await MCPServer.list_tools(servidor)) == len(catalogo.herramientas("auto"))
