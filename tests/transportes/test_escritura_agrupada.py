"""`serve`'s HTTP protocol sends each answer in one write, and still streams, closes and flows as uvicorn's.

Real loopback connections to uvicorn's protocol with our write grouping, counting what
reaches the real transport (``ContadorDeEnvios``) beneath ``EscrituraAgrupada``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from uvicorn.lifespan.on import LifespanOn
from uvicorn.server import ServerState

from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.http import MCP_PATH, EscrituraAgrupada, NoDelayH11Protocol, SoporteH11Protocol, build_http_app
from soporte_mcp.server import build_server

pytestmark = pytest.mark.anyio

HOST = "127.0.0.1"


class ContadorDeEnvios:
    """The real transport, with every write it is asked to make recorded (an empty one sends nothing)."""

    def __init__(self, transporte: asyncio.Transport, envios: list[bytes]) -> None:
        self._transporte = transporte
        self.envios = envios

    def write(self, data: bytes) -> None:
        if data:
            self.envios.append(bytes(data))
        self._transporte.write(data)

    def __getattr__(self, nombre: str) -> Any:
        return getattr(self._transporte, nombre)


@asynccontextmanager
async def servido(app: Any, protocolo: type = SoporteH11Protocol) -> AsyncIterator[tuple[int, list[bytes]]]:
    """``app`` on a loopback port under ``protocolo``, its lifespan run; the port and the real sends."""
    envios: list[bytes] = []

    class Contado(protocolo):
        def connection_made(self, transport) -> None:
            super().connection_made(ContadorDeEnvios(transport, envios))

    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    config.load()
    vida = LifespanOn(config)
    await vida.startup()
    loop = asyncio.get_running_loop()
    estado = ServerState()
    servidor = await loop.create_server(lambda: Contado(config=config, server_state=estado, app_state={}), HOST, 0)
    try:
        yield servidor.sockets[0].getsockname()[1], envios
    finally:
        servidor.close()
        for conexion in list(estado.connections):
            conexion.shutdown()
        await servidor.wait_closed()
        await vida.shutdown()


async def pedir(puerto: int, peticion: bytes) -> bytes:
    """Send one raw HTTP/1.1 request and read the answer until the server closes the connection."""
    lector, escritor = await asyncio.open_connection(HOST, puerto)
    escritor.write(peticion)
    respuesta = await asyncio.wait_for(lector.read(), timeout=10)
    escritor.close()
    return respuesta


def post_mcp(puerto: int, cuerpo: dict[str, Any]) -> bytes:
    datos = json.dumps(cuerpo).encode()
    cabeceras = (
        f"POST {MCP_PATH} HTTP/1.1\r\nHost: {HOST}:{puerto}\r\nContent-Type: application/json\r\n"
        "Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\n"
        f"Mcp-Method: {cuerpo['method']}\r\nMcp-Name: {cuerpo['params']['name']}\r\n"
        f"Connection: close\r\nContent-Length: {len(datos)}\r\n\r\n"
    )
    return cabeceras.encode() + datos


def saldo(cliente_id: int) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "prueba", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "consultarSaldo", "arguments": {"clienteId": cliente_id}, "_meta": meta}}


@pytest.fixture
def app_mcp(settings: Settings, db: Database) -> Any:
    return build_http_app(build_server(settings, db), db, stateless=True, settings=settings)


async def test_a_tool_answer_leaves_the_server_in_one_send(app_mcp: Any) -> None:
    async with servido(app_mcp) as (puerto, envios):
        respuesta = await pedir(puerto, post_mcp(puerto, saldo(1)))
    cabecera, _, cuerpo = respuesta.partition(b"\r\n\r\n")
    assert cabecera.startswith(b"HTTP/1.1 200"), respuesta
    assert json.loads(cuerpo)["result"]["isError"] is False
    assert envios == [respuesta]


async def test_uvicorns_own_protocol_sends_the_same_answer_in_two(app_mcp: Any) -> None:
    # The control: what the grouping changes (status line and headers, then the body).
    async with servido(app_mcp, NoDelayH11Protocol) as (puerto, envios):
        respuesta = await pedir(puerto, post_mcp(puerto, saldo(1)))
    assert len(envios) == 2
    assert b"".join(envios) == respuesta


async def test_a_streamed_chunk_is_sent_before_the_app_writes_the_next() -> None:
    # If a write waited for the next one, the client would never see the first chunk and the
    # app would wait for it forever: the read below times out.
    leido = asyncio.Event()

    async def trozos() -> AsyncIterator[bytes]:
        yield b"primero;"
        await asyncio.wait_for(leido.wait(), timeout=10)
        yield b"segundo"

    async def ruta(_request: Request) -> StreamingResponse:
        return StreamingResponse(trozos(), media_type="text/plain")

    async with servido(Starlette(routes=[Route("/", ruta)])) as (puerto, _envios):
        lector, escritor = await asyncio.open_connection(HOST, puerto)
        escritor.write(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        primero = await asyncio.wait_for(lector.readuntil(b"primero;"), timeout=5)
        leido.set()
        resto = await asyncio.wait_for(lector.read(), timeout=5)
        escritor.close()
    assert primero.startswith(b"HTTP/1.1 200")
    assert b"segundo" in resto


async def test_a_big_answer_arrives_whole_and_in_order() -> None:
    cuerpo = bytes(range(256)) * 4096  # 1 MiB

    async def ruta(_request: Request) -> Response:
        return Response(cuerpo, media_type="application/octet-stream")

    async with servido(Starlette(routes=[Route("/", ruta)])) as (puerto, envios):
        respuesta = await pedir(puerto, f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
    assert respuesta.partition(b"\r\n\r\n")[2] == cuerpo
    assert b"".join(envios) == respuesta
    # The body went to the transport as soon as it was written, not held for the end of the step.
    assert len(envios[-1]) >= EscrituraAgrupada.LIMITE


class TransporteDePrueba(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.envios: list[bytes] = []
        self.cerrado = False

    def write(self, data: bytes) -> None:
        self.envios.append(bytes(data))

    def is_closing(self) -> bool:
        return self.cerrado

    def close(self) -> None:
        self.cerrado = True


def sobre_un_transporte_de_prueba() -> tuple[TransporteDePrueba, EscrituraAgrupada]:
    real = TransporteDePrueba()
    return real, EscrituraAgrupada(real, asyncio.get_running_loop())


async def test_writes_of_one_step_leave_together_after_it_and_close_sends_what_waits() -> None:
    real, agrupada = sobre_un_transporte_de_prueba()
    agrupada.write(b"cabeceras;")
    agrupada.write(b"")
    agrupada.write(b"cuerpo")
    assert real.envios == []
    await asyncio.sleep(0)  # the end of this step of the event loop
    assert real.envios == [b"cabeceras;cuerpo"]

    agrupada.write(b"adios")
    agrupada.close()
    assert real.envios == [b"cabeceras;cuerpo", b"adios"]
    assert real.cerrado


async def test_a_big_write_after_small_ones_goes_at_once_and_after_them() -> None:
    real, agrupada = sobre_un_transporte_de_prueba()
    grande = b"x" * EscrituraAgrupada.LIMITE
    agrupada.write(b"cabeceras;")
    agrupada.write(grande)
    assert real.envios == [b"cabeceras;" + grande]
    await asyncio.sleep(0)
    assert real.envios == [b"cabeceras;" + grande]


async def test_what_waits_when_the_peer_is_gone_is_dropped() -> None:
    real, agrupada = sobre_un_transporte_de_prueba()
    agrupada.write(b"tarde")
    real.cerrado = True
    await asyncio.sleep(0)
    assert real.envios == []


async def test_a_buffer_the_caller_reuses_after_writing_leaves_as_it_was_written() -> None:
    real, agrupada = sobre_un_transporte_de_prueba()
    trozo = bytearray(b"primero")
    agrupada.write(trozo)
    trozo[:] = b"otro"
    await asyncio.sleep(0)
    assert real.envios == [b"primero"]
