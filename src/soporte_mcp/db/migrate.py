"""Schema migrations with Alembic, driven from code so that no alembic.ini is needed at run time."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from soporte_mcp.db.engine import Database, describe_db_error
from soporte_mcp.errors import BaseDeDatosNoDisponible

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Leave the search indexes to their migration: SQLite's FTS5 virtual table (and its
    shadow tables) and PostgreSQL's trigram index, which the models do not describe."""
    if type_ == "table" and name is not None and name.startswith("clientes_fts"):
        return False
    return not (type_ == "index" and name == "ix_clientes_busqueda_trgm")


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = db.engine
    return cfg


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database).

    Raises:
        BaseDeDatosNoDisponible: the database cannot be opened.
    """
    try:
        with db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise BaseDeDatosNoDisponible(describe_db_error(exc)) from exc


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision``.

    Raises:
        BaseDeDatosNoDisponible: the database cannot be opened or written.
    """
    try:
        command.upgrade(alembic_config(db), revision)
    except DBAPIError as exc:
        raise BaseDeDatosNoDisponible(describe_db_error(exc)) from exc


def ensure_schema(db: Database) -> None:
    """On SQLite, create or upgrade the schema so that a fresh file just works.

    On a shared server database the operator runs ``soporte-mcp db upgrade``
    deliberately; we only refuse to start on a schema we do not know.

    Raises:
        BaseDeDatosNoDisponible: the schema is missing or behind on a server database.
    """
    current, head = current_revision(db), head_revision(db)
    if current == head:
        return
    if db.is_sqlite:
        log.info("migrating schema %s -> %s", current, head)
        upgrade(db)
        return
    raise BaseDeDatosNoDisponible(
        f"el esquema de la base está en la revisión {current}, se necesita {head}: "
        "ejecute `soporte-mcp db upgrade`."
    )
