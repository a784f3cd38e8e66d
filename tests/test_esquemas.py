"""What MCP clients see before calling: names, flat arguments, enums, annotations, output schemas."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

HERRAMIENTAS = ["buscarCliente", "consultarSaldo", "crearTicket", "registrarPago", "estadisticas"]


async def tools(client) -> dict:  # noqa: ANN001
    return {t.name: t for t in (await client.list_tools()).tools}


async def test_the_five_tools_keep_their_names_and_flat_arguments(client) -> None:  # noqa: ANN001
    t = await tools(client)
    assert sorted(t) == sorted(HERRAMIENTAS)
    args = {n: sorted(h.input_schema["properties"]) for n, h in t.items()}
    assert args == {
        "buscarCliente": ["incluirInactivos", "limite", "query"],
        "consultarSaldo": ["clienteId"],
        "crearTicket": ["clienteId", "descripcion", "prioridad", "titulo"],
        "registrarPago": ["clienteId", "descripcion", "idempotencyKey", "metodoPago", "monto"],
        "estadisticas": [],
    }
    assert t["registrarPago"].input_schema["required"] == ["clienteId", "monto"]
    assert t["crearTicket"].input_schema["required"] == ["clienteId", "titulo", "descripcion"]


async def test_allowed_values_are_declared_as_enums(client) -> None:  # noqa: ANN001
    t = await tools(client)
    assert t["crearTicket"].input_schema["properties"]["prioridad"]["enum"] == ["baja", "media", "alta", "critica"]
    assert t["registrarPago"].input_schema["properties"]["metodoPago"]["enum"] == [
        "efectivo", "tarjeta", "transferencia", "cheque"]
    monto = t["registrarPago"].input_schema["properties"]["monto"]
    assert {"type": "number"} in monto["anyOf"] and {"type": "string"} in monto["anyOf"]


async def test_annotations_are_honest(client) -> None:  # noqa: ANN001
    t = await tools(client)
    for nombre in ("buscarCliente", "consultarSaldo", "estadisticas"):
        assert t[nombre].annotations.read_only_hint is True, nombre
    for nombre in ("crearTicket", "registrarPago"):
        a = t[nombre].annotations
        assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, False, False), nombre
    assert all(h.annotations.open_world_hint is False for h in t.values())


async def test_every_tool_has_an_output_schema_and_a_description_for_the_model(client) -> None:  # noqa: ANN001
    for nombre, h in (await tools(client)).items():
        assert h.output_schema and h.output_schema["type"] == "object", nombre
        assert len(h.description) > 80, nombre
        for arg, prop in h.input_schema["properties"].items():
            assert prop.get("description"), f"{nombre}.{arg}"
    t = await tools(client)
    assert "urgente" in t["crearTicket"].input_schema["properties"]["prioridad"]["description"].lower()
    assert "AUMENTA" in t["registrarPago"].description


async def test_results_come_as_structured_content_and_the_same_json_as_text(client) -> None:  # noqa: ANN001
    import json

    r = await client.call_tool("consultarSaldo", {"clienteId": 1})
    assert json.loads(r.content[0].text) == r.structured_content


async def test_both_protocol_generations_in_memory(server) -> None:  # noqa: ANN001
    from mcp import Client

    for mode in ("legacy", "auto"):
        async with Client(server, mode=mode) as c:
            r = await c.call_tool("buscarCliente", {"query": "maria"})
            assert r.structured_content["clientes"][0]["id"] == 1, mode


async def test_descriptions_read_as_plain_text_without_code_indentation(client) -> None:  # noqa: ANN001
    for nombre, h in (await tools(client)).items():
        assert "\n    " not in h.description, nombre
