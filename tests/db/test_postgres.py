"""What only PostgreSQL has: the trigram index behind buscarCliente, and a deliberate schema upgrade."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from soporte_mcp.db import migrate
from soporte_mcp.db.engine import Database
from soporte_mcp.errors import BaseDeDatosNoDisponible
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="solo con SOPORTE_TEST_BACKEND=postgresql")


def test_search_is_backed_by_the_trigram_index(db) -> None:
    with db.lectura() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # 6 demo rows: make the planner show its index choice
        plan = "\n".join(r[0] for r in conn.execute(
            text("EXPLAIN SELECT id FROM clientes WHERE busqueda LIKE :w AND activo"), {"w": "%garcia%"}))
    assert "ix_clientes_busqueda_trgm" in plan, plan


def test_serve_refuses_a_schema_that_was_not_upgraded(db_url) -> None:
    database = Database.from_url(db_url)
    try:
        with pytest.raises(BaseDeDatosNoDisponible, match="db upgrade"):
            migrate.ensure_schema(database)
    finally:
        database.dispose()
