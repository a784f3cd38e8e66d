"""The writer threads' commits run no checkpoint; a thread of its own does, off their turn (db/punto_de_control.py).

"In the database file" is read from a copy of the main file alone, without its WAL:
what a checkpoint has copied there, and nothing else.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

from soporte_mcp.db import punto_de_control
from soporte_mcp.db.engine import Database, create_db_engine
from soporte_mcp.db.punto_de_control import PuntosDeControl, sin_autocheckpoint
from soporte_mcp.services import auditoria
from soporte_mcp.services.auditoria import Llamada, Tipo

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]

# Past SQLite's own threshold (wal_autocheckpoint=1,000 pages): a commit of these would checkpoint.
LLENAR = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) "
    "INSERT INTO relleno SELECT randomblob(4000) FROM n"
)


def en_el_archivo(archivo: Path, carpeta: Path) -> int:
    """Rows of ``relleno`` in the main database file alone (-1: not even the table is there)."""
    copia = carpeta / "solo-el-archivo.db"
    shutil.copyfile(archivo, copia)
    conn = sqlite3.connect(copia)
    try:
        if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'relleno'").fetchone()[0] == 0:
            return -1
        return conn.execute("SELECT count(*) FROM relleno").fetchone()[0]
    finally:
        conn.close()
        copia.unlink()


def llenar(*, db: Database) -> None:
    with db.escritura() as conn:
        conn.exec_driver_sql("CREATE TABLE relleno (x BLOB)")
        conn.exec_driver_sql(LLENAR)


async def test_a_writer_batch_past_sqlites_threshold_leaves_the_database_file_untouched_at_its_commit(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(punto_de_control, "INTERVALO_S", 3600.0)
    nueva = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    try:
        await nueva.escribir(llenar, db=nueva)
        with nueva.lectura() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM relleno").scalar() == 1500  # committed
        assert en_el_archivo(nueva.archivo_sqlite, tmp_path) == -1  # …and still only in the WAL
    finally:
        nueva.dispose()


async def test_every_commit_of_both_writer_threads_runs_without_autocheckpoint_and_the_pool_gets_it_back(
    db: Database,
) -> None:
    vistos: dict[str, set[int]] = {}

    def al_confirmar(conn) -> None:
        (valor,) = conn.connection.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone()
        vistos.setdefault(threading.current_thread().name, set()).add(valor)

    event.listen(db.engine, "commit", al_confirmar)
    try:
        await db.escribir(llenar, db=db)
        db.diferir(auditoria.INSERTAR_EN_LOTE,
                   auditoria.fila(Llamada("consultarSaldo", {}), Tipo.CONSULTA, "ok", "lectura"))
        assert db.vaciar_diferidas(timeout=10)
    finally:
        event.remove(db.engine, "commit", al_confirmar)
    assert vistos == {"escritor-sqlite": {0}, "historial-diferido": {0}}
    with db.engine.connect() as conn:
        assert conn.connection.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)


@contextmanager
def llenado_sin_checkpoint(archivo: Path, intervalo: float) -> Iterator[PuntosDeControl]:
    """A file whose WAL holds 1,500 pages committed without a checkpoint, and a checkpoint thread on it."""
    engine = create_db_engine(f"sqlite:///{archivo}")
    puntos = PuntosDeControl(engine, intervalo=intervalo)
    try:
        with engine.connect() as conn, sin_autocheckpoint(conn), conn.begin():
            conn.exec_driver_sql("CREATE TABLE relleno (x BLOB)")
            conn.exec_driver_sql(LLENAR)
        yield puntos
    finally:
        puntos.cerrar()
        engine.dispose()


def test_the_checkpoint_thread_copies_the_commits_it_is_told_of_into_the_file(tmp_path: Path) -> None:
    archivo = tmp_path / "wal.db"
    with llenado_sin_checkpoint(archivo, intervalo=0.01) as puntos:
        assert en_el_archivo(archivo, tmp_path) == -1
        puntos.avisar()
        assert puntos.esperar(1, timeout=10)
        assert en_el_archivo(archivo, tmp_path) == 1500


def test_closing_runs_the_pending_checkpoint_at_once(tmp_path: Path) -> None:
    archivo = tmp_path / "wal.db"
    with llenado_sin_checkpoint(archivo, intervalo=3600.0) as puntos:
        puntos.avisar()
        assert puntos.hechos == 0  # an hour to go
        puntos.cerrar()
        assert puntos.hechos == 1
        assert en_el_archivo(archivo, tmp_path) == 1500


def test_a_failed_write_gives_the_connection_back_with_its_autocheckpoint(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            driver.execute("PRAGMA wal_autocheckpoint=777")
            with pytest.raises(ZeroDivisionError), sin_autocheckpoint(conn):
                assert driver.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
                raise ZeroDivisionError
            assert driver.execute("PRAGMA wal_autocheckpoint").fetchone() == (777,)
    finally:
        engine.dispose()
