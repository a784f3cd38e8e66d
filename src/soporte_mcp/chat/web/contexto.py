"""What every handler of the web chat shares: the app's state, and the checks each API call makes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from anyio.abc import TaskGroup
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from soporte_mcp.chat.web import acceso
from soporte_mcp.chat.web.almacen import Almacen, Sesion
from soporte_mcp.chat.web.turnos import Motor, TurnoWeb


@dataclass
class Web:
    """The state the handlers share."""

    almacen: Almacen
    motor: Motor
    tareas: TaskGroup
    loopback: bool
    cookie_segura: bool = False
    limitador: acceso.Limitador = field(default_factory=acceso.Limitador)
    en_curso: dict[str, TurnoWeb] = field(default_factory=dict)

    def login_requerido(self) -> bool:
        return not self.loopback or bool(self.almacen.cuentas())

    def segura(self, request: Request) -> bool:
        return self.cookie_segura or request.url.scheme == "https"


Manejador = Callable[[Request, Web, Sesion], Awaitable[Response]]


def error(estado: int, codigo: str, mensaje: str, **cabeceras: str) -> JSONResponse:
    return JSONResponse({"error": {"codigo": codigo, "mensaje": mensaje}}, status_code=estado, headers=cabeceras)


NO_EXISTE = ("conversacion_no_encontrada", "Esa conversación no existe o no es suya.")


def api(*, cambia: bool, pide_login: bool = True) -> Callable[[Manejador], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler with the checks every API call needs, in order: host, session, CSRF, login."""

    def envolver(manejador: Manejador) -> Callable[[Request], Awaitable[Response]]:
        async def atender(request: Request) -> Response:
            web: Web = request.app.state.web
            if web.loopback and not acceso.host_local(request):
                return error(421, "host_no_permitido", "Este chat solo atiende en 127.0.0.1 o localhost.")
            sesion = acceso.sesion_de(request, web.almacen)
            if sesion is None:
                return error(401, "sin_sesion", "La sesión no existe o caducó: recargue la página.")
            if cambia and not (acceso.mismo_origen(request) and acceso.csrf_valido(request, sesion)):
                return error(403, "csrf_invalido", "Petición rechazada: falta el token CSRF o no es válido. "
                                                    "Recargue la página.")
            if pide_login and web.login_requerido() and sesion.cuenta is None:
                return error(401, "login_requerido", "Inicie sesión para continuar.")
            return await manejador(request, web, sesion)

        return atender

    return envolver


async def leer_json(request: Request) -> dict[str, Any]:
    try:
        datos = await request.json()
    except ValueError:
        return {}
    return datos if isinstance(datos, dict) else {}

