"""End to end over the real transports: the `soporte-mcp` process over stdio and over streamable HTTP."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from soporte_mcp import __version__
from soporte_mcp.db.engine import Database
from tests._procesos import ServidorHttp, cli, comando, entorno, sembrar, servidor_http
from tests.conftest import CLIENT_INFO, audit_row_where, audit_rows, ok

pytestmark = pytest.mark.anyio

HERRAMIENTAS = {"buscarCliente", "consultarSaldo", "crearTicket", "registrarPago", "estadisticas",
                "listarTickets", "actualizarTicket", "listarPagos", "anularPago"}
GENERACIONES = pytest.mark.parametrize(("modo", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])


@pytest.fixture(scope="module")
def url_sembrada(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sembrar(tmp_path_factory.mktemp("http"))


@pytest.fixture(scope="module")
def servidor(url_sembrada: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServidorHttp]:
    """One HTTP server for the module: the tests below only read, apart from their audit rows."""
    with servidor_http(url_sembrada, tmp_path_factory.mktemp("logs")) as s:
        yield s


@pytest.fixture(scope="module")
def base_http(url_sembrada: str) -> Iterator[Database]:
    database = Database.from_url(url_sembrada)
    yield database
    database.dispose()


async def _comprobar_sesion(client: Client) -> None:
    """What every transport must give: the five tools, María found by name, her balance."""
    herramientas = await client.list_tools()
    assert {t.name for t in herramientas.tools} == HERRAMIENTAS

    busqueda = ok(await client.call_tool("buscarCliente", {"query": "maria garcia"}))
    assert [(c["id"], c["nombre"]) for c in busqueda["clientes"]] == [(1, "María García López")]

    saldo = ok(await client.call_tool("consultarSaldo", {"clienteId": 1}))
    assert saldo["saldo"] == "1250.00"
    assert saldo["cliente"]["nombre"] == "María García López"


# --- stdio ---------------------------------------------------------------------------------------


@GENERACIONES
async def test_stdio_session_in_both_protocol_generations_finds_maria_with_logs_only_on_stderr(
    db, db_url: str, tmp_path: Path, modo: str, version: str
) -> None:
    # -v turns logging on: a log line on stdout would corrupt the protocol and break the session.
    parametros = StdioServerParameters(
        command=comando(), args=["-v", "serve"], env={"SOPORTE_DATABASE_URL": db_url}
    )
    registro = tmp_path / "stderr.log"
    with registro.open("w") as errlog:
        async with Client(stdio_client(parametros, errlog=errlog), mode=modo, client_info=CLIENT_INFO) as client:
            assert client.protocol_version == version
            await _comprobar_sesion(client)

    assert "sirviendo por stdio" in registro.read_text()
    ultima = audit_rows(db)[-1]
    assert (ultima.herramienta, ultima.usuario, ultima.ip_address) == ("consultarSaldo", "pytest-client 1.0", None)


async def test_python_dash_m_stdio_server_writes_only_json_rpc_to_stdout_and_exits_when_stdin_closes(
    db, db_url: str, tmp_path: Path
) -> None:
    mensajes = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "consultarSaldo", "arguments": {"clienteId": 2}}},
    ]
    registro = tmp_path / "stderr.log"
    with anyio.fail_after(30), registro.open("w") as errlog:
        # -vv: debug logging everywhere, the most chances for a stray line on stdout.
        async with await anyio.open_process(
            [sys.executable, "-m", "soporte_mcp", "-vv", "serve"], env=entorno(db_url), stderr=errlog
        ) as proceso:
            salida = BufferedByteReceiveStream(proceso.stdout)
            await proceso.stdin.send(b"".join(json.dumps(m).encode() + b"\n" for m in mensajes))
            lineas = [await salida.receive_until(b"\n", 1 << 20) for _ in range(2)]
            await proceso.stdin.aclose()
            resto = b""
            async for trozo in salida:
                resto += trozo
            codigo = await proceso.wait()

    respuestas = [json.loads(linea) for linea in lineas] + [json.loads(x) for x in resto.splitlines()]
    assert [r["id"] for r in respuestas] == [1, 2], respuestas
    assert all(r["jsonrpc"] == "2.0" for r in respuestas)
    saldo = respuestas[1]["result"]["structuredContent"]
    assert (saldo["cliente"]["nombre"], saldo["saldo"]) == ("Juan Carlos Pérez", "850.50")
    assert codigo == 0, registro.read_text()
    assert "DEBUG" in registro.read_text()


# --- streamable HTTP -----------------------------------------------------------------------------


@GENERACIONES
async def test_http_session_in_both_protocol_generations_finds_maria(
    servidor: ServidorHttp, modo: str, version: str
) -> None:
    async with Client(servidor.mcp_url, mode=modo, client_info=CLIENT_INFO) as client:
        assert client.protocol_version == version
        await _comprobar_sesion(client)


@GENERACIONES
async def test_http_call_is_audited_with_client_address_and_client_name(
    base_http: Database, servidor: ServidorHttp, modo: str, version: str
) -> None:
    antes = max((f.id for f in audit_rows(base_http)), default=0)
    async with Client(servidor.mcp_url, mode=modo, client_info=CLIENT_INFO) as client:
        ok(await client.call_tool("consultarSaldo", {"clienteId": 2}))

    # Reads' rows are written behind: an earlier test's may land after `antes`, so look for ours.
    ultima = audit_row_where(base_http, lambda f: f.id > antes and f.cliente_id == 2)
    assert ultima is not None
    assert (ultima.herramienta, ultima.resultado, ultima.cliente_id) == ("consultarSaldo", "ok", 2)
    assert (ultima.usuario, ultima.ip_address) == ("pytest-client 1.0", "127.0.0.1")


def test_health_answers_ok_with_the_version(servidor: ServidorHttp) -> None:
    respuesta = httpx2.get(f"{servidor.base}/health", timeout=5)
    assert respuesta.status_code == 200
    assert respuesta.json() == {"status": "ok", "database": "ok", "version": __version__}


@GENERACIONES
async def test_two_stateless_workers_answer_both_protocol_generations(
    tmp_path: Path, modo: str, version: str
) -> None:
    url = sembrar(tmp_path)
    with servidor_http(url, tmp_path, "--workers", "2") as servidor:
        for _ in range(3):  # several connections, so that both workers are likely to answer
            async with Client(servidor.mcp_url, mode=modo, client_info=CLIENT_INFO) as client:
                assert client.protocol_version == version
                await _comprobar_sesion(client)


def test_workers_only_make_sense_over_http(tmp_path: Path) -> None:
    resultado = cli(f"sqlite:///{tmp_path / 'x.db'}", "serve", "--workers", "2")
    assert resultado.returncode == 2 and "--workers" in resultado.stderr


def test_a_call_with_mcp_param_headers_is_checked_only_against_declared_ones(servidor: ServidorHttp) -> None:
    """Our tools declare no ``x-mcp-header``: the SDK's check is skipped (server.py), and a header the
    tool never declared is let through exactly as the check itself would (nothing to violate)."""
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "pytest", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}}
    cuerpo = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
              "params": {"name": "consultarSaldo", "arguments": {"clienteId": 2}, "_meta": meta}}
    cabeceras = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28",
                 "mcp-method": "tools/call", "mcp-name": "consultarSaldo", "mcp-param-clienteid": "3"}
    respuesta = httpx2.post(servidor.mcp_url, json=cuerpo, headers=cabeceras, timeout=30)
    assert respuesta.status_code == 200
    resultado = respuesta.json()["result"]
    assert resultado["isError"] is False and resultado["structuredContent"]["cliente"]["id"] == 2


def test_no_published_tool_declares_an_mcp_param_header() -> None:
    from mcp.shared.inbound import x_mcp_header_map

    from soporte_mcp.config import Settings
    from soporte_mcp.server import build_server

    server = build_server(Settings(database_url="sqlite:///:memory:"))
    for herramienta in server._tool_manager.list_tools():
        assert x_mcp_header_map(herramienta.parameters) == {}, herramienta.name
        assert server._tool_input_schema(herramienta.name) is None
