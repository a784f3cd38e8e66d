"""What the tests of shared limits, metrics, traces and JSON logs share: Redis servers, raw MCP calls, tokens.

The machine's Redis (127.0.0.1:6379, ``SOPORTE_TEST_REDIS_URL``) is shared with other
people and is never stopped: a test that stops Redis starts a private ``redis-server``
of its own on a free port.  Without Redis those tests are skipped, and say so;
with ``SOPORTE_TEST_REQUIRE_REDIS`` set (``.ci/run`` sets it) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from soporte_mcp.auth import crear_token
from tests._procesos import HOST, puerto_libre

REDIS_URL = os.environ.get("SOPORTE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ESPERA_MAXIMA_S = 10.0


def sin_redis(motivo: str) -> None:
    if os.environ.get("SOPORTE_TEST_REQUIRE_REDIS"):
        pytest.fail(motivo)
    pytest.skip(motivo)


def responde(host: str, puerto: int) -> bool:
    """Whether a Redis answers PING at host:puerto."""
    try:
        with socket.create_connection((host, puerto), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_compartido() -> str:
    """The URL of the machine's Redis (skips, or fails under CI, when it does not answer)."""
    from redis.connection import parse_url

    partes = parse_url(REDIS_URL)
    if not responde(partes.get("host", "127.0.0.1"), partes.get("port", 6379)):
        sin_redis(f"Redis no responde en {REDIS_URL} (SOPORTE_TEST_REDIS_URL)")
    return REDIS_URL


@dataclass
class RedisPrivado:
    """A redis-server of this test alone, on a free port, that the test may stop and start again."""

    puerto: int
    carpeta: Path
    proceso: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.puerto}/0"

    def arrancar(self) -> None:
        # No persistence: a Redis that comes back has forgotten the buckets, as after a real crash.
        self.proceso = subprocess.Popen(
            ["redis-server", "--port", str(self.puerto), "--bind", HOST, "--save", "", "--appendonly", "no",
             "--dir", str(self.carpeta)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        limite = time.monotonic() + ESPERA_MAXIMA_S
        while not responde(HOST, self.puerto):
            assert self.proceso.poll() is None and time.monotonic() < limite, "redis-server no arrancó"
            time.sleep(0.02)  # readiness poll, bounded by the deadline above

    def detener(self) -> None:
        if self.proceso is not None and self.proceso.poll() is None:
            self.proceso.terminate()
            self.proceso.wait(timeout=ESPERA_MAXIMA_S)


@contextmanager
def redis_privado(carpeta: Path) -> Iterator[RedisPrivado]:
    if shutil.which("redis-server") is None:
        sin_redis("no hay redis-server (Debian: apt-get install redis-server)")
    servidor = RedisPrivado(puerto_libre(), carpeta)
    servidor.arrancar()
    try:
        yield servidor
    finally:
        servidor.detener()


def archivo_de_tokens(carpeta: Path, **scopes: tuple[str, ...]) -> tuple[Path, dict[str, str]]:
    """A tokens file with one token per name (``agente=("read", "write")``); the file and the tokens."""
    ruta = carpeta / "tokens.txt"
    return ruta, {nombre: crear_token(ruta, nombre, alcance) for nombre, alcance in scopes.items()}


def cuerpo_llamada(herramienta: str, argumentos: dict[str, Any], *, id_: int = 1,
                   meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """A 2026-07-28 tools/call request, as the SDK's client writes it, with ``meta`` added to ``_meta``."""
    return {"jsonrpc": "2.0", "id": id_, "method": "tools/call", "params": {
        "name": herramienta, "arguments": argumentos, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "pytest-crudo", "version": "1.0"},
            "io.modelcontextprotocol/clientCapabilities": {},
            **(meta or {}),
        }}}


def cabeceras_llamada(herramienta: str, token: str | None = None) -> dict[str, str]:
    cabeceras = {"accept": "application/json, text/event-stream", "content-type": "application/json",
                 "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": herramienta}
    return cabeceras | ({"authorization": f"Bearer {token}"} if token else {})


def llamar(http: httpx2.Client, url: str, herramienta: str, argumentos: dict[str, Any], token: str | None = None,
           meta: dict[str, Any] | None = None) -> httpx2.Response:
    """One raw tools/call over HTTP (one request, so that a rate limit counts it once)."""
    return http.post(url, headers=cabeceras_llamada(herramienta, token),
                     content=json.dumps(cuerpo_llamada(herramienta, argumentos, meta=meta)))


def muestras(texto: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A Prometheus exposition as {(sample name, sorted labels): value}."""
    return {
        (m.name, tuple(sorted(m.labels.items()))): m.value
        for familia in text_string_to_metric_families(texto)
        for m in familia.samples
    }


def valor(tabla: dict, nombre: str, **etiquetas: str) -> float:
    return tabla.get((nombre, tuple(sorted(etiquetas.items()))), 0.0)
