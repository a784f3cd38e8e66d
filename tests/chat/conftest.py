"""Fixtures of the chat tests: the scripted model, soporte-chat run in process against it, MCP servers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from soporte_mcp.chat.cli import main
from soporte_mcp.config import Settings
from soporte_mcp.db import migrate
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente
from soporte_mcp.seed.demo import cargar_demo
from tests.chat.modelo_falso import ModeloFalso
from tests.chat.servidor_hilo import ServidorEnHilo, servidor_en_hilo

if TYPE_CHECKING:
    from tests.chat.web_en_marcha import ChatWeb

CLAVE = "sk-prueba"


@pytest.fixture
def modelo() -> Iterator[ModeloFalso]:
    falso = ModeloFalso()
    falso.iniciar()
    yield falso
    falso.detener()


@dataclass
class Chat:
    """``soporte-chat ARGS`` through CliRunner, pointed at the scripted model and the test database."""

    modelo: ModeloFalso
    db_url: str
    previos: tuple[str, ...] = ()
    env: dict[str, str | None] = field(default_factory=dict)

    def __call__(self, *args: str, input: str | None = None, **env: str | None) -> Result:  # noqa: A002
        entorno = {
            "OPENAI_API_KEY": CLAVE, "OPENAI_BASE_URL": self.modelo.url, "OPENAI_MODEL": None,
            "SOPORTE_DATABASE_URL": self.db_url, "SOPORTE_CHAT_BACKOFF": "0.01", "SOPORTE_CHAT_TIMEOUT": "20",
            "SOPORTE_CHAT_RETRIES": None, "SOPORTE_CHAT_TOOL_TIMEOUT": None,
        } | self.env | env
        return CliRunner().invoke(main, [*self.previos, *args], input=input, env=entorno, catch_exceptions=False)


@pytest.fixture
def chat(modelo: ModeloFalso, db_url: str, db: Database) -> Chat:
    """soporte-chat in its default mode: the bundled server over stdio on the demo database."""
    return Chat(modelo, db_url)


def base_demo(carpeta: Path) -> tuple[Settings, Database]:
    """A migrated SQLite database with the demo data in ``carpeta``."""
    carpeta.mkdir(parents=True, exist_ok=True)
    settings = Settings(database_url=f"sqlite:///{carpeta / 'soporte.db'}")
    database = Database.from_url(settings.database_url)
    migrate.upgrade(database)
    cargar_demo(db=database, zona=settings.zone, ahora=datetime.now(UTC))
    return settings, database


@pytest.fixture(scope="session")
def servidor_compartido(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServidorEnHilo]:
    """One soporte-mcp HTTP server for the tests that do not change data (API errors, output, commands)."""
    settings, database = base_demo(tmp_path_factory.mktemp("compartido"))
    with servidor_en_hilo(settings, database) as servidor:
        yield servidor
    database.dispose()


@pytest.fixture
def chat_http(modelo: ModeloFalso, servidor_compartido: ServidorEnHilo) -> Chat:
    """soporte-chat against the shared HTTP server: for tests about the chat, not about the data."""
    return Chat(modelo, "sqlite://", previos=("--server", servidor_compartido.url))


def saldo(db: Database, cliente_id: int) -> Decimal:
    with db.lectura() as conn:
        return conn.execute(select(Cliente.saldo).where(Cliente.id == cliente_id)).scalar_one()


@pytest.fixture
def web(db: Database, db_url: str, modelo: ModeloFalso, tmp_path: Path) -> Iterator[ChatWeb]:
    """``soporte-chat web`` on the demo database with one operator account (so login is required)."""
    from tests.chat.web_en_marcha import chat_web, crear_cuenta

    crear_cuenta(tmp_path / "datos")
    with chat_web(db_url, modelo, tmp_path / "datos") as chat:
        yield chat
