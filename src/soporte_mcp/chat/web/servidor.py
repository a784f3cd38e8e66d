"""``soporte-chat web``: open the model client and the MCP sessions once, then serve the page with uvicorn.

The sessions are entered and left by the task that serves (as in the terminal chat), and
the turns run in a task group beside uvicorn, so that a stopped or failed request never
leaves a tool call half reported.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import anyio
import uvicorn

from soporte_mcp.chat import servidores as srv
from soporte_mcp.chat.formulario import Formularios, a_quien_llama
from soporte_mcp.chat.modelo import cliente_openai
from soporte_mcp.chat.web.almacen import Almacen
from soporte_mcp.chat.web.app import Web, crear_app
from soporte_mcp.chat.web.turnos import Motor
from soporte_mcp.errors import ConfiguracionInvalida, SoporteError
from soporte_mcp.red import es_loopback

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AjustesWeb:
    """Everything ``soporte-chat web`` needs, decided before anything starts."""

    host: str
    port: int
    carpeta: Path
    cookie_segura: bool
    modelo: str
    base_url: str | None
    clave: str
    servidores: list[srv.Servidor]
    solo_lectura: bool
    max_rondas: int
    timeout: float
    timeout_herramientas: float
    reintentos: int
    espera_base: float


def comprobar_acceso(host: str, almacen: Almacen) -> None:
    """Refuse to listen beyond loopback without operator accounts (anyone could use the tools).

    Raises:
        ConfiguracionInvalida: ``host`` is not loopback and there is no account.
    """
    if not es_loopback(host) and not almacen.cuentas():
        raise ConfiguracionInvalida(
            f"--host {host} no es local y no hay cuentas de operador: cualquiera podría usar las herramientas. "
            "Cree una con `soporte-chat web cuenta crear NOMBRE`, o escuche en 127.0.0.1."
        )


async def servir(a: AjustesWeb, *, al_arrancar: Callable[[uvicorn.Server], None] | None = None) -> None:
    """Serve until stopped (SIGINT/SIGTERM, or ``server.should_exit``).  Raises SoporteError."""
    almacen = Almacen(a.carpeta)
    try:
        comprobar_acceso(a.host, almacen)
        async with AsyncExitStack() as pila:
            try:
                await _servir(a, almacen, pila, al_arrancar)
            except SoporteError as exc:
                fallo = exc  # re-raised outside the SDK's task groups, unwrapped (as in the terminal chat)
            else:
                return
        raise fallo
    finally:
        almacen.cerrar()


async def _servir(a: AjustesWeb, almacen: Almacen, pila: AsyncExitStack,
                  al_arrancar: Callable[[uvicorn.Server], None] | None) -> None:
    cliente = await pila.enter_async_context(cliente_openai(clave=a.clave, base_url=a.base_url, timeout=a.timeout))
    # The servers' forms go to the page whose call asked for them; the page shows MCP Apps views.
    formularios = Formularios(responder=a_quien_llama)
    caja = await srv.conectar(a.servidores, pila, timeout=a.timeout_herramientas, formularios=formularios, apps=True)
    motor = Motor(cliente, caja, a.modelo, a.solo_lectura, a.max_rondas, a.reintentos, a.espera_base)
    async with anyio.create_task_group() as tareas:
        web = Web(almacen, motor, tareas, loopback=es_loopback(a.host), cookie_segura=a.cookie_segura)
        config = uvicorn.Config(crear_app(web), host=a.host, port=a.port, log_level="warning", lifespan="off",
                                timeout_graceful_shutdown=5)
        servidor = uvicorn.Server(config)
        if al_arrancar is not None:
            al_arrancar(servidor)
        print(f"soporte-chat web en http://{a.host}:{a.port}/ · modelo {a.modelo} · "
              f"{len(caja.ofrecidas(solo_lectura=a.solo_lectura))} herramientas · Ctrl-C para salir",
              file=sys.stderr, flush=True)
        await servidor.serve()
        tareas.cancel_scope.cancel()
