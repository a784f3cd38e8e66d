"""``serve --workers N``: N worker processes, each with its own listening socket (SO_REUSEPORT).

Why not uvicorn's ``--workers`` (issue 13): uvicorn binds one socket and every
worker accepts from it.  Connections opened at the same instant (a load
balancer's pool, ``wrk -c32``) then mostly land on whichever worker is awake
first; measured here, one worker got most of 32 connections and served them at
100 % CPU while the other idled.  With SO_REUSEPORT each worker listens on a
socket of its own on the same address and the kernel hashes each new
connection (by its addresses and ports) to one of them: 32 connections split
roughly evenly, whoever is busy.

The parent only supervises: it holds the address (a bound, non-listening
socket, so that no other program can take the port between restarts), starts
the workers, restarts one that dies, and on SIGTERM/SIGINT stops them
gracefully (uvicorn finishes the requests in flight, our atexit hooks commit
the audit rows written behind).  Each response says which worker served it
(header ``x-soporte-trabajador``), so that the spread can be measured.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import signal
import socket
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

log = logging.getLogger(__name__)

CABECERA = b"x-soporte-trabajador"
PARADA_EXTRA_S = 5.0
# A worker that dies this soon after its start is failing to start: stop rather than loop.
VIDA_MINIMA_S = 5.0


def escucha(host: str, port: int, *, listen: bool) -> socket.socket:
    """A TCP socket bound to ``host:port`` with SO_REUSEPORT (listening if ``listen``).

    ``proto=IPPROTO_TCP``: asyncio sets TCP_NODELAY on accepted connections only then.

    Raises:
        OSError: the address is in use by a socket without SO_REUSEPORT (or another user's), or invalid.
    """
    familia = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(familia, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host.strip("[]"), port))
        if listen:
            sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def servir_trabajadores(fabrica: str, workers: int, opciones: dict[str, Any]) -> None:
    """Serve ``fabrica`` ("module:function" returning an ASGI app) in ``workers`` processes.

    ``opciones`` are uvicorn's (``host`` and ``port`` included).  Returns when
    the workers have stopped after SIGTERM/SIGINT.

    Raises:
        OSError: the address cannot be bound.
        SystemExit: a worker keeps dying at start (its error is on stderr).
    """
    guardia = escucha(opciones["host"], opciones["port"], listen=False)
    contexto = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections
    procesos: dict[int, Any] = {}
    parar: list[int] = []

    def al_recibir(signum: int, _frame: object) -> None:
        parar.append(signum)

    anteriores = {s: signal.signal(s, al_recibir) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for i in range(workers):
            procesos[i] = _arrancar(contexto, i, fabrica, opciones)
        while not parar:
            _vigilar(contexto, procesos, fabrica, opciones)
    finally:
        for s, h in anteriores.items():
            signal.signal(s, h)
        _parar(procesos.values(), opciones.get("timeout_graceful_shutdown") or 10)
        guardia.close()


def _arrancar(contexto: Any, indice: int, fabrica: str, opciones: dict[str, Any]) -> Any:
    proceso = contexto.Process(target=_trabajador, args=(indice, fabrica, opciones), name=f"soporte-trabajador-{indice}")
    proceso.start()
    proceso.inicio = time.monotonic()
    return proceso


def _vigilar(contexto: Any, procesos: dict[int, Any], fabrica: str, opciones: dict[str, Any]) -> None:
    wait([p.sentinel for p in procesos.values()], timeout=0.5)
    for i, p in list(procesos.items()):
        if p.is_alive():
            continue
        if time.monotonic() - p.inicio < VIDA_MINIMA_S:
            raise SystemExit(f"el proceso de trabajo {i} terminó al arrancar (código {p.exitcode}); vea el error arriba")
        log.error("el proceso de trabajo %d terminó (código %s); se arranca otro", i, p.exitcode)
        procesos[i] = _arrancar(contexto, i, fabrica, opciones)


def _parar(procesos: Any, gracia: float) -> None:
    vivos = [p for p in procesos if p.is_alive()]
    for p in vivos:
        p.terminate()  # SIGTERM: uvicorn's graceful shutdown
    limite = time.monotonic() + gracia + PARADA_EXTRA_S
    for p in vivos:
        p.join(max(0.0, limite - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


def _trabajador(indice: int, fabrica: str, opciones: dict[str, Any]) -> None:
    """One worker: its own SO_REUSEPORT socket, its own app, uvicorn serving it."""
    import uvicorn

    _morir_con_el_padre()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sock = escucha(opciones["host"], opciones["port"], listen=True)
    app = ConTrabajador(_importar(fabrica)(), indice)
    config = uvicorn.Config(app, **opciones)
    uvicorn.Server(config).run(sockets=[sock])


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
