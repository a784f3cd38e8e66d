"""Schema migrations with Alembic, driven from code so that no alembic.ini is needed at run time."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from soporte_mcp.db.engine import Database, describe_db_error
from soporte_mcp.errors import BaseDeDatosNoDisponible

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest migration, so that a server start on an up-to-date schema never imports Alembic
# (≈0.15 s of a ≈1 s cold start); tests/db/test_migraciones.py checks it against the scripts.
HEAD = "0003"


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Leave the search indexes to their migrations: SQLite's FTS5 virtual tables (and their
    shadow tables) and PostgreSQL's trigram index, which the models do not describe."""
    if type_ == "table" and name is not None and name.startswith(("clientes_fts", "clientes_palabras")):
        return False
    return not (type_ == "index" and name == "ix_clientes_busqueda_trgm")


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = db.engine
    return cfg


def head_revision(db: Database) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database).

    Raises:
        BaseDeDatosNoDisponible: the database cannot be opened.
    """
    try:
        with db.lectura() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    # SQLite says "no such table" as an OperationalError (translated by lectura), PostgreSQL as a ProgrammingError.
    except (BaseDeDatosNoDisponible, ProgrammingError) as exc:
        if _sin_tabla_de_versiones(db):
            return None
        if isinstance(exc, BaseDeDatosNoDisponible):
            raise
        raise BaseDeDatosNoDisponible(describe_db_error(exc)) from exc


def _sin_tabla_de_versiones(db: Database) -> bool:
    """True when the database answers but has no alembic_version table (an empty database)."""
    from sqlalchemy import inspect

    try:
        return not inspect(db.engine).has_table("alembic_version")
    except DBAPIError:
        return False


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision``.

    Raises:
        BaseDeDatosNoDisponible: the database cannot be opened or written.
    """
    from alembic import command

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
    current = current_revision(db)
    if current == HEAD:
        return
    head = head_revision(db)
    if db.is_sqlite:
        log.info("migrating schema %s -> %s", current, head)
        upgrade(db)
        return
    raise BaseDeDatosNoDisponible(
        f"el esquema de la base está en la revisión {current}, se necesita {head}: "
        "ejecute `soporte-mcp db upgrade`."
    )
