"""Rows written behind the calls that produced them: reads' audit rows, in batches, off the event loop.

Why (issue 13): a read used to open a write transaction of its own for its
audit row.  On SQLite that took the database's single write lock once per
read, so reads queued behind every payment and behind any other process
holding the lock, and each one paid a BEGIN IMMEDIATE + COMMIT (a WAL append)
on the event loop.  Here a read only appends its row to a buffer; a thread
commits what has accumulated every ``INTERVALO_S`` in one transaction
(one statement a batch on SQLite, see ``InsercionEnLote``), and waits for the lock there, never
on the event loop.

What it guarantees:

- a clean shutdown (``cerrar``, called by ``Database.dispose`` and at
  interpreter exit) commits every buffered row;
- a crash (SIGKILL, power cut) loses at most the rows of the last interval
  plus the commit in flight: about ``INTERVALO_S`` + a few ms of reads;
- the buffer cannot run ahead of the thread: past ``LOTE_MAXIMO`` rows a
  reader waits (one interval at most) for the thread to commit, so that a
  process reading faster than it commits (a CPU-bound flood: the thread only
  runs when it gets the GIL) still loses only about an interval's rows.  It
  does not wait while the thread is stuck on the database (a lock held by
  another process): reads must never wait for the write lock;
- if the database refuses a batch (locked past its busy timeout, down), the
  rows stay buffered and the next round retries them; beyond ``MAXIMO_PENDIENTES``
  rows (the database down for a long while) the oldest are dropped, and logged.

Writes never come here: their audit row commits in their own transaction.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

INTERVALO_S = 0.05
# Rows buffered before a reader waits for the thread: ≈ 50 ms of the fastest reads measured in one process.
LOTE_MAXIMO = 1_000
# ≈ a minute of reads at the rates we measure; beyond it a down database costs memory, not rows in order.
MAXIMO_PENDIENTES = 100_000

# One transaction: every statement with its rows (all of them at once each), all committed or none.
Escribir = Callable[[dict[Any, list[dict[str, Any]]]], None]


class EscritorDiferido:
    """A buffer of rows per statement and the thread that commits them in batches.

    ``escribir({statement: filas})`` runs one transaction (``Database.escritura``)
    with each statement's rows at once (``Database._escribir_lote``: an executemany, or one
    statement for the batch with ``InsercionEnLote``).
    """

    def __init__(self, escribir: Escribir, intervalo: float = INTERVALO_S) -> None:
        self._escribir = escribir
        self._intervalo = intervalo
        self._pendientes: list[tuple[Any, dict[str, Any]]] = []
        self._cerrojo = threading.Lock()
        self._hay_filas = threading.Event()
        self._vaciado = threading.Condition(self._cerrojo)  # signalled after every committed batch
        self._escritas = 0  # rows committed so far (under _cerrojo)
        self._agregadas = 0  # rows ever appended (under _cerrojo)
        self._parar = False
        self._escribiendo_desde: float | None = None  # monotonic start of the commit in flight (under _cerrojo)
        self._hilo: threading.Thread | None = None
        self._en_atexit = False

    def agregar(self, statement: Any, fila: dict[str, Any]) -> None:
        """Buffer one row; it is committed within ``intervalo`` (cheap: no I/O, no lock wait)."""
        with self._cerrojo:
            if self._hilo is None:
                self._arrancar()
            self._pendientes.append((statement, fila))
            self._agregadas += 1
            if len(self._pendientes) > MAXIMO_PENDIENTES:
                sobran = len(self._pendientes) - MAXIMO_PENDIENTES
                del self._pendientes[:sobran]
                self._escritas += sobran  # accounted for, so that vaciar() does not wait for them
                log.error("historial: la base de datos no acepta filas; se descartan las más antiguas")
            atrasado = len(self._pendientes) >= LOTE_MAXIMO and not self._atascado()
        self._hay_filas.set()
        if atrasado:
            with self._cerrojo:  # waiting releases the GIL: the thread gets its turn
                self._vaciado.wait(timeout=self._intervalo)

    def _atascado(self) -> bool:
        """The thread is waiting on the database (a commit in flight for over two intervals)."""
        desde = self._escribiendo_desde
        return desde is not None and time.monotonic() - desde > 2 * self._intervalo

    def vaciar(self, timeout: float | None = 30.0) -> bool:
        """Block until every row appended before this call is committed (True), or ``timeout`` passed."""
        with self._cerrojo:
            objetivo = self._agregadas
            if self._hilo is None:
                return True
            self._hay_filas.set()
            return self._vaciado.wait_for(lambda: self._escritas >= objetivo, timeout)

    def cerrar(self) -> None:
        """Commit what is buffered and stop the thread (idempotent)."""
        with self._cerrojo:
            hilo, self._parar = self._hilo, True
        if hilo is not None:
            self._hay_filas.set()
            hilo.join()
            with self._cerrojo:
                self._hilo = None  # a later agregar() starts a new one
        self._escribir_pendientes()  # anything appended after the thread's last round

    def _arrancar(self) -> None:
        self._parar = False
        self._hilo = threading.Thread(target=self._bucle, name="historial-diferido", daemon=True)
        self._hilo.start()
        if not self._en_atexit:
            atexit.register(self.cerrar)  # a clean exit (SIGTERM to a uvicorn worker included) loses none
            self._en_atexit = True

    def _bucle(self) -> None:
        while True:
            self._hay_filas.wait()
            # Cleared before reading _parar: cerrar() sets _parar, then the event, so neither is missed.
            self._hay_filas.clear()
            with self._cerrojo:
                parar = self._parar
            if not parar:
                time.sleep(self._intervalo)  # let the interval's rows accumulate: one transaction for all
            escrito = self._escribir_pendientes()
            if parar:
                return
            if not escrito:
                time.sleep(min(1.0, 10 * self._intervalo))  # the database refused: back off, then retry
                self._hay_filas.set()

    def _escribir_pendientes(self) -> bool:
        with self._cerrojo:
            lote, self._pendientes = self._pendientes, []
            self._escribiendo_desde = time.monotonic() if lote else None
        if not lote:
            return True
        por_statement: dict[Any, list[dict[str, Any]]] = {}
        for statement, fila in lote:
            por_statement.setdefault(statement, []).append(fila)
        try:
            self._escribir(por_statement)
        except Exception:
            with self._cerrojo:
                self._escribiendo_desde = None
                self._pendientes[:0] = lote  # keep them, in order, for the next round
            log.warning("historial: no se pudieron guardar %d fila(s); se reintentará", len(lote), exc_info=True)
            return False
        with self._cerrojo:
            self._escribiendo_desde = None
            self._escritas += len(lote)
            self._vaciado.notify_all()
        return True
