"""``serve --workers N``: N worker processes fed connections round-robin by their supervisor.

Why not uvicorn's ``--workers`` (issue 13): uvicorn binds one socket and every
worker accepts from it.  Connections opened at the same instant (a load
balancer's pool, ``wrk -c32``) then mostly land on whichever worker is awake
first; measured here, one worker got most of 32 connections and served them at
100 % CPU while the other idled.  A socket per worker with SO_REUSEPORT
spreads them by a hash of their ports: better, but measured over 40 bursts of 32
connections, 6 split worse than 35/65 (one 27/5).  So the supervisor accepts
every connection itself and hands it to the workers in turn (the descriptor
passes over a Unix socket, SCM_RIGHTS): 32 connections are 16 and 16.  It costs
the supervisor one accept and one sendmsg per connection, not per request
(clients keep their connections alive).

The supervisor also restarts a worker that dies and, on SIGTERM/SIGINT, stops
them gracefully (uvicorn finishes the requests in flight, our atexit hooks commit
the audit rows written behind).  Each response says which worker served it
(header ``x-soporte-trabajador``), so that the spread can be measured.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import multiprocessing
import signal
import socket
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.reduction import recv_handle, send_handle
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

CABECERA = b"x-soporte-trabajador"
PARADA_EXTRA_S = 5.0
# A worker that dies this soon after its start is failing to start: stop rather than loop.
VIDA_MINIMA_S = 5.0
VIGILANCIA_S = 0.5


def escucha(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``proto=IPPROTO_TCP``, as asyncio's own).

    Raises:
        OSError: the address is in use or invalid.
    """
    familia = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(familia, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


class Trabajador:
    """One worker process and the channel its connections go through."""

    def __init__(self, contexto: Any, indice: int, fabrica: str, opciones: dict[str, Any]) -> None:
        self.canal, extremo = contexto.Pipe()  # a Unix socket pair: it can carry descriptors
        self.proceso = contexto.Process(
            target=_trabajador, args=(indice, fabrica, opciones, extremo), name=f"soporte-trabajador-{indice}"
        )
        self.proceso.start()
        extremo.close()
        self.inicio = time.monotonic()

    def entregar(self, conexion: socket.socket) -> bool:
        """Pass ``conexion`` to this worker (False if it is gone)."""
        try:
            send_handle(self.canal, conexion.fileno(), self.proceso.pid)
        except OSError:
            return False
        return True


def servir_trabajadores(fabrica: str, workers: int, opciones: dict[str, Any]) -> None:
    """Serve ``fabrica`` ("module:function" returning an ASGI app) in ``workers`` processes.

    ``opciones`` are uvicorn's (``host`` and ``port`` included).  Returns when
    the workers have stopped after SIGTERM/SIGINT.

    Raises:
        OSError: the address cannot be bound.
        SystemExit: a worker keeps dying at start (its error is on stderr).
    """
    sock = escucha(opciones["host"], opciones["port"])
    sock.settimeout(VIGILANCIA_S)
    contexto = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections
    parar: list[int] = []

    def al_recibir(signum: int, _frame: object) -> None:
        parar.append(signum)

    anteriores = {s: signal.signal(s, al_recibir) for s in (signal.SIGTERM, signal.SIGINT)}
    trabajadores = [Trabajador(contexto, i, fabrica, opciones) for i in range(workers)]
    try:
        _repartir(sock, trabajadores, parar, contexto, fabrica, opciones)
    finally:
        for s, h in anteriores.items():
            signal.signal(s, h)
        sock.close()
        _parar([t.proceso for t in trabajadores], opciones.get("timeout_graceful_shutdown") or 10)


def _repartir(sock: socket.socket, trabajadores: list[Trabajador], parar: list[int], *arranque: Any) -> None:
    """Accept connections and hand them to the workers in turn, until a signal says stop."""
    siguiente = 0
    vigilado = time.monotonic()
    while not parar:
        try:
            conexion, _ = sock.accept()
        except TimeoutError:
            conexion = None
        except InterruptedError:
            continue
        if conexion is not None:
            with conexion:
                conexion.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for _ in range(len(trabajadores)):
                    t = trabajadores[siguiente]
                    siguiente = (siguiente + 1) % len(trabajadores)
                    if t.entregar(conexion):
                        break
        if conexion is None or time.monotonic() - vigilado > VIGILANCIA_S:
            _vigilar(trabajadores, *arranque)
            vigilado = time.monotonic()


def _vigilar(trabajadores: list[Trabajador], contexto: Any, fabrica: str, opciones: dict[str, Any]) -> None:
    for i, t in enumerate(trabajadores):
        if t.proceso.is_alive():
            continue
        if time.monotonic() - t.inicio < VIDA_MINIMA_S:
            raise SystemExit(f"el proceso de trabajo {i} terminó al arrancar (código {t.proceso.exitcode}); "
                             "vea el error arriba")
        log.error("el proceso de trabajo %d terminó (código %s); se arranca otro", i, t.proceso.exitcode)
        t.canal.close()
        trabajadores[i] = Trabajador(contexto, i, fabrica, opciones)


def _parar(procesos: list[Any], gracia: float) -> None:
    vivos = [p for p in procesos if p.is_alive()]
    for p in vivos:
        p.terminate()  # SIGTERM: uvicorn's graceful shutdown
    limite = time.monotonic() + gracia + PARADA_EXTRA_S
    for p in vivos:
        p.join(max(0.0, limite - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


def _trabajador(indice: int, fabrica: str, opciones: dict[str, Any], canal: Any) -> None:
    """One worker: its own app, uvicorn serving the connections that arrive through ``canal``."""
    _morir_con_el_padre()  # logging: the app factory configures it (soporte_mcp.observabilidad)
    app = ConTrabajador(_importar(fabrica)(), indice)
    ServidorAlimentado(uvicorn.Config(app, **opciones), canal).run(sockets=[])


class ServidorAlimentado(uvicorn.Server):
    """uvicorn's server without a listening socket: its connections come from the supervisor."""

    def __init__(self, config: uvicorn.Config, canal: Any) -> None:
        super().__init__(config)
        self.canal = canal
        self._protocolo: Callable[[], asyncio.Protocol] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])
        loop = asyncio.get_running_loop()
        config = self.config

        def protocolo() -> asyncio.Protocol:
            # What uvicorn's startup builds for its own listening sockets.
            return config.http_protocol_class(
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop
            )

        self._protocolo = protocolo
        loop.add_reader(self.canal.fileno(), self._recibir)

    def _recibir(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            fd = recv_handle(self.canal)
        except (EOFError, OSError):  # the supervisor is gone: stop like on SIGTERM
            loop.remove_reader(self.canal.fileno())
            self.should_exit = True
            return
        loop.create_task(self._conectar(socket.socket(fileno=fd)))

    async def _conectar(self, sock: socket.socket) -> None:
        try:
            await asyncio.get_running_loop().connect_accepted_socket(self._protocolo, sock)
        except OSError:
            sock.close()  # the client left before we got to it

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        with suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.canal.fileno())
        await super().shutdown(sockets=sockets)


def _importar(fabrica: str) -> Callable[[], Any]:
    modulo, _, nombre = fabrica.partition(":")
    return getattr(importlib.import_module(modulo), nombre)


def _morir_con_el_padre() -> None:
    """Ask Linux to SIGTERM this worker if the supervisor dies (SIGKILL included); elsewhere, nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:
        pass  # no libc by that name: the worker then outlives a killed supervisor, as under uvicorn


class ConTrabajador:
    """ASGI wrapper: every HTTP response carries the number of the worker that served it."""

    def __init__(self, app: Any, indice: int) -> None:
        self.app = app
        self.valor = str(indice).encode()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def enviar(mensaje: dict) -> None:
            if mensaje["type"] == "http.response.start":
                mensaje["headers"] = [*mensaje.get("headers", ()), (CABECERA, self.valor)]
            await send(mensaje)

        await self.app(scope, receive, enviar)
