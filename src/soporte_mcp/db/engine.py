"""The database handle: engine creation, SQLite tuned for a server, and where queries run."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote, unquote

import anyio.to_thread
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from soporte_mcp.db.cerrojo import CerrojoDeArchivo
from soporte_mcp.db.consulta_directa import InsercionEnLote
from soporte_mcp.db.diferido import EscritorDiferido
from soporte_mcp.db.escritor import EscritorAgrupado, punto_de_guardado
from soporte_mcp.db.punto_de_control import PuntosDeControl, sin_autocheckpoint
from soporte_mcp.errors import BaseDeDatosNoDisponible

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
# PostgreSQL: a pooled connection is pinged when it comes out of the pool only after this long in it,
# and a reader thread's own connection (below) before a read that follows this long without one.
PING_TRAS_S = 1.0
# PostgreSQL: the threads of a process that run reads, each on a connection of its own (see Database.run).
LECTORES_PG = 8


def create_db_engine(url: str, *, solo_lectura: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

    ``solo_lectura`` (the commands that only look: ``info``, ``db check``) opens a SQLite file
    read-only, so that it works where the file or its folder cannot be written.

    Raises:
        BaseDeDatosNoDisponible: the URL is malformed or names a driver that is not installed.
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            engine = create_engine(parsed)
            _ping_si_estuvo_quieta(engine)
            return engine
        archivo = sqlite_file(parsed.database)
        if archivo is not None and solo_lectura:
            parsed = url_de_solo_lectura(parsed, archivo)
        elif archivo is not None:
            archivo.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
    except ImportError as exc:
        raise BaseDeDatosNoDisponible(
            f"falta el controlador de {url.split(':', 1)[0]} ({exc.name}); para PostgreSQL instale "
            "`soporte-mcp[postgres]` y use una URL postgresql+psycopg://…"
        ) from exc
    # ValueError: a part SQLAlchemy cannot read (a port that is not a number); the settings only check the scheme.
    except (ArgumentError, NoSuchModuleError, OSError, ValueError) as exc:
        raise BaseDeDatosNoDisponible(f"SOPORTE_DATABASE_URL no es válida ({url!r}): {exc}") from exc
    _tune_sqlite(engine, archivo=archivo, solo_lectura=solo_lectura)
    return engine


def _ping_si_estuvo_quieta(engine: Engine) -> None:
    """``pool_pre_ping`` for connections that sat in the pool longer than PING_TRAS_S.

    Why (issue 13): the pre-ping is a round trip to the server on every checkout, one more
    per read than the read's own statement.  A connection lost while idle (a restart of
    the server, a network cut, an idle timeout) is still found here, before any call uses
    it, and replaced by the pool (``DisconnectionError``), as ``pool_pre_ping`` does.  One
    lost while the server is busy fails the statement that finds it: that call answers the
    retryable ``base_de_datos_no_disponible``, and SQLAlchemy renews the pool's connections.
    """

    @event.listens_for(engine, "checkin")
    def _devuelta(_dbapi_conn, registro) -> None:  # noqa: ANN001
        registro.info["devuelta"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _comprobar(dbapi_conn, registro, _proxy) -> None:  # noqa: ANN001
        devuelta = registro.info.get("devuelta")
        if devuelta is None or time.monotonic() - devuelta < PING_TRAS_S:
            return
        if not responde(engine, dbapi_conn):
            raise DisconnectionError("conexión perdida mientras esperaba en el pool")


def responde(engine: Engine, dbapi_conn: Any) -> bool:
    """Whether the server still answers on ``dbapi_conn`` (a round trip: SQLAlchemy's own ping)."""
    try:
        engine.dialect.do_ping(dbapi_conn)
    except engine.dialect.loaded_dbapi.Error:
        return False
    return True


def sqlite_file(database: str | None) -> Path | None:
    """The file behind a SQLite URL's database part (None for an in-memory database)."""
    if database and database.startswith("file:"):
        database = unquote(database.removeprefix("file:"))
    if not database or database == ":memory:":
        return None
    return Path(database).expanduser()


def url_de_solo_lectura(url: URL, archivo: Path) -> URL:
    """A SQLite URI that opens ``archivo`` read-only (``mode=ro``).

    A WAL database needs its ``-shm`` file even to read; in a folder nobody can write
    (a read-only mount, say) that file cannot be created, and so no writer can be at work
    either: then the file is opened ``immutable``, without locks or shared memory.

    Raises:
        BaseDeDatosNoDisponible: the file does not exist.
    """
    if not archivo.is_file():
        raise BaseDeDatosNoDisponible(f"no existe la base de datos {archivo}: créela con `soporte-mcp db upgrade` "
                                      "o `soporte-mcp seed`")
    opciones = {"mode": "ro", "uri": "true"}
    companero = archivo.with_name(archivo.name + "-wal")
    if not _se_puede_escribir(archivo.parent) and not companero.exists():
        opciones["immutable"] = "1"
    return url.set(database=f"file:{quote(str(archivo.resolve()))}", query=opciones)


def _se_puede_escribir(ruta: Path) -> bool:
    # effective_ids: the permissions the process really has (a root without CAP_DAC_OVERRIDE included);
    # os.access also says no on a read-only mount.
    return os.access(ruta, os.W_OK, effective_ids=os.access in os.supports_effective_ids)


def causa_de_acceso(archivo: Path) -> str | None:
    """Why SQLite cannot open or write ``archivo``, in words (None when the file system allows it)."""
    carpeta = archivo.parent
    if not carpeta.is_dir():
        return f"la carpeta {carpeta} no existe"
    if archivo.exists() and not os.access(archivo, os.R_OK, effective_ids=os.access in os.supports_effective_ids):
        return "no tiene permiso de lectura sobre el archivo"
    if _solo_lectura_montado(carpeta):
        return f"la carpeta {carpeta} está en un sistema de archivos de solo lectura"
    if archivo.exists() and not _se_puede_escribir(archivo):
        return "el archivo no tiene permiso de escritura"
    if not _se_puede_escribir(carpeta):
        return (f"la carpeta {carpeta} no permite escribir, y SQLite necesita crear en ella "
                f"{archivo.name}-wal y {archivo.name}-shm")
    return None


def _solo_lectura_montado(carpeta: Path) -> bool:
    try:
        return bool(os.statvfs(carpeta).f_flag & os.ST_RDONLY)
    except OSError:
        return False


# SQLite's result codes for a file it cannot open or write (sqlite3.Error.sqlite_errorname).
ERRORES_DE_ACCESO = ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")


def _tune_sqlite(engine: Engine, *, archivo: Path | None, solo_lectura: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        # Take transaction control away from pysqlite so that we can say BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if not solo_lectura:  # setting the journal mode writes the file's header
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # In WAL mode NORMAL loses no committed data on a process crash, only on power loss.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "handle_error")
    def _archivo_inaccesible(contexto: ExceptionContext) -> None:
        # "unable to open database file" names neither the file nor the cause: say both, once, here,
        # for every caller (opening, migrating, reading, writing).
        nombre = getattr(contexto.original_exception, "sqlite_errorname", "")
        if archivo is None or not nombre.startswith(ERRORES_DE_ACCESO):
            return
        causa = causa_de_acceso(archivo) or str(contexto.original_exception)
        raise BaseDeDatosNoDisponible(f"no se puede usar la base de datos {archivo}: {causa}") \
            from contexto.sqlalchemy_exception

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction that reads first must hold the write lock from the start:
        # upgrading a WAL read snapshot to a writer fails with SQLITE_BUSY, whatever the timeout.
        if solo_lectura or conn.get_execution_options().get("solo_lectura", False):
            # Straight to the driver: every read pays this, and SQLAlchemy's execute path (events,
            # cursor wrapping) cost more than the BEGIN itself (issue 13's profile). A deferred BEGIN
            # takes no lock and touches no file; its errors surface on the first query, translated.
            driver = conn.connection.driver_connection
            if not driver.in_transaction:  # else Database.lectura began it on the driver already
                driver.execute("BEGIN")
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class Database:
    """The engine plus the two ways we open transactions and the one way we run them."""

    engine: Engine
    _lector: Engine = field(init=False, repr=False)
    _diferido: EscritorDiferido = field(init=False, repr=False)
    _escritor: EscritorAgrupado | None = field(init=False, repr=False, default=None)
    # The diferido thread's own handle on the file's write turn (db/cerrojo.py), None off SQLite files.
    _turno_diferido: CerrojoDeArchivo | None = field(init=False, repr=False, default=None)
    # The checkpoints of both writer threads' commits (db/punto_de_control.py), None off SQLite files.
    _puntos: PuntosDeControl | None = field(init=False, repr=False, default=None)
    _lector_principal: Connection | None = field(init=False, repr=False, default=None)
    # PostgreSQL: the reader threads (created by the first read) and the connections they keep.
    _lectores: ThreadPoolExecutor | None = field(init=False, repr=False, default=None)
    _del_hilo: threading.local = field(init=False, repr=False, default_factory=threading.local)
    _propias: list[Connection] = field(init=False, repr=False, default_factory=list)
    _cerrojo_lectores: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # PostgreSQL reads in autocommit: no BEGIN and COMMIT round trips around them. Under READ
        # COMMITTED each statement of a transaction saw its own snapshot anyway, so nothing changes.
        sin_transaccion = {} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        self._lector = self.engine.execution_options(solo_lectura=True, **sin_transaccion)
        self._diferido = EscritorDiferido(self._escribir_lote)
        if not self.is_sqlite:
            return
        archivo = self.archivo_sqlite
        turno = CerrojoDeArchivo(archivo) if archivo is not None else None
        self._puntos = PuntosDeControl(self.engine) if archivo is not None else None
        self._escritor = EscritorAgrupado(
            self.engine, espera_s=SQLITE_BUSY_TIMEOUT_MS / 1000, traducir=traducir_errores, turno=turno,
            puntos=self._puntos,
        )
        self._turno_diferido = CerrojoDeArchivo(archivo) if archivo is not None else None

    @classmethod
    def from_url(cls, url: str, *, solo_lectura: bool = False) -> Database:
        """Raises BaseDeDatosNoDisponible (see :func:`create_db_engine`)."""
        return cls(create_db_engine(url, solo_lectura=solo_lectura))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def escritura(self) -> Iterator[Connection]:
        """A write transaction (on SQLite it takes the write lock at BEGIN).

        Called by a write running in the SQLite writer's batch (``escribir``), it is
        a SAVEPOINT of the batch's transaction instead: atomic on its own, committed
        with the batch (db/escritor.py).

        Raises:
            BaseDeDatosNoDisponible: the database cannot be reached, or stayed locked past the wait.
        """
        lote = self._escritor.conexion() if self._escritor is not None else None
        if lote is None:
            with traducir_errores(), self.engine.begin() as conn:
                yield conn
            return
        with traducir_errores(), punto_de_guardado(lote):
            yield lote

    def tras_confirmar(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the write that calls this (after its ``escritura``) is committed.

        Outside a batch that is now; inside the SQLite writer's batch, after the batch's
        COMMIT, and never if it fails (what counts payments must not count one rolled back).
        """
        trabajo = self._escritor.trabajo() if self._escritor is not None else None
        if trabajo is None:
            fn()
        else:
            trabajo.despues.append(fn)

    @contextmanager
    def lectura(self) -> Iterator[Connection]:
        """A read: on SQLite a transaction, one consistent snapshot, no write lock; on PostgreSQL
        statements in autocommit, each on its snapshot (as in a READ COMMITTED transaction).

        Raises:
            BaseDeDatosNoDisponible: the database cannot be reached.
        """
        conn = self._lector_propio()
        if conn is None or conn.in_transaction():  # elsewhere, or a read nested in another
            with traducir_errores(), self._lector.begin() as conn:
                yield conn
            return
        if not self.is_sqlite:
            with traducir_errores(), conn.begin():
                yield conn
            return
        with traducir_errores():
            yield from _lectura_en_el_driver(conn)

    def _lector_propio(self) -> Connection | None:
        """The connection this thread keeps for its reads: on SQLite the event loop's, on PostgreSQL
        a reader thread's (see ``run``); None elsewhere, where reads check one out of the pool.

        Every inline read (``run``) runs on the loop's thread; checking a connection out of the pool
        and back in (with its reset) cost ≈ 27 µs of the 37 µs of an empty read transaction on
        SQLite, and ≈ 0.3 ms of CPU a read on PostgreSQL, with its isolation level set and reset
        (issue 13's profiles).  Other threads (``run_en_hilo``, the CLI) use the pool: keeping one
        per pool thread could exhaust it.

        Raises:
            BaseDeDatosNoDisponible: a new connection cannot be opened.
        """
        if self.is_sqlite:
            if threading.current_thread() is not threading.main_thread():
                return None
            conn = self._lector_principal
            if conn is None or conn.closed or conn.invalidated:
                conn = self._lector_principal = self._lector.connect()
            return conn
        if not getattr(self._del_hilo, "lector", False):
            return None
        vieja, ahora = getattr(self._del_hilo, "conn", None), time.monotonic()
        ultima, self._del_hilo.ultima = getattr(self._del_hilo, "ultima", ahora), ahora
        if vieja is not None and not vieja.closed and not vieja.invalidated:
            # Pinged only after sitting unused past PING_TRAS_S, as the pool's connections are.
            if ahora - ultima < PING_TRAS_S or responde(self.engine, vieja.connection.driver_connection):
                return vieja
            vieja.invalidate()
        with traducir_errores():
            conn = self._del_hilo.conn = self._lector.connect()
        with self._cerrojo_lectores:
            if vieja is not None:
                self._propias.remove(vieja)
            self._propias.append(conn)
        if vieja is not None:
            vieja.close()  # an invalidated one: back to the pool, which discards it
        return conn

    def diferir(self, statement: Any, fila: dict[str, Any]) -> None:
        """Insert ``fila`` with ``statement`` soon, in a batch, off the caller's thread (see db/diferido.py).

        For rows that must not make a read wait on the write lock: reads' audit rows.  ``statement`` is
        a Core INSERT (an executemany a batch) or an ``InsercionEnLote`` (one statement a batch on SQLite).
        """
        self._diferido.agregar(statement, fila)

    def vaciar_diferidas(self, timeout: float | None = 30.0) -> bool:
        """Wait until every row ``diferir`` took so far is committed (False: ``timeout`` passed first)."""
        return self._diferido.vaciar(timeout)

    def _escribir_lote(self, lote: dict[Any, list[dict[str, Any]]]) -> None:
        # Takes the file's write turn like the writer thread (db/cerrojo.py): SQLite's busy
        # handler would leave its lock idle between them. Refused, the rows wait for the next round.
        turno = self._turno_diferido
        if turno is not None and not turno.tomar(time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise BaseDeDatosNoDisponible("la base de datos está ocupada con otras escrituras")
        try:
            # Part of no call's trace: no orphan spans for it (observabilidad/trazas.py).
            with traducir_errores(), self.engine.execution_options(sin_trazas=True).connect() as conn:
                # Its COMMIT runs no checkpoint while the turn is held (db/punto_de_control.py).
                with sin_autocheckpoint(conn) if self._puntos is not None else nullcontext(), conn.begin():
                    for statement, filas in lote.items():
                        if isinstance(statement, InsercionEnLote):  # one statement for the batch on SQLite
                            statement.insertar(conn, filas)
                        else:
                            conn.execute(statement, filas)
        finally:
            if turno is not None:
                turno.soltar()
        if self._puntos is not None:
            self._puntos.avisar()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database work that takes no lock (a read) from async code.

        SQLite answers our indexed queries in microseconds, far less than the
        ≈0.45 ms a hop to a worker thread costs, so on SQLite a read runs
        inline on the event loop: in WAL mode a read never waits for a writer,
        and its audit row is written behind (``diferir``).  A networked
        database can stall for milliseconds, so there it runs in a worker thread.
        Work that may wait for SQLite's write lock goes through ``escribir``.
        """
        if self.is_sqlite:
            return fn(*args, **kwargs)
        # PostgreSQL: on one of LECTORES_PG threads that keep a connection each (_lector_propio),
        # handed over by the loop's own executor hand-off (≈ 90 µs of CPU against anyio's ≈ 125),
        # in a copy of this task's context, as anyio and asyncio.to_thread do (the trace's span).
        contexto = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._ejecutor_de_lecturas(), functools.partial(contexto.run, fn, *args, **kwargs))

    def _ejecutor_de_lecturas(self) -> ThreadPoolExecutor:
        if self._lectores is None:
            with self._cerrojo_lectores:
                if self._lectores is None:
                    self._lectores = ThreadPoolExecutor(
                        LECTORES_PG, thread_name_prefix="lector-pg", initializer=self._marcar_lector)
        return self._lectores

    def _marcar_lector(self) -> None:
        self._del_hilo.lector = True

    async def escribir(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a write from async code, never on the event loop (it may wait for the write lock).

        On SQLite it goes to the process's one writer thread, which commits the writes
        waiting together (db/escritor.py); it waits at most the busy timeout for its turn.
        Elsewhere it runs in a worker thread of its own (PostgreSQL locks rows, not the database).

        Raises:
            BaseDeDatosNoDisponible: no turn within the busy timeout (nothing was written), or the
                batch could not be committed.
        """
        if self._escritor is None:
            return await self.run_en_hilo(fn, *args, **kwargs)
        return await self._escritor.ejecutar(lambda: fn(*args, **kwargs))

    async def run_en_hilo(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking work in a worker thread whatever the database: writes (they may wait up to
        the busy timeout for SQLite's write lock) and work long enough (full scans) to stall
        every other request sharing the event loop."""
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    @property
    def archivo_sqlite(self) -> Path | None:
        """The file of a file-backed SQLite database (None for any other)."""
        return sqlite_file(self.engine.url.database) if self.is_sqlite else None

    def ping(self) -> None:
        """Check that the database answers.

        Raises:
            BaseDeDatosNoDisponible: it does not.
        """
        archivo = self.archivo_sqlite
        if archivo is not None and not archivo.exists():
            raise BaseDeDatosNoDisponible(f"el archivo de la base de datos ya no existe: {archivo}")
        with self.lectura() as conn:
            # A real table: SELECT 1 on a pooled connection would not touch the database at all.
            conn.execute(text("SELECT version_num FROM alembic_version"))

    def dispose(self) -> None:
        """Finish the queued writes, commit the rows written behind, then close the connections."""
        if self._escritor is not None:
            self._escritor.cerrar()
        self._diferido.cerrar()
        if self._lector_principal is not None:
            self._lector_principal.close()
            self._lector_principal = None
        if self._lectores is not None:
            self._lectores.shutdown(wait=True)
            self._lectores = None
        with self._cerrojo_lectores:
            propias, self._propias = self._propias, []
        for conn in propias:
            conn.close()
        if self._turno_diferido is not None:
            self._turno_diferido.cerrar()
        if self._puntos is not None:
            self._puntos.cerrar()  # after both writers: their last commits are checkpointed too
        self.engine.dispose()


# The failures of the database itself (unreachable, locked, unopenable), as opposed to a
# statement's own error (an IntegrityError is a rule the service must have checked: a bug).
ERRORES_DE_DISPONIBILIDAD = (OperationalError, InterfaceError, PoolTimeoutError)


def _lectura_en_el_driver(conn: Connection) -> Iterator[Connection]:
    """A read transaction on the event loop's own SQLite connection, begun and ended on the driver.

    Why (issue 13): SQLAlchemy's ``begin()``/``commit()`` around a read cost ≈ 11 µs, the
    driver's BEGIN and COMMIT ≈ 1 µs, and the hot reads run on the driver anyway
    (db/consulta_directa.py).  A Core statement inside still works: SQLAlchemy then
    begins its own transaction (``_on_begin`` sees this one and adds none), and ends
    it here, which ends SQLite's.
    """
    driver = conn.connection.driver_connection
    try:
        driver.execute("BEGIN")
    except sqlite3.Error as exc:
        conn.invalidate()  # unusable: the next read opens a new one
        # As Core's begin() raised it, for the one translation (traducir_errores, around this).
        raise OperationalError("BEGIN", None, exc) from exc
    try:
        yield conn
    except BaseException:
        if conn.in_transaction():
            conn.rollback()
        elif driver.in_transaction:
            driver.execute("ROLLBACK")
        raise
    if conn.in_transaction():
        conn.commit()
    elif driver.in_transaction:
        driver.execute("COMMIT")


@contextmanager
def traducir_errores() -> Iterator[None]:
    """The one place where driver errors become ``BaseDeDatosNoDisponible``.

    Every transaction opens through ``Database.escritura``/``lectura``, so the
    tools, resources, panel and CLI only ever see ``SoporteError``.
    """
    try:
        yield
    except ERRORES_DE_DISPONIBILIDAD as exc:
        causa = describe_db_error(exc) if isinstance(exc, DBAPIError) else f"la base de datos no responde: {exc}"
        raise BaseDeDatosNoDisponible(
            f"{causa[0].upper()}{causa[1:]}. No se hizo ningún cambio; reintente en unos segundos."
        ) from exc


def describe_db_error(exc: DBAPIError) -> str:
    """One line about a driver error, without SQL or parameters."""
    first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    return f"la base de datos no responde: {first}"
