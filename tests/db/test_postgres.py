"""What only PostgreSQL has: the trigram index behind buscarCliente, a deliberate schema upgrade, and reads on
reader threads with connections of their own, pinged only after sitting idle."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, create_engine, text

from soporte_mcp.db import engine, migrate
from soporte_mcp.db.engine import Database
from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.services import clientes as servicio
from tests._postgres import ADMIN_URL
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="solo con SOPORTE_TEST_BACKEND=postgresql")


def test_search_is_backed_by_the_trigram_index(db) -> None:
    with db.engine.begin() as conn:  # a transaction, for SET LOCAL (reads run in autocommit on PostgreSQL)
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


# ---- issue 13: reads on reader threads that keep a connection, pinged only after sitting idle ----

def _quien(db) -> tuple[str, int]:
    with db.lectura() as conn:
        return threading.current_thread().name, conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


@contextmanager
def _como_admin() -> Iterator[Connection]:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            yield conn
    finally:
        admin.dispose()


def _terminar(*pids: int) -> None:
    with _como_admin() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _conectadas(db) -> list[int]:
    with _como_admin() as conn:
        return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :base"),
                                 {"base": db.engine.url.database}).scalars())


def _leer_cliente(db) -> int:
    with db.lectura() as conn:
        return servicio.POR_ID.filas(conn, id=1)[0][0]


@pytest.mark.anyio
async def test_reads_run_on_reader_threads_each_keeping_one_connection(db) -> None:
    vistos = {await db.run(_quien, db) for _ in range(40)}
    hilos = {hilo for hilo, _ in vistos}
    assert all(h.startswith("lector-pg") for h in hilos)
    assert len(vistos) == len(hilos) <= engine.LECTORES_PG  # one backend per thread, the same every time


@pytest.mark.anyio
async def test_a_reader_connection_lost_while_idle_is_replaced_before_the_read(db, monkeypatch) -> None:
    monkeypatch.setattr(engine, "LECTORES_PG", 1)
    _, pid = await db.run(_quien, db)
    _terminar(pid)
    monkeypatch.setattr(engine, "PING_TRAS_S", 0.0)  # as if it had sat idle past the ping interval
    assert await db.run(_leer_cliente, db) == 1
    assert (await db.run(_quien, db))[1] != pid


@pytest.mark.anyio
async def test_a_reader_connection_lost_while_busy_fails_one_read_with_the_retryable_error(db, monkeypatch) -> None:
    monkeypatch.setattr(engine, "LECTORES_PG", 1)
    monkeypatch.setattr(engine, "PING_TRAS_S", 3600.0)  # used a moment ago: no ping
    _, pid = await db.run(_quien, db)
    _terminar(pid)
    with pytest.raises(BaseDeDatosNoDisponible) as error:
        await db.run(_leer_cliente, db)
    assert error.value.reintentable
    assert await db.run(_leer_cliente, db) == 1  # the next read has a new connection


@pytest.mark.parametrize(("quieta_s", "responde"), [(0.0, True), (3600.0, False)], ids=["pinged", "busy"])
def test_a_pooled_connection_lost_in_the_pool_is_pinged_only_after_sitting_idle(
    db, monkeypatch, quieta_s, responde
) -> None:
    with db.engine.connect() as conn:  # a pooled connection, used and given back
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _terminar(*_conectadas(db))  # every one the pool holds
    monkeypatch.setattr(engine, "PING_TRAS_S", quieta_s)
    if responde:
        with db.escritura() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        return
    with pytest.raises(BaseDeDatosNoDisponible), db.escritura() as conn:
        conn.execute(text("SELECT 1"))
    with db.escritura() as conn:  # SQLAlchemy renewed the pool
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
