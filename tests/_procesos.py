"""Real `soporte-mcp` processes for the end-to-end tests: the CLI, and the HTTP server on a free port.

Every process gets the parent environment without any ``SOPORTE_*`` variable of the
developer's shell, plus the database URL the test chose, so no test can touch a real database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

HOST = "127.0.0.1"
ARRANQUE_MAXIMO_S = 60.0  # two workers took 17-25 s to start on the shared 2-core machine under load
PARADA_MAXIMA_S = 10.0


def comando() -> str:
    """The ``soporte-mcp`` console script of the running interpreter's environment."""
    script = Path(sys.executable).parent / "soporte-mcp"
    assert script.exists(), f"{script} no existe: instale el paquete (pip install -e .)"
    return str(script)


def entorno(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPORTE_")}
    return env | {"SOPORTE_DATABASE_URL": db_url} | extra


def puerto_libre() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cli(db_url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``soporte-mcp ARGS`` against ``db_url`` and return what it did (never raises on exit code)."""
    return subprocess.run(
        [comando(), *args], env=entorno(db_url), capture_output=True, text=True, timeout=timeout, check=False
    )


def sembrar(carpeta: Path) -> str:
    """A database in ``carpeta`` prepared the way an operator does it (`soporte-mcp seed`); its URL."""
    from tests.conftest import nueva_url

    url = nueva_url(carpeta)
    sembrado = cli(url, "seed")
    assert sembrado.returncode == 0, sembrado.stderr
    return url


@dataclass(frozen=True)
class ServidorHttp:
    base: str
    proceso: subprocess.Popen[bytes]
    stderr: Path

    @property
    def mcp_url(self) -> str:
        return f"{self.base}/mcp"


@contextmanager
def servidor_http(
    db_url: str, carpeta: Path, *extra: str, variables: dict[str, str] | None = None
) -> Iterator[ServidorHttp]:
    """``soporte-mcp serve --transport http [extra]`` on a free loopback port, ready (``/health`` is 200).

    ``variables`` are added to its environment (e.g. SOPORTE_ADMIN_*).

    Its stderr goes to a file in ``carpeta`` and is shown if it never gets ready.
    The process is terminated (then killed if it does not stop) on exit.
    """
    puerto = puerto_libre()
    stderr = carpeta / f"servidor-{puerto}.stderr"
    with stderr.open("wb") as err:
        proceso = subprocess.Popen(
            [comando(), "serve", "--transport", "http", "--host", HOST, "--port", str(puerto), *extra],
            env=entorno(db_url, **(variables or {})),
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
            start_new_session=True,  # its own process group: a test can kill it and its workers at once
        )
    servidor = ServidorHttp(base=f"http://{HOST}:{puerto}", proceso=proceso, stderr=stderr)
    try:
        _esperar_salud(servidor)
        yield servidor
    finally:
        detener(proceso)


def _esperar_salud(servidor: ServidorHttp) -> None:
    limite = time.monotonic() + ARRANQUE_MAXIMO_S
    ultimo: object = None
    while time.monotonic() < limite:
        if servidor.proceso.poll() is not None:
            raise AssertionError(
                f"el servidor terminó con código {servidor.proceso.returncode}:\n{servidor.stderr.read_text()}"
            )
        try:
            respuesta = httpx2.get(f"{servidor.base}/health", timeout=1.0)
        except httpx2.TransportError as exc:  # not listening yet
            ultimo = exc
        else:
            if respuesta.status_code == 200:
                return
            ultimo = respuesta
        time.sleep(0.05)  # readiness poll interval, bounded by the deadline above
    raise AssertionError(
        f"/health no respondió 200 en {ARRANQUE_MAXIMO_S} s (último: {ultimo!r}):\n{servidor.stderr.read_text()}"
    )


def detener(proceso: subprocess.Popen[bytes]) -> None:
    if proceso.poll() is None:
        proceso.terminate()
        try:
            proceso.wait(timeout=PARADA_MAXIMA_S)
        except subprocess.TimeoutExpired:
            proceso.kill()
            proceso.wait(timeout=PARADA_MAXIMA_S)


@asynccontextmanager
async def cliente_http(url: str, token: str | None = None, modo: str = "auto") -> AsyncIterator[Client]:
    """An MCP client session over HTTP that sends ``Authorization: Bearer token``."""
    from tests.conftest import CLIENT_INFO

    cabeceras = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=cabeceras, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=modo, client_info=CLIENT_INFO) as c:
            yield c
