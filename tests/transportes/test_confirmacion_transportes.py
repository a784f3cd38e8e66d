"""The confirmation form over real transports: stdio, HTTP with one process (sessions), and HTTP with
two stateless workers, in both protocol generations (see test_confirmacion.py for the rules)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestFormParams, ElicitResult, InputRequiredResult

from soporte_mcp.db.engine import Database
from tests._procesos import ServidorHttp, comando, entorno, sembrar, servidor_http
from tests.conftest import CLIENT_INFO, audit_rows, business_state, error_code, ok

pytestmark = pytest.mark.anyio

MODOS = pytest.mark.parametrize("modo", ["legacy", "2026-07-28"])
PAGO = {"clienteId": 3, "monto": "25.50", "metodoPago": "tarjeta"}
SECRETO = "una-clave-compartida-de-prueba-de-mas-de-32-bytes"


class Guion:
    """An elicitation callback that gives the answers of its script in order."""

    def __init__(self, *acciones: str) -> None:
        self.acciones = list(acciones)
        self.preguntas: list[ElicitRequestFormParams] = []

    async def __call__(self, _ctx: Any, params: ElicitRequestFormParams) -> ElicitResult:
        self.preguntas.append(params)
        accion = self.acciones.pop(0)
        return ElicitResult(action=accion, content={"confirmar": True} if accion == "accept" else None)


@asynccontextmanager
async def por_http(url: str, modo: str, guion: Guion | None) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(timeout=30) as http:
        transporte = streamable_http_client(url, http_client=http)
        async with Client(transporte, mode=modo, client_info=CLIENT_INFO, elicitation_callback=guion) as c:
            yield c


async def aceptar_rechazar_cancelar(c: Client, guion: Guion, db: Database) -> None:
    """Accept pays and is audited confirmed; decline and cancel write nothing and are audited refused."""
    ok(await c.call_tool("registrarPago", PAGO))
    assert audit_rows(db)[-1].metadatos["confirmacion"] == "confirmada"
    for estado in ("rechazada", "cancelada"):
        antes = business_state(db)
        assert error_code(await c.call_tool("registrarPago", PAGO)) == "pago_no_confirmado"
        assert business_state(db) == antes
        fila = audit_rows(db)[-1]
        assert (fila.resultado, fila.metadatos["confirmacion"]) == ("rechazado", estado)
    assert len(guion.preguntas) == 3 and "Saldo actual: $" in guion.preguntas[0].message


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sembrar(tmp_path_factory.mktemp("confirmacion"))


@pytest.fixture(scope="module")
def db(url: str) -> Iterator[Database]:
    database = Database.from_url(url)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="module")
def un_proceso(url: str, logs: Path) -> Iterator[ServidorHttp]:
    with servidor_http(url, logs) as s:
        yield s


@pytest.fixture(scope="module")
def dos_trabajadores(url: str, logs: Path) -> Iterator[ServidorHttp]:
    with servidor_http(url, logs, "--workers", "2", variables={"SOPORTE_REQUEST_STATE_SECRET": SECRETO}) as s:
        yield s


@pytest.fixture(scope="module")
def siempre(url: str, logs: Path) -> Iterator[ServidorHttp]:
    variables = {"SOPORTE_REQUEST_STATE_SECRET": SECRETO}
    with servidor_http(url, logs, "--workers", "2", "--confirmar-pagos", "siempre", variables=variables) as s:
        yield s


@MODOS
async def test_over_stdio_accept_pays_and_decline_or_cancel_write_nothing(url: str, db: Database, modo: str) -> None:
    guion = Guion("accept", "decline", "cancel")
    parametros = StdioServerParameters(command=comando(), args=["serve"], env=entorno(url))
    async with Client(parametros, mode=modo, client_info=CLIENT_INFO, elicitation_callback=guion) as c:
        await aceptar_rechazar_cancelar(c, guion, db)


@MODOS
async def test_over_http_with_one_process_accept_pays_and_decline_or_cancel_write_nothing(
    un_proceso: ServidorHttp, db: Database, modo: str
) -> None:
    guion = Guion("accept", "decline", "cancel")
    async with por_http(un_proceso.mcp_url, modo, guion) as c:
        await aceptar_rechazar_cancelar(c, guion, db)


async def test_over_http_with_two_workers_a_2026_client_is_asked_whichever_worker_answers(
    dos_trabajadores: ServidorHttp, db: Database
) -> None:
    guion = Guion("accept", "decline", "cancel")
    async with por_http(dos_trabajadores.mcp_url, "2026-07-28", guion) as c:
        await aceptar_rechazar_cancelar(c, guion, db)


async def test_over_http_with_two_workers_a_2025_client_cannot_be_asked_and_auto_pays_saying_so(
    dos_trabajadores: ServidorHttp, db: Database
) -> None:
    guion = Guion()
    async with por_http(dos_trabajadores.mcp_url, "legacy", guion) as c:
        ok(await c.call_tool("registrarPago", PAGO))
    assert guion.preguntas == []
    assert audit_rows(db)[-1].metadatos["confirmacion"] == "no_posible"


async def test_over_http_with_two_workers_under_siempre_a_2025_client_is_refused_and_a_2026_one_asked(
    siempre: ServidorHttp, db: Database
) -> None:
    antes = business_state(db)
    async with por_http(siempre.mcp_url, "legacy", Guion("accept")) as c:
        resultado = await c.call_tool("registrarPago", PAGO)
    assert error_code(resultado) == "confirmacion_no_disponible"
    assert "sin sesión" in resultado.content[0].text
    assert business_state(db) == antes
    guion = Guion("accept")
    async with por_http(siempre.mcp_url, "2026-07-28", guion) as c:
        ok(await c.call_tool("registrarPago", PAGO))
    assert len(guion.preguntas) == 1


async def test_an_answer_sealed_by_one_server_is_accepted_by_another_that_shares_the_secret(
    dos_trabajadores: ServidorHttp, siempre: ServidorHttp, db: Database
) -> None:
    # What stateless workers rely on when the retry lands on another process (a different key is
    # refused: see test_confirmacion.py).
    async with por_http(dos_trabajadores.mcp_url, "2026-07-28", Guion()) as c:
        ronda = await c.session.call_tool("registrarPago", PAGO, allow_input_required=True)
    assert isinstance(ronda, InputRequiredResult)
    si = {clave: ElicitResult(action="accept", content={"confirmar": True}) for clave in ronda.input_requests}
    async with por_http(siempre.mcp_url, "2026-07-28", Guion()) as c:
        pagado = await c.session.call_tool("registrarPago", PAGO, allow_input_required=True,
                                           input_responses=si, request_state=ronda.request_state)
    assert ok(pagado)["monto"] == "25.50"
    assert audit_rows(db)[-1].metadatos["confirmacion"] == "confirmada"


def _abrir_sesion(http: httpx2.Client, capacidades: dict[str, Any]) -> dict[str, str]:
    cabeceras = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    inicio = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": capacidades, "clientInfo": {"name": "raw", "version": "1"}}}
    respuesta = http.post("/mcp", json=inicio, headers=cabeceras)
    cabeceras |= {"mcp-session-id": respuesta.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
    http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=cabeceras)
    return cabeceras


@pytest.mark.parametrize(("capacidades", "tipo"), [
    ({"elicitation": {"form": {}}}, "text/event-stream"),
    ({"elicitation": {}}, "text/event-stream"),
    ({}, "application/json"),
    ({"elicitation": {"url": {}}}, "application/json"),
])
def test_only_sessions_whose_client_can_answer_a_form_are_answered_with_sse(
    un_proceso: ServidorHttp, capacidades: dict[str, Any], tipo: str
) -> None:
    with httpx2.Client(base_url=un_proceso.base, timeout=10) as http:
        cabeceras = _abrir_sesion(http, capacidades)
        llamada = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                   "params": {"name": "consultarSaldo", "arguments": {"clienteId": 1}}}
        respuesta = http.post("/mcp", json=llamada, headers=cabeceras)
    assert respuesta.status_code == 200 and respuesta.headers["content-type"].startswith(tipo)
