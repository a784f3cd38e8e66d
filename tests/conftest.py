"""Shared fixtures: a migrated database with the demo data, the server, an in-memory client.

The backend is SQLite unless ``SOPORTE_TEST_BACKEND=postgresql`` (see tests/_postgres.py):
`make test` runs the whole suite once on each.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult, Implementation
from sqlalchemy import func, select

from soporte_mcp.config import Settings
from soporte_mcp.db import migrate
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, HistorialAccion, Pago, Ticket
from soporte_mcp.seed.demo import cargar_demo
from soporte_mcp.server import build_server

CLIENT_INFO = Implementation(name="pytest-client", version="1.0")
BACKEND = os.environ.get("SOPORTE_TEST_BACKEND", "sqlite")
_bases_postgres = None


def nueva_url(carpeta: Path) -> str:
    """The URL of a new, empty database of the backend under test."""
    global _bases_postgres
    if BACKEND == "sqlite":
        return f"sqlite:///{carpeta / 'soporte.db'}"
    if _bases_postgres is None:
        from tests._postgres import Bases

        _bases_postgres = Bases()
    return _bases_postgres.nueva()


def pytest_report_header() -> str:
    return f"soporte-mcp backend: {BACKEND}"


def pytest_collection_modifyitems(items) -> None:
    marca, saltar = (
        ("sqlite_only", pytest.mark.skip(reason=f"solo SQLite (backend: {BACKEND})")) if BACKEND != "sqlite"
        else ("postgresql_only", pytest.mark.skip(reason="solo PostgreSQL (SOPORTE_TEST_BACKEND=postgresql)"))
    )
    for item in items:
        if marca in item.keywords:
            item.add_marker(saltar)


def pytest_sessionfinish() -> None:
    if _bases_postgres is not None:
        _bases_postgres.borrar_todas()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db_url(tmp_path) -> str:
    return nueva_url(tmp_path)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url)


@pytest.fixture
def db(settings: Settings):
    database = Database.from_url(settings.database_url)
    migrate.upgrade(database)
    cargar_demo(db=database, zona=settings.zone, ahora=datetime.now(UTC))
    yield database
    database.dispose()


@pytest.fixture
def server(settings: Settings, db: Database):
    return build_server(settings, db)


@pytest.fixture
async def client(server) -> AsyncIterator[Client]:
    async with Client(server, client_info=CLIENT_INFO) as c:
        yield c


async def call(client: Client, name: str, args: dict[str, Any] | None = None) -> CallToolResult:
    return await client.call_tool(name, args or {})


def ok(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful call (fails the test on a tool error)."""
    assert not result.is_error, result.content[0].text
    assert result.structured_content is not None
    return result.structured_content


def error_code(result: CallToolResult) -> str:
    """The stable code of a refused call (in _meta), after checking it came as one Spanish text and nothing else."""
    assert result.is_error, result.structured_content
    assert result.structured_content is None  # an error must not claim the tool's outputSchema
    assert len(result.content) == 1 and not result.content[0].text.startswith("Error executing tool")
    return result.meta["soporte/codigo"]


def business_state(db: Database) -> tuple:
    """Everything a refused call must leave untouched: rows and balances."""
    with db.lectura() as conn:
        saldos = tuple(conn.execute(select(Cliente.id, Cliente.saldo).order_by(Cliente.id)).all())
        return (
            saldos,
            conn.execute(select(func.count()).select_from(Pago)).scalar_one(),
            conn.execute(select(func.count()).select_from(Ticket)).scalar_one(),
        )


def audit_row_where(db: Database, cumple) -> Any:
    """The newest audit row that ``cumple`` accepts, waiting (bounded) for a server process's
    rows written behind; None if none comes."""
    limite = time.monotonic() + 10
    while True:
        filas = [f for f in audit_rows(db) if cumple(f)]
        if filas or time.monotonic() > limite:
            return filas[-1] if filas else None
        time.sleep(0.02)  # another process's writer thread commits within its interval


def audit_rows(db: Database, *, al_menos: int = 0) -> list:
    """The audit rows, oldest first.

    Reads' rows are written behind, within ~50 ms (db/diferido.py): this process's are
    flushed first; a server process's are waited for until there are ``al_menos`` rows.
    """
    db.vaciar_diferidas()
    limite = time.monotonic() + 10
    while True:
        with db.lectura() as conn:
            filas = list(conn.execute(select(HistorialAccion.__table__).order_by(HistorialAccion.id)).all())
        if len(filas) >= al_menos or time.monotonic() > limite:
            return filas
        time.sleep(0.02)  # another process's writer thread commits within its interval
