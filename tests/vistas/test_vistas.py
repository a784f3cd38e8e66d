"""The MCP Apps views as an MCP client sees them: offered only to a client that negotiated the extension.

The views in a browser, through the real ext-apps AppBridge, are in test_vistas_navegador.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import ClientExtension
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from soporte_mcp.vistas import VISTAS, html
from tests.conftest import CLIENT_INFO, call, ok
from vistas import construir

pytestmark = pytest.mark.anyio

URIS = {
    "consultarSaldo": "ui://soporte/cliente.html",
    "buscarCliente": "ui://soporte/busqueda.html",
    "estadisticas": "ui://soporte/panel.html",
}
MAXIMO_BYTES = 60_000


class ConApps(ClientExtension):
    """What an MCP Apps host declares (Claude, VS Code, the ext-apps examples)."""

    identifier = EXTENSION_ID

    def __init__(self, mime_types: list[str] | None = None) -> None:
        self.mime_types = [APP_MIME_TYPE] if mime_types is None else mime_types

    def settings(self) -> dict[str, Any]:
        return {"mimeTypes": self.mime_types}


@pytest.fixture(params=["legacy", "auto"])
def modo(request: pytest.FixtureRequest) -> str:
    """Both protocol generations: 2025-11-25 (initialize) and 2026-07-28 (per-request capabilities)."""
    return request.param


@pytest.fixture
async def anfitrion(server, modo: str) -> AsyncIterator[Client]:
    async with Client(server, mode=modo, client_info=CLIENT_INFO, extensions=[ConApps()]) as c:
        yield c


@pytest.fixture
async def sin_apps(server, modo: str) -> AsyncIterator[Client]:
    async with Client(server, mode=modo, client_info=CLIENT_INFO) as c:
        yield c


def interfaz(herramienta: Any) -> dict[str, Any] | None:
    return (herramienta.meta or {}).get("ui")


async def test_a_host_with_apps_sees_three_views_as_mcp_app_html_with_their_ui_meta(
    anfitrion: Client,
) -> None:
    listados = {
        str(r.uri): r for r in (await anfitrion.list_resources()).resources if str(r.uri).startswith("ui://")
    }
    assert sorted(listados) == sorted(URIS.values())
    for uri, recurso in listados.items():
        assert recurso.mime_type == APP_MIME_TYPE, uri
        assert recurso.title and recurso.description, uri
        (contenido,) = (await anfitrion.read_resource(uri)).contents
        assert contenido.mime_type == APP_MIME_TYPE, uri
        assert contenido.meta == {"ui": {"prefersBorder": True}}, uri
        assert contenido.text.startswith("<!doctype html>") and '<html lang="es">' in contenido.text, uri


async def test_a_host_with_apps_sees_the_view_of_each_of_the_three_tools_and_no_other(
    anfitrion: Client,
) -> None:
    herramientas = {t.name: t for t in (await anfitrion.list_tools()).tools}
    assert {n: interfaz(t) for n, t in herramientas.items() if interfaz(t)} == {
        n: {"resourceUri": uri} for n, uri in URIS.items()
    }
    assert interfaz(herramientas["crearTicket"]) is None and interfaz(herramientas["registrarPago"]) is None


async def test_a_client_without_apps_gets_todays_tool_and_resource_lists(sin_apps: Client) -> None:
    herramientas = (await sin_apps.list_tools()).tools
    # Other _meta (soporte/confirmacion) is everyone's; only the views' ui is for Apps hosts.
    assert [t.name for t in herramientas if "ui" in (t.meta or {})] == []
    assert [
        str(r.uri) for r in (await sin_apps.list_resources()).resources if str(r.uri).startswith("ui://")
    ] == []


async def test_declaring_the_extension_without_the_html_mime_type_is_not_negotiating_it(
    server, modo: str
) -> None:
    async with Client(server, mode=modo, client_info=CLIENT_INFO, extensions=[ConApps(mime_types=[])]) as c:
        assert [t.name for t in (await c.list_tools()).tools if "ui" in (t.meta or {})] == []


async def test_tool_answers_are_the_same_with_and_without_apps(anfitrion: Client, sin_apps: Client) -> None:
    for nombre, argumentos in (("consultarSaldo", {"clienteId": 1}), ("buscarCliente", {"query": "maria"})):
        con, sin = await call(anfitrion, nombre, argumentos), await call(sin_apps, nombre, argumentos)
        assert ok(con) == ok(sin), nombre
        assert [c.text for c in con.content] == [c.text for c in sin.content], nombre
        assert con.meta == sin.meta, nombre


async def test_the_2026_handshake_advertises_the_extension(server) -> None:
    # On 2025-11-25 mcp 2.3 puts no `extensions` in the initialize result: hosts key on the tools' _meta.ui.
    async with Client(server, mode="auto", client_info=CLIENT_INFO, extensions=[ConApps()]) as c:
        assert c.server_capabilities.extensions == {EXTENSION_ID: {}}


def test_each_view_is_one_small_document_with_nothing_remote_and_no_markup_from_data() -> None:
    for vista in VISTAS:
        documento = html(vista.archivo)
        assert len(documento.encode()) <= MAXIMO_BYTES, vista.archivo
        # No CDN, font or image from elsewhere: the host's CSP would block it.
        assert not re.search(
            r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import""", documento
        ), vista.archivo
        # Data goes in as text: no API that parses a string as HTML.
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(", documento), (
            vista.archivo
        )


def test_the_committed_views_are_what_the_build_script_makes_of_their_sources() -> None:
    assert construir.main(["--comprobar"]) == 0, "ejecute python vistas/construir.py y confirme el resultado"
