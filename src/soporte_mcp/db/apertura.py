"""Opening the configured database the three ways the commands need: to serve, to set up, to read."""

from __future__ import annotations

from soporte_mcp.config import Settings
from soporte_mcp.db import migrate
from soporte_mcp.db.engine import Database
from soporte_mcp.errors import BaseDeDatosNoDisponible


def abrir(settings: Settings, *, migrar: bool = True) -> Database:
    """Open the configured database; with ``migrar``, create or upgrade a SQLite schema (and refuse a
    server database whose schema is behind).

    Raises:
        BaseDeDatosNoDisponible: the database cannot be opened, or (``migrar``) its schema cannot be used.
    """
    db = Database.from_url(settings.database_url)
    if migrar:
        try:
            migrate.ensure_schema(db)
        except BaseException:
            db.dispose()  # a stdio server tries again later: leave no engine behind
            raise
    return db


def abrir_para_servir(settings: Settings) -> Database:
    """What ``serve`` opens: ``abrir(settings)``, with a span per statement when traces are on.

    Raises:
        BaseDeDatosNoDisponible: as ``abrir``.
    """
    from soporte_mcp.observabilidad.arranque import observar_base

    db = abrir(settings)
    observar_base(db)
    return db


def abrir_para_leer(settings: Settings) -> Database:
    """Open the configured database only to read it (a SQLite file read-only), its schema up to date.

    Raises:
        BaseDeDatosNoDisponible: the database cannot be opened, or its schema is not the latest.
    """
    db = Database.from_url(settings.database_url, solo_lectura=True)
    actual = migrate.current_revision(db)
    if actual != migrate.HEAD:
        db.dispose()
        raise BaseDeDatosNoDisponible(f"el esquema de la base está en la revisión {actual or 'vacía'}, se "
                                      f"necesita {migrate.HEAD}: ejecute `soporte-mcp db upgrade`")
    return db
