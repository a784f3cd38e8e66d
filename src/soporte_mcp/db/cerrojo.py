"""The turn to write one SQLite file, between processes: an OS lock on a file next to it.

Why (issue 13): SQLite's own wait for its write lock is a busy handler that sleeps
1, 2, 5, 10 … 100 ms between tries.  Two server workers writing the same file
then leave the lock idle for milliseconds at every hand-over (measured with two
workers paying: the machine half idle, p99 in the hundreds of ms).  The
writers of every process (db/escritor.py, db/diferido.py) take this lock first,
from just before BEGIN IMMEDIATE to just after COMMIT, so that SQLite's lock
is free whenever they ask for it; they poll it every ≤ 1 ms, not every 100 ms.

- ``flock`` on ``<database>-escritor.lock``: the kernel releases it when its
  holder dies (SIGKILL included), so a crash never leaves it taken.  The file
  stays, empty, next to the database (deleting a lock file races with its users).
- The wait is bounded (``tomar(hasta)``): no thread blocks forever behind a
  stopped process; the caller then answers "busy, retry", as SQLite's busy
  timeout did.
- Turns go in order: a writer first takes a second lock, ``<database>-escritor.cola``
  (the right to wait), then the turn, and lets the first go once it has the turn.
  Without it a holder with more work took the turn again the instant it let it go,
  before the other process's next poll: two workers paying made 1,602–1,675 payments a
  second with a p99 of 259–296 ms, and 1,765–1,867 with 35 ms once in line (three
  alternating runs each, issue 13). Now the one waiting is next, and only it polls the
  turn, every ≤ ``ESPERA_EN_COLA_S``.
- Processes that do not take it (the CLI, an older server, ``sqlite3``) still
  meet SQLite's busy handler: the lock orders our writers, SQLite's keeps
  everyone safe.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

# Sleeps between tries: a hand-over is noticed within ≈1 ms; a waiter costs ~1,000 wake-ups a second.
PRIMERA_ESPERA_S = 0.0001
ESPERA_MAXIMA_S = 0.001
# The one waiter next in line polls the turn itself more often: the turn is then idle ≤ 0.2 ms at a hand-over.
ESPERA_EN_COLA_S = 0.0002


def ruta_del_cerrojo(archivo: Path) -> Path:
    return archivo.with_name(archivo.name + "-escritor.lock")


def ruta_de_la_cola(archivo: Path) -> Path:
    return archivo.with_name(archivo.name + "-escritor.cola")


class CerrojoDeArchivo:
    """One holder's handle on the lock of ``archivo`` (each thread that writes needs its own:
    ``flock`` does not exclude two users of the same open file)."""

    def __init__(self, archivo: Path) -> None:
        self._ruta = ruta_del_cerrojo(archivo)
        self._ruta_cola = ruta_de_la_cola(archivo)
        self._fd: int | None = None
        self._fd_cola: int | None = None

    def tomar(self, hasta: float) -> bool:
        """Take the lock, waiting until ``hasta`` (``time.monotonic()``) at most; False if it did not come.

        In line behind whoever waits already (the queue lock), then the turn itself.
        """
        fd, cola = self._abrir()
        if fd is None:  # the lock file cannot be created: SQLite's lock alone orders the writers
            return True
        if cola is None:
            return _esperar(fd, hasta, ESPERA_MAXIMA_S)
        if not _esperar(cola, hasta, ESPERA_MAXIMA_S):
            return False
        try:
            return _esperar(fd, hasta, ESPERA_EN_COLA_S)
        finally:
            fcntl.flock(cola, fcntl.LOCK_UN)

    def soltar(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def cerrar(self) -> None:
        for fd in (self._fd, self._fd_cola):
            if fd is not None:
                os.close(fd)  # releases the lock if still held
        self._fd = self._fd_cola = None

    def _abrir(self) -> tuple[int | None, int | None]:
        if self._fd is None:
            self._fd = _abrir(self._ruta)
            self._fd_cola = _abrir(self._ruta_cola) if self._fd is not None else None
        return self._fd, self._fd_cola


def _abrir(ruta: Path) -> int | None:
    try:
        # Read-only is enough for flock: a user who may not write the lock file can still take it.
        return os.open(ruta, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        # A folder we cannot write: SQLite cannot write the database there either, and says why.
        log.debug("sin cerrojo de escritura en %s: %s", ruta, exc)
        return None


def _esperar(fd: int, hasta: float, espera_maxima: float) -> bool:
    """flock ``fd``, trying until ``hasta`` with sleeps that grow to ``espera_maxima``; False if it did not come."""
    espera = PRIMERA_ESPERA_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        restante = hasta - time.monotonic()
        if restante <= 0:
            return False
        time.sleep(min(espera, restante))
        espera = min(espera * 2, espera_maxima)
