"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from soporte_mcp.db import migrate
from soporte_mcp.db.engine import Database
from soporte_mcp.db.migrate import include_object
from soporte_mcp.db.models import Base


def test_upgrading_an_empty_database_gives_the_schema_of_the_models(db_url) -> None:  # noqa: ANN001
    db = Database.from_url(db_url)
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        diferencias = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_object}), Base.metadata)
    assert diferencias == []
    assert migrate.current_revision(db) == migrate.head_revision(db)
    db.dispose()


@pytest.mark.sqlite_only
def test_server_start_creates_the_schema_on_a_fresh_sqlite_file(db_url) -> None:  # noqa: ANN001
    db = Database.from_url(db_url)
    migrate.ensure_schema(db)
    tablas = set(inspect(db.engine).get_table_names())
    assert {"clientes", "tickets", "pagos", "historial_acciones", "clientes_fts"} <= tablas
    db.dispose()


@pytest.mark.sqlite_only
def test_sqlite_is_configured_for_a_server(db_url) -> None:  # noqa: ANN001
    db = Database.from_url(db_url)
    with db.engine.connect() as conn:
        pragmas = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "foreign_keys", "busy_timeout")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10_000}
    db.dispose()


def test_the_head_constant_names_the_newest_migration(db_url) -> None:  # noqa: ANN001
    db = Database.from_url(db_url)
    assert migrate.HEAD == migrate.head_revision(db)
    db.dispose()


def test_an_empty_database_has_no_revision_and_an_unreachable_one_is_an_error(db_url) -> None:  # noqa: ANN001
    from soporte_mcp.errors import BaseDeDatosNoDisponible

    db = Database.from_url(db_url)
    assert migrate.current_revision(db) is None
    db.dispose()
    caida = Database.from_url("postgresql+psycopg://postgres@127.0.0.1:1/nada")
    with pytest.raises(BaseDeDatosNoDisponible):
        migrate.current_revision(caida)
    caida.dispose()
