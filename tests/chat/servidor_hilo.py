"""The real soporte-mcp HTTP app served by uvicorn in a thread of the test process.

Cheaper than a subprocess (no second interpreter to start), for the many chat tests
where the MCP server is not what is being tested.  It records the headers of every
request so that ``--header`` can be checked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.http import MCP_PATH, build_http_app
from soporte_mcp.server import build_server
from tests._procesos import HOST, puerto_libre

ARRANQUE_MAXIMO_S = 10.0


@dataclass
class ServidorEnHilo:
    url: str
    cabeceras: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def servidor_en_hilo(settings: Settings, db: Database) -> Iterator[ServidorEnHilo]:
    """Serve soporte-mcp on a free loopback port until the block ends."""
    puerto = puerto_libre()
    servidor = ServidorEnHilo(f"http://{HOST}:{puerto}{MCP_PATH}")
    app = build_http_app(build_server(settings, db), db, host=HOST)

    async def registrar(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            servidor.cabeceras.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        await app(scope, receive, send)

    with en_hilo(registrar, puerto):
        yield servidor


@contextmanager
def en_hilo(app: Any, puerto: int) -> Iterator[None]:
    """Serve ``app`` with uvicorn on ``puerto`` of loopback, in a thread, until the block ends."""
    uvi = uvicorn.Server(uvicorn.Config(app, host=HOST, port=puerto, log_level="warning", lifespan="on"))
    hilo = threading.Thread(target=uvi.run, daemon=True)
    hilo.start()
    limite = time.monotonic() + ARRANQUE_MAXIMO_S
    while not uvi.started:
        assert hilo.is_alive() and time.monotonic() < limite, "uvicorn no arrancó"
        time.sleep(0.01)  # readiness poll, bounded by the deadline above
    try:
        yield
    finally:
        uvi.should_exit = True
        hilo.join(ARRANQUE_MAXIMO_S)
