"""The WAL's checkpoints of a server's SQLite writes, run by a thread of their own, never inside a commit.

Why (issue 13): SQLite checkpoints inside the COMMIT that takes the WAL past
1,000 pages (``wal_autocheckpoint``): it copies those pages into the database
file and syncs both files, tens of milliseconds on this kind of disk (strace:
``fdatasync`` 27 ms).  Our writer threads hold the file's write turn
(db/cerrojo.py) through their COMMIT, so every writer of every process waited
for those syncs while the machine idled (vmstat: 6–13 % idle and 2–3 % I/O
wait under payments, none under reads).  With no checkpoint in the writers'
commits, payments ran ≈ 0.46× → 0.55× the no-op in one A/B.

So the writer threads' connections do not checkpoint (``sin_autocheckpoint``);
after each commit they call ``avisar``, and this thread runs a PASSIVE
checkpoint (it waits for no reader and no writer) at most once per
``INTERVALO_S``, outside the turn: the other writers go on meanwhile.

What it keeps: a checkpoint syncs the WAL before it copies (``synchronous=NORMAL``
syncs only there), so a power cut loses the commits of about the last interval
(more while a long read keeps a checkpoint from copying anything: it then syncs
nothing either); before, under light load, the WAL could go unsynced until it
reached 1,000 pages.  Connections outside those threads (the CLI, the seeders,
migrations) keep SQLite's own checkpoints.  ``cerrar`` runs a last checkpoint.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

INTERVALO_S = 1.0


@contextmanager
def sin_autocheckpoint(conn: Connection) -> Iterator[None]:
    """``conn`` commits without checkpointing inside the commit until the block ends; then as before
    (a pooled connection goes back as it came)."""
    driver = conn.connection.driver_connection
    (antes,) = driver.execute("PRAGMA wal_autocheckpoint").fetchone()
    driver.execute("PRAGMA wal_autocheckpoint=0")
    try:
        yield
    finally:
        try:
            driver.execute(f"PRAGMA wal_autocheckpoint={int(antes)}")
        except sqlite3.Error:  # a connection that broken is discarded by its user; its own error matters
            log.debug("SQLite: no se pudo restaurar wal_autocheckpoint", exc_info=True)


class PuntosDeControl:
    """The thread that checkpoints ``engine``'s WAL after the commits it is told of (``avisar``)."""

    def __init__(self, engine: Engine, intervalo: float | None = None) -> None:
        self._engine = engine
        self._intervalo = INTERVALO_S if intervalo is None else intervalo
        self._cerrojo = threading.Lock()
        self._aviso = threading.Condition(self._cerrojo)
        self._pendiente = False  # a commit since the last checkpoint began (under _cerrojo)
        self._parar = False
        self._hilo: threading.Thread | None = None
        self._hechos = 0  # checkpoints run (under _cerrojo)
        self._ultimo = time.monotonic()  # of the last one's start (the first waits an interval too)

    def avisar(self) -> None:
        """A commit of the writers has happened: checkpoint within the interval (cheap, from any thread)."""
        if self._pendiente:  # read without the lock: the thread has yet to see it, it will
            return
        with self._cerrojo:
            self._pendiente = True
            if self._hilo is None:
                self._parar = False
                self._hilo = threading.Thread(target=self._bucle, name="sqlite-checkpoint", daemon=True)
                self._hilo.start()
            self._aviso.notify()

    def esperar(self, hechos: int, timeout: float) -> bool:
        """Block until ``hechos`` checkpoints have run since the start (True), or ``timeout`` passed."""
        with self._cerrojo:
            return self._aviso.wait_for(lambda: self._hechos >= hechos, timeout)

    @property
    def hechos(self) -> int:
        return self._hechos

    def cerrar(self) -> None:
        """Run what is pending as a last checkpoint and stop the thread (idempotent)."""
        with self._cerrojo:
            hilo, self._parar = self._hilo, True
            self._aviso.notify_all()
        if hilo is not None:
            hilo.join()
            with self._cerrojo:
                self._hilo = None  # a later avisar() starts a new one

    def _bucle(self) -> None:
        while True:
            with self._cerrojo:
                while not self._pendiente and not self._parar:
                    self._aviso.wait()
                # At most one a interval: the pages a burst of commits rewrote are copied once.
                espera = self._ultimo + self._intervalo - time.monotonic()
                if espera > 0 and not self._parar:
                    self._aviso.wait(espera)  # cerrar() cuts it short
                parar, pendiente = self._parar, self._pendiente
                self._pendiente = False
            if pendiente:
                self._ultimo = time.monotonic()
                self._checkpoint()
            if parar:
                return

    def _checkpoint(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except Exception:  # the next commit asks again; the writers are not to hear of it
            log.warning("SQLite: no se pudo hacer el checkpoint del WAL; se reintentará", exc_info=True)
        with self._cerrojo:
            self._hechos += 1
            self._aviso.notify_all()
