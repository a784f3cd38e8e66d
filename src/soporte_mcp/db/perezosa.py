"""A database the server opens after it has answered: once, on first use or in the background.

Why (issue 13): an MCP host spawns a stdio server and waits for ``initialize``
and ``tools/list`` before it calls anything. Opening the database means
importing SQLAlchemy (and Alembic on a new or old schema) and checking the
schema, which used to cost more than the reference server's whole cold start.
So ``serve`` over stdio answers the handshake with the database still closed,
and it is opened:

- in a daemon thread that the server starts once it has answered the first
  ``tools/list`` (``en_segundo_plano``), so that the host's first call usually
  finds it open. The thread waits ``ESPERA_TRAS_LISTA_S`` first: started at
  once, the open (SQLAlchemy's import holds the GIL) delayed that very answer
  by ~4 ms (7.5 against 3.3 ms, measured) and competed with the host reading it;
  a host calls a tool seconds later, when a person has asked for something;
- or by the first call that needs it, if that comes sooner: the call waits, off
  the event loop, for the open in flight rather than starting a second one.

A failed open is logged at ERROR (the Spanish reason) and not remembered: the
calls that met it are refused with ``BaseDeDatosNoDisponible`` (retryable) and
the next use tries again, so that a cause fixed meanwhile (a folder created, a
database server started, ``db upgrade`` run) needs no restart.

Over HTTP the database is opened before listening (its start-up checks stop a
bad start with one line); the app holds it through ``BasePerezosa.abierta``.

This module imports no SQLAlchemy: it is on the stdio server's start-up path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

import anyio.to_thread

from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.perezoso import importar_pendientes

if TYPE_CHECKING:
    from soporte_mcp.config import Settings
    from soporte_mcp.db.engine import Database

log = logging.getLogger(__name__)

# How long a clean shutdown waits for an open in flight, so that the engine it makes is disposed too.
ESPERA_AL_CERRAR_S = 15.0
# How long after the first tools/list the background open starts (see the module docstring).
ESPERA_TRAS_LISTA_S = 0.1


class BasePerezosa:
    """The server's database, opened by ``abrir`` once, thread-safely, the first time it is needed."""

    def __init__(self, abrir: Callable[[], Database]) -> None:
        self._abrir = abrir
        self._db: Database | None = None
        self._intento: Future[Database] | None = None  # the open in flight, shared by whoever waits for it
        self._cerrojo = threading.Lock()
        self._en_segundo_plano = False
        self._cerrada = False
        self._cerrando = threading.Event()  # wakes a background open still waiting to start

    @classmethod
    def abierta(cls, db: Database) -> BasePerezosa:
        """One already open (HTTP, the tests): nothing left to open; its owner disposes it."""
        base = cls(lambda: db)
        base._db = db
        return base

    @property
    def actual(self) -> Database | None:
        """The database if it is open, without opening it."""
        return self._db

    async def obtener_async(self) -> Database:
        """The database, opened first if need be, in a worker thread (an open takes a lock and does I/O).

        Raises:
            BaseDeDatosNoDisponible: it cannot be opened now; the message says why.
        """
        db = self._db
        if db is not None:
            return db
        return await anyio.to_thread.run_sync(self.obtener)

    def obtener(self) -> Database:
        """The database, opened first if need be; blocks while another thread opens it.

        Raises:
            BaseDeDatosNoDisponible: it cannot be opened now; the message says why.
        """
        db = self._db
        if db is not None:
            return db
        with self._cerrojo:
            if self._db is not None:
                return self._db
            if self._cerrada:
                raise BaseDeDatosNoDisponible("El servidor se está cerrando; reintente cuando vuelva a arrancar.")
            intento, propio = self._intento, self._intento is None
            if intento is None:
                intento = self._intento = Future()
        if propio:
            self._intentar(intento)
        return intento.result()

    def _intentar(self, intento: Future[Database]) -> None:
        try:
            db = self._abrir()
        except BaseException as exc:
            with self._cerrojo:
                self._intento = None  # not remembered: the next use tries again
            intento.set_exception(_motivo(exc))
            if not isinstance(exc, Exception):
                raise
            return
        with self._cerrojo:
            self._db, self._intento = db, None
        intento.set_result(db)

    def en_segundo_plano(self, espera: float = ESPERA_TRAS_LISTA_S, *, antes: Callable[[], None] | None = None) -> None:
        """Open it in a daemon thread, ``espera`` seconds from now, the first time this is called (later
        calls do nothing); ``antes`` runs first in that thread (the server builds its tools there). A use
        in between opens it itself; closing first cancels both."""
        if self._en_segundo_plano or self._db is not None:  # every tools/list passes here: no lock for nothing
            return
        with self._cerrojo:
            if self._en_segundo_plano or self._db is not None or self._cerrada:
                return
            self._en_segundo_plano = True
        hilo = threading.Thread(target=self._abrir_en_segundo_plano, args=(espera, antes), name="abrir-base")
        hilo.daemon = True  # never keeps the process alive: closing cancels a wait, and an open is waited for
        hilo.start()

    def _abrir_en_segundo_plano(self, espera: float, antes: Callable[[], None] | None) -> None:
        if self._cerrando.wait(espera):
            return
        if antes is not None:
            try:
                antes()
            except Exception:  # a bug: the first call meets it again, and says so
                log.exception("no se pudo preparar el servidor en segundo plano")
        try:
            self.obtener()
        except BaseDeDatosNoDisponible:
            return  # logged by the attempt; the next call retries
        # The services the tools import on first use, imported now, so that the first call finds them ready.
        importar_pendientes()

    def cerrar(self) -> None:
        """Dispose the database if it was opened (committing the reads' audit rows written behind).

        An open in flight is waited for (up to ``ESPERA_AL_CERRAR_S``) and disposed too.
        """
        with self._cerrojo:
            self._cerrada = True
            intento = self._intento
        self._cerrando.set()
        if intento is not None:
            try:
                intento.result(timeout=ESPERA_AL_CERRAR_S)
            except Exception:  # failed (already logged) or still hanging: nothing of it to dispose here
                pass
        with self._cerrojo:
            db, self._db = self._db, None
        if db is not None:
            db.dispose()


def para_servir(settings: Settings) -> BasePerezosa:
    """The configured database as ``serve`` opens it (``db.apertura.abrir_para_servir``), not opened yet."""

    def abrir() -> Database:
        from soporte_mcp.db.apertura import abrir_para_servir

        return abrir_para_servir(settings)

    return BasePerezosa(abrir)


def _motivo(exc: BaseException) -> BaseException:
    """What the calls that waited for a failed open are told; the reason goes to the log (ERROR) too."""
    if isinstance(exc, BaseDeDatosNoDisponible):
        log.error("no se pudo abrir la base de datos: %s", exc.mensaje)
        return exc
    if not isinstance(exc, Exception):
        return exc
    # A bug or a failure nobody translated: the details stay in the log, the calls get the refusal.
    log.error("no se pudo abrir la base de datos", exc_info=exc)
    error = BaseDeDatosNoDisponible(
        f"No se pudo abrir la base de datos ({type(exc).__name__}); el registro del servidor tiene el detalle. "
        "Reintente en unos segundos."
    )
    error.__cause__ = exc
    return error
