"""SQLite's writes in one process: one thread runs them and commits them in groups.

Why (issue 13): SQLite has one write lock per file, so a process's writes run
one after another whatever we do; what they cost around that is ours to choose.
Hopping each write to anyio's thread pool cost ≈0.45 ms of CPU, and 32 pool
threads queued on a Python lock with context switches and event-loop wake-ups
for every write; each write also paid its own BEGIN IMMEDIATE and COMMIT (a WAL
append).  Here the event loop appends the write to a queue, and one thread per
process takes every write waiting (up to ``LOTE_MAXIMO``), opens one write
transaction, runs each write inside a SAVEPOINT of its own, commits once, and
then wakes the waiting coroutines with one call per event loop.

What it guarantees:

- each write stays atomic with its audit row: ``Database.escritura()`` called
  inside the batch yields a SAVEPOINT on the batch's connection
  (``punto_de_guardado``), so a refused write rolls back only itself, and the
  row ``registrar_fallo`` then writes for it (another SAVEPOINT) commits with
  the batch;
- nobody hears "done" before the COMMIT: results are delivered after it, and
  if the COMMIT fails (or the transaction is lost mid-batch), every write of
  the batch gets ``BaseDeDatosNoDisponible`` (retryable) and nothing of it was
  written;
- a call waits at most ``espera_s`` (the busy timeout) for its turn, and is
  never told it failed while its write may still happen: under one lock either
  the thread claims the write (then the call waits for it to end, cancellation
  included, as anyio's threads did) or the call gives it up (then it never runs);
- writes run in the calling coroutine's ``contextvars`` context (trace spans,
  the tool call being served), as they did in anyio's threads.

Between processes (``serve --workers N``) the writer threads take turns on an
OS lock first (db/cerrojo.py); the CLI, which does not, meets SQLite's busy
timeout at BEGIN IMMEDIATE as before.  A batch's COMMIT runs no checkpoint:
that waits for a thread of its own, off the turn (db/punto_de_control.py).
Outside this thread (the CLI, the seeders, tests calling services directly)
``Database.escritura()`` is a transaction of its own, as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from sqlalchemy import Connection, Engine

from soporte_mcp.db.cerrojo import CerrojoDeArchivo
from soporte_mcp.db.punto_de_control import PuntosDeControl, sin_autocheckpoint
from soporte_mcp.errors import BaseDeDatosNoDisponible, SoporteError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Writes per transaction: enough to absorb every request in flight of a loaded worker (wrk -c32 over two
# workers keeps ≤ 16 each), small enough that a batch holds the write lock for milliseconds, not longer.
LOTE_MAXIMO = 64

PENDIENTE, EN_CURSO, ABANDONADO = "pendiente", "en_curso", "abandonado"
OCUPADA = ("La base de datos está ocupada con otras escrituras. No se hizo ningún cambio; "
           "reintente en unos segundos.")


@dataclass(eq=False, slots=True)
class Trabajo:
    """One write waiting for, or in, a batch."""

    fn: Callable[[], Any]
    contexto: contextvars.Context
    loop: asyncio.AbstractEventLoop
    listo: asyncio.Future[None]
    encolado: float
    estado: str = PENDIENTE  # under EscritorAgrupado._cerrojo
    resultado: Any = None
    error: BaseException | None = None
    despues: list[Callable[[], None]] = field(default_factory=list)  # run once the batch is committed

    def correr(self) -> None:
        try:
            self.resultado = self.contexto.run(self.fn)
        except BaseException as exc:  # delivered to the caller, who raises it
            self.error = exc


class EscritorAgrupado:
    """The queue of a process's SQLite writes and the thread that commits them in batches.

    ``traducir`` turns a driver error into ``BaseDeDatosNoDisponible`` (db/engine.py's
    ``traducir_errores``); ``turno``, the lock that orders the writers of every process
    on the file (db/cerrojo.py), is held from before BEGIN IMMEDIATE to after COMMIT.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        espera_s: float,
        traducir: Callable[[], Any],
        turno: CerrojoDeArchivo | None = None,
        puntos: PuntosDeControl | None = None,
        lote_maximo: int = LOTE_MAXIMO,
    ) -> None:
        self._engine = engine
        self._turno = turno
        self._puntos = puntos
        # The thread's own connection, kept between batches: SQLite keeps its page cache warm as
        # long as no other connection wrote, where the pool would hand out one whose cache is stale.
        self._conn: Connection | None = None
        self._espera_s = espera_s
        self._traducir = traducir
        self._lote_maximo = lote_maximo
        self._cola: deque[Trabajo] = deque()
        self._cerrojo = threading.Lock()
        self._hay_trabajo = threading.Condition(self._cerrojo)
        self._hilo: threading.Thread | None = None
        self._parar = False
        self._local = threading.local()  # the batch's connection and job, in the writer thread only

    # --- in the writer thread, while a batch runs -------------------------------------------------

    def conexion(self) -> Connection | None:
        """The batch's connection when called from a write running in a batch (else None)."""
        return getattr(self._local, "conn", None)

    def trabajo(self) -> Trabajo | None:
        return getattr(self._local, "trabajo", None)

    # --- from the event loop ----------------------------------------------------------------------

    async def ejecutar(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (a write: it opens its transactions with ``Database.escritura``) in the next batch.

        Raises:
            BaseDeDatosNoDisponible: it waited ``espera_s`` for its turn without getting it (it never
                runs), or its batch could not be committed (nothing of it was written).
            Whatever ``fn`` raises.
        """
        loop = asyncio.get_running_loop()
        trabajo = Trabajo(fn, contextvars.copy_context(), loop, loop.create_future(), time.monotonic())
        with self._cerrojo:
            if self._hilo is None:
                self._arrancar()
            self._cola.append(trabajo)
            self._hay_trabajo.notify()
        try:
            async with asyncio.timeout(self._espera_s):
                # shield: a timeout or a cancellation must not cancel ``listo``, which may still be awaited.
                await asyncio.shield(trabajo.listo)
        except TimeoutError:
            if self._abandonar(trabajo):
                raise BaseDeDatosNoDisponible(OCUPADA) from None
            await _hasta_el_final(trabajo)
        except asyncio.CancelledError:
            if not self._abandonar(trabajo):
                await _hasta_el_final(trabajo)
            raise
        if trabajo.error is not None:
            error, trabajo.error = trabajo.error, None  # no cycle through the traceback
            raise error
        return trabajo.resultado

    def _abandonar(self, trabajo: Trabajo) -> bool:
        """Give the write up if the thread has not claimed it yet (True: it will never run)."""
        with self._cerrojo:
            if trabajo.estado == PENDIENTE:
                trabajo.estado = ABANDONADO
                return True
            return False

    def cerrar(self) -> None:
        """Let the thread finish what is queued, then stop it (idempotent; a later write starts a new one)."""
        with self._cerrojo:
            hilo, self._parar = self._hilo, True
            self._hay_trabajo.notify()
        if hilo is not None:
            hilo.join()

    def _arrancar(self) -> None:
        self._parar = False
        self._hilo = threading.Thread(target=self._bucle, name="escritor-sqlite", daemon=True)
        self._hilo.start()

    # --- the writer thread ------------------------------------------------------------------------

    def _bucle(self) -> None:
        while True:
            with self._cerrojo:
                while not self._cola:
                    if self._parar:
                        # Under the lock: a write queued now starts a new thread only once this
                        # one has let go of the connection and the turn.
                        self._soltar_recursos()
                        self._hilo = None
                        return
                    self._hay_trabajo.wait()
            try:
                self._un_lote()
            except BaseException:  # a bug here must not leave the callers waiting forever
                log.exception("escritor de SQLite: fallo inesperado en un lote")

    def _un_lote(self) -> None:
        inicio = time.monotonic()
        trabajos: list[Trabajo] | None = None
        error: BaseDeDatosNoDisponible | None = None
        try:
            with self._transaccion() as conn:
                trabajos = self._tomar(hasta=None)
                perdida = self._correr(conn, trabajos)
                if perdida is not None:
                    raise perdida
        except BaseException as exc:  # every write of the batch gets it
            error = _como_no_disponible(exc, self._traducir)
            if trabajos is None:  # BEGIN failed: those who waited the whole attempt hear it, the rest retry
                trabajos = self._tomar(hasta=inicio)
        if error is None:
            _tras_confirmar(trabajos)
        self._entregar(trabajos, error)
        if error is None and self._puntos is not None:
            self._puntos.avisar()  # the checkpoint, off the turn (db/punto_de_control.py)

    @contextmanager
    def _transaccion(self) -> Iterator[Connection]:
        """The turn, then BEGIN IMMEDIATE … COMMIT on the thread's connection (a rollback when the body raises).

        Raises:
            BaseDeDatosNoDisponible: no turn, or no write lock, within the wait.
        """
        if self._turno is not None and not self._turno.tomar(time.monotonic() + self._espera_s):
            raise BaseDeDatosNoDisponible(OCUPADA)
        try:
            with self._traducir():
                conn = self._conexion()
                try:
                    # BEGIN and COMMIT belong to no single call: no trace span for them (observabilidad/trazas.py).
                    conn.execution_options(sin_trazas=True)
                    with self._sin_autocheckpoint(conn), conn.begin():
                        conn.execution_options(sin_trazas=False)
                        yield conn
                except BaseException:
                    self._descartar_conexion()  # whatever state a failed batch left it in
                    raise
        finally:
            if self._turno is not None:
                self._turno.soltar()

    def _sin_autocheckpoint(self, conn: Connection) -> AbstractContextManager[None]:
        # With ``puntos`` the COMMIT copies no pages and syncs no file while the turn is held.
        return sin_autocheckpoint(conn) if self._puntos is not None else nullcontext()

    def _conexion(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def _descartar_conexion(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("escritor de SQLite: no se pudo cerrar la conexión", exc_info=True)

    def _soltar_recursos(self) -> None:
        self._descartar_conexion()
        if self._turno is not None:
            self._turno.cerrar()

    def _tomar(self, hasta: float | None) -> list[Trabajo]:
        """Claim the writes waiting (up to the batch size; only those queued by ``hasta`` if given)."""
        tomados: list[Trabajo] = []
        with self._cerrojo:
            while self._cola and len(tomados) < self._lote_maximo:
                if hasta is not None and self._cola[0].encolado > hasta:
                    break
                trabajo = self._cola.popleft()
                if trabajo.estado == PENDIENTE:
                    trabajo.estado = EN_CURSO
                    tomados.append(trabajo)
        return tomados

    def _correr(self, conn: Connection, trabajos: list[Trabajo]) -> BaseException | None:
        """Run each write in the batch's transaction; the error that lost the transaction, if one did."""
        driver = conn.connection.driver_connection
        self._local.conn = conn
        try:
            for trabajo in trabajos:
                self._local.trabajo = trabajo
                trabajo.correr()
                # A disk or I/O error can make SQLite roll the whole transaction back: then the earlier
                # writes are gone too, and none of the batch may be reported as done.
                if isinstance(trabajo.error, BaseDeDatosNoDisponible) or not driver.in_transaction:
                    return trabajo.error or BaseDeDatosNoDisponible(PERDIDA)
        finally:
            self._local.conn = self._local.trabajo = None
        return None

    def _entregar(self, trabajos: list[Trabajo], error: BaseDeDatosNoDisponible | None = None) -> None:
        """Wake the callers: one call per event loop for the whole batch, not one per write."""
        por_loop: dict[asyncio.AbstractEventLoop, list[Trabajo]] = {}
        for trabajo in trabajos:
            if error is not None:
                trabajo.resultado, trabajo.error = None, _copia(error)
            por_loop.setdefault(trabajo.loop, []).append(trabajo)
        for loop, suyos in por_loop.items():
            try:
                loop.call_soon_threadsafe(_despertar, suyos)
            except RuntimeError:  # that loop is closed: nobody is waiting there any more
                pass


PERDIDA = ("La base de datos perdió la transacción en curso. No se hizo ningún cambio; "
           "reintente en unos segundos.")


@contextmanager
def punto_de_guardado(conn: Connection) -> Iterator[None]:
    """A SAVEPOINT of the batch's transaction: what the body wrote stays only if it returns.

    Straight on the driver: SQLAlchemy's ``begin_nested`` cost ≈80 µs a job (its
    bookkeeping and statement compilation), the two statements ≈1.5 µs.  SQLAlchemy need
    not know: the batch's own transaction is the one it tracks.  Nested ones reuse the
    name; SQLite releases or rolls back the innermost of that name.

    Raises:
        BaseDeDatosNoDisponible: SQLite had rolled the batch's transaction back (a disk or
            I/O error): a SAVEPOINT now would start, and its RELEASE commit, a transaction
            of its own outside the batch.
    """
    driver = conn.connection.driver_connection
    if not driver.in_transaction:
        raise BaseDeDatosNoDisponible(PERDIDA)
    driver.execute("SAVEPOINT escritura")
    try:
        yield
    except BaseException:
        try:
            driver.execute("ROLLBACK TO escritura")
            driver.execute("RELEASE escritura")
        except sqlite3.Error as exc:  # the transaction went with the error: the batch is lost
            raise BaseDeDatosNoDisponible(PERDIDA) from exc
        raise
    driver.execute("RELEASE escritura")


def _tras_confirmar(trabajos: list[Trabajo]) -> None:
    for trabajo in trabajos:
        if trabajo.error is not None:
            continue
        for despues in trabajo.despues:
            try:
                trabajo.contexto.run(despues)
            except Exception:
                log.exception("escritor de SQLite: fallo tras confirmar una escritura")


def _despertar(trabajos: list[Trabajo]) -> None:
    for trabajo in trabajos:
        if not trabajo.listo.done():
            trabajo.listo.set_result(None)


async def _hasta_el_final(trabajo: Trabajo) -> None:
    # The thread has claimed it: it will run whatever the caller does, so the caller waits for the end
    # rather than hear a failure for a write that then happens.
    with anyio.CancelScope(shield=True):
        await trabajo.listo


def _como_no_disponible(exc: BaseException, traducir: Callable[[], Any]) -> BaseDeDatosNoDisponible:
    if isinstance(exc, BaseDeDatosNoDisponible):
        return exc
    if not isinstance(exc, SoporteError):
        try:
            with traducir():
                raise exc
        except BaseDeDatosNoDisponible as traducida:
            return traducida
        except BaseException:  # not a driver failure we know: still nothing was written
            log.error("escritor de SQLite: el lote no se pudo confirmar", exc_info=exc)
    error = BaseDeDatosNoDisponible("No se pudo confirmar la escritura en la base de datos. No se hizo ningún "
                                    "cambio; reintente en unos segundos.")
    error.__cause__ = exc
    return error


def _copia(error: BaseDeDatosNoDisponible) -> BaseDeDatosNoDisponible:
    # Each caller raises its own instance: one shared exception would collect every caller's traceback.
    copia = BaseDeDatosNoDisponible(error.mensaje)
    copia.__cause__ = error.__cause__ or error
    return copia
