"""A real PostgreSQL for the test suite: one empty database per test, dropped at the end.

``SOPORTE_TEST_BACKEND=postgresql`` runs the suite against the server at
``SOPORTE_TEST_POSTGRES_URL`` (default: the local one, trust auth, database ``test``).
Run as a script, it exits 0 when that server answers and 1 (saying why) when not.
"""

from __future__ import annotations

import os
import sys
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

ADMIN_URL = os.environ.get("SOPORTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PREFIJO = "soporte_t_"


def _admin():
    return create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def motivo_no_disponible() -> str | None:
    """None when PostgreSQL answers at ADMIN_URL; otherwise why not, in one line."""
    try:
        engine = _admin()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except (OperationalError, ImportError) as exc:
        return str(exc).strip().splitlines()[0]
    return None


class Bases:
    """Creates empty databases on demand and drops them all at the end."""

    def __init__(self) -> None:
        self.engine = _admin()
        self.creadas: list[str] = []

    def nueva(self) -> str:
        nombre = f"{PREFIJO}{uuid.uuid4().hex[:16]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{nombre}"'))
        self.creadas.append(nombre)
        return make_url(ADMIN_URL).set(database=nombre).render_as_string(hide_password=False)

    def borrar_todas(self) -> None:
        with self.engine.connect() as conn:
            for nombre in self.creadas:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)'))
        self.engine.dispose()


if __name__ == "__main__":
    motivo = motivo_no_disponible()
    if motivo:
        print(f"PostgreSQL no disponible en {make_url(ADMIN_URL).render_as_string()}: {motivo}", file=sys.stderr)
    sys.exit(1 if motivo else 0)
