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


def ruta_del_cerrojo(archivo: Path) -> Path:
    return archivo.with_name(archivo.name + "-escritor.lock")


class CerrojoDeArchivo:
    """One holder's handle on the lock of ``archivo`` (each thread that writes needs its own:
    ``flock`` does not exclude two users of the same open file)."""

    def __init__(self, archivo: Path) -> None:
        self._ruta = ruta_del_cerrojo(archivo)
        self._fd: int | None = None

    def tomar(self, hasta: float) -> bool:
        """Take the lock, waiting until ``hasta`` (``time.monotonic()``) at most; False if it did not come."""
        fd = self._abrir()
        if fd is None:  # the lock file cannot be created: SQLite's lock alone orders the writers
            return True
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
            espera = min(espera * 2, ESPERA_MAXIMA_S)

    def soltar(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def cerrar(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock if still held
            self._fd = None

    def _abrir(self) -> int | None:
        if self._fd is None:
            try:
                # Read-only is enough for flock: a user who may not write the lock file can still take it.
                self._fd = os.open(self._ruta, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                # A folder we cannot write: SQLite cannot write the database there either, and says why.
                log.debug("sin cerrojo de escritura en %s: %s", self._ruta, exc)
        return self._fd
