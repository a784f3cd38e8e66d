"""The web chat's Starlette app: the page, its static files, and the JSON API with the answer streamed as SSE.

    GET    /                                   the page (static; it asks /api/yo who it is)
    GET    /api/yo                             the session (created here), its CSRF token, model and tools
    POST   /api/login, /api/logout             open or close an operator's session
    GET    /api/conversaciones                 this session's conversations; POST: a new one
    GET    /api/conversaciones/{id}            one, as the page draws it; PATCH: rename; DELETE
    POST   /api/conversaciones/{id}/mensajes   ask; the answer comes back as server-sent events
    POST   /api/conversaciones/{id}/detener    stop the answer in progress
    POST   /api/conversaciones/{id}/confirmacion    Aprobar / Rechazar the tool call waiting
    POST   /api/conversaciones/{id}/formulario      answer a server's form (elicitation)
    GET    /api/conversaciones/{id}/vistas/{tarjeta}   the MCP App view of a tool card (sandboxed HTML)
    POST   /api/conversaciones/{id}/vistas/{tarjeta}/herramienta   a view's tools/call (read-only tools)

Every POST, PATCH and DELETE needs the session's CSRF token (see acceso.py).  Turns run
in the server's task group, not in the request: the stream only reads their events, and
a page that goes away stops its answer as the Detener button would.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskGroup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soporte_mcp.chat.herramientas import Herramienta
from soporte_mcp.chat.web import acceso
from soporte_mcp.chat.web.almacen import TITULO_MAXIMO, Almacen, Sesion
from soporte_mcp.chat.web.turnos import Motor, TurnoWeb

logger = logging.getLogger(__name__)

ESTATICOS = Path(__file__).parent / "static"
TITULO_NUEVA = "Conversación nueva"
TEXTO_MAXIMO = 20_000
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# An MCP App view: its own inline script and styles, nothing from the network, and always sandboxed.
CSP_VISTA = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
             "img-src data:; font-src data:; frame-ancestors 'self'")
CABECERAS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
             (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]


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


def _error(estado: int, codigo: str, mensaje: str, **cabeceras: str) -> JSONResponse:
    return JSONResponse({"error": {"codigo": codigo, "mensaje": mensaje}}, status_code=estado, headers=cabeceras)


NO_EXISTE = ("conversacion_no_encontrada", "Esa conversación no existe o no es suya.")


def _api(*, cambia: bool, pide_login: bool = True) -> Callable[[Manejador], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler with the checks every API call needs, in order: host, session, CSRF, login."""

    def envolver(manejador: Manejador) -> Callable[[Request], Awaitable[Response]]:
        async def atender(request: Request) -> Response:
            web: Web = request.app.state.web
            if web.loopback and not acceso.host_local(request):
                return _error(421, "host_no_permitido", "Este chat solo atiende en 127.0.0.1 o localhost.")
            sesion = acceso.sesion_de(request, web.almacen)
            if sesion is None:
                return _error(401, "sin_sesion", "La sesión no existe o caducó: recargue la página.")
            if cambia and not (acceso.mismo_origen(request) and acceso.csrf_valido(request, sesion)):
                return _error(403, "csrf_invalido", "Petición rechazada: falta el token CSRF o no es válido. "
                                                    "Recargue la página.")
            if pide_login and web.login_requerido() and sesion.cuenta is None:
                return _error(401, "login_requerido", "Inicie sesión para continuar.")
            return await manejador(request, web, sesion)

        return atender

    return envolver


async def _json(request: Request) -> dict[str, Any]:
    try:
        datos = await request.json()
    except ValueError:
        return {}
    return datos if isinstance(datos, dict) else {}


async def pagina(request: Request) -> Response:
    web: Web = request.app.state.web
    if web.loopback and not acceso.host_local(request):
        return _error(421, "host_no_permitido", "Este chat solo atiende en 127.0.0.1 o localhost.")
    return FileResponse(ESTATICOS / "index.html", headers={"Cache-Control": "no-store"})


async def yo(request: Request) -> Response:
    """Who this browser is; opens an anonymous session (for the login form's CSRF token) if it has none."""
    web: Web = request.app.state.web
    if web.loopback and not acceso.host_local(request):
        return _error(421, "host_no_permitido", "Este chat solo atiende en 127.0.0.1 o localhost.")
    sesion = acceso.sesion_de(request, web.almacen)
    token = None
    if sesion is None:
        token, sesion = web.almacen.abrir_sesion(None)
    dentro = sesion.cuenta is not None or not web.login_requerido()
    datos: dict[str, Any] = {"cuenta": sesion.cuenta, "csrf": sesion.csrf, "login_requerido": not dentro}
    if dentro:
        datos |= {"modelo": web.motor.modelo, "herramientas": [
            {"nombre": h.expuesta, "servidor": h.servidor, "escribe": not h.solo_lectura}
            for h in web.motor.caja.ofrecidas(solo_lectura=web.motor.solo_lectura)]}
    respuesta = JSONResponse(datos, headers={"Cache-Control": "no-store"})
    if token is not None:
        acceso.poner_cookie(respuesta, token, segura=web.segura(request))
    return respuesta


@_api(cambia=True, pide_login=False)
async def login(request: Request, web: Web, sesion: Sesion) -> Response:
    datos = await _json(request)
    nombre, clave = str(datos.get("nombre", "")).strip(), str(datos.get("clave", ""))
    direccion = request.client.host if request.client else "?"
    espera = web.limitador.espera(nombre, direccion)
    if espera > 0:
        minutos = max(1, round(espera / 60))
        return _error(429, "demasiados_intentos", f"Demasiados intentos fallidos. Espere {minutos} min y vuelva "
                                                  "a intentarlo.", **{"Retry-After": str(int(espera) + 1)})
    if not (nombre and clave and await anyio.to_thread.run_sync(acceso.clave_correcta, web.almacen, nombre, clave)):
        web.limitador.fallo(nombre, direccion)
        logger.warning("login fallido de %r desde %s", nombre, direccion)
        return _error(401, "credenciales_invalidas", "Usuario o contraseña incorrectos.")
    web.limitador.exito(nombre)
    web.almacen.cerrar_sesion(sesion)  # a new cookie at login: a session fixed before it is worth nothing
    token, nueva = web.almacen.abrir_sesion(nombre)
    respuesta = JSONResponse({"cuenta": nombre, "csrf": nueva.csrf})
    acceso.poner_cookie(respuesta, token, segura=web.segura(request))
    return respuesta


@_api(cambia=True, pide_login=False)
async def logout(request: Request, web: Web, sesion: Sesion) -> Response:  # noqa: ARG001
    web.almacen.cerrar_sesion(sesion)
    respuesta = Response(status_code=204)
    respuesta.delete_cookie(acceso.COOKIE, path="/")
    return respuesta


@_api(cambia=False)
async def listar(request: Request, web: Web, sesion: Sesion) -> Response:  # noqa: ARG001
    return JSONResponse({"conversaciones": web.almacen.conversaciones(sesion.duenio)})


@_api(cambia=True)
async def crear(request: Request, web: Web, sesion: Sesion) -> Response:  # noqa: ARG001
    ident = web.almacen.nueva_conversacion(sesion.duenio, TITULO_NUEVA)
    return JSONResponse({"id": ident, "titulo": TITULO_NUEVA}, status_code=201)


@_api(cambia=False)
async def ver(request: Request, web: Web, sesion: Sesion) -> Response:
    conversacion = web.almacen.conversacion(sesion.duenio, request.path_params["id"])
    if conversacion is None:
        return _error(404, *NO_EXISTE)
    return JSONResponse({"id": conversacion["id"], "titulo": conversacion["titulo"], "vista": conversacion["vista"],
                         "en_curso": conversacion["id"] in web.en_curso})


@_api(cambia=True)
async def renombrar(request: Request, web: Web, sesion: Sesion) -> Response:
    titulo = " ".join(str((await _json(request)).get("titulo", "")).split())
    if not titulo:
        return _error(422, "titulo_vacio", "Escriba un título.")
    if not web.almacen.renombrar(sesion.duenio, request.path_params["id"], titulo):
        return _error(404, *NO_EXISTE)
    return JSONResponse({"titulo": titulo[:TITULO_MAXIMO]})


@_api(cambia=True)
async def borrar(request: Request, web: Web, sesion: Sesion) -> Response:
    ident = request.path_params["id"]
    if ident in web.en_curso:
        return _error(409, "respuesta_en_curso", "Detenga la respuesta en curso antes de borrar la conversación.")
    if not web.almacen.borrar(sesion.duenio, ident):
        return _error(404, *NO_EXISTE)
    return Response(status_code=204)


@_api(cambia=True)
async def enviar(request: Request, web: Web, sesion: Sesion) -> Response:
    texto = str((await _json(request)).get("texto", "")).strip()
    if not texto or len(texto) > TEXTO_MAXIMO:
        return _error(422, "mensaje_invalido", f"Escriba un mensaje (hasta {TEXTO_MAXIMO} caracteres).")
    conversacion = web.almacen.conversacion(sesion.duenio, request.path_params["id"])
    if conversacion is None:
        return _error(404, *NO_EXISTE)
    if conversacion["id"] in web.en_curso:
        return _error(409, "respuesta_en_curso", "Ya hay una respuesta en curso en esta conversación.")
    turno = web.en_curso[conversacion["id"]] = TurnoWeb(len(conversacion["vista"]))
    web.tareas.start_soon(_correr, web, sesion.duenio, conversacion, turno, texto)
    return StreamingResponse(_eventos(turno), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _correr(web: Web, duenio: str, conversacion: dict[str, Any], turno: TurnoWeb, texto: str) -> None:
    motor = web.motor.conversacion(turno, conversacion["historial"])
    desenlace = "error"
    try:
        desenlace = await turno.correr(motor, texto)
    except Exception:  # noqa: BLE001  (a bug in one turn must not bring down every session's server)
        logger.exception("la respuesta falló")
        turno.nota("error", "Error interno del chat; la respuesta se interrumpió. Vea el registro del servidor.",
                    codigo="interno")
    finally:
        titulo = conversacion["titulo"]
        if titulo == TITULO_NUEVA:
            titulo = " ".join(texto.split())[:60]
        try:
            web.almacen.guardar(duenio, conversacion["id"], historial=motor.mensajes,
                                vista=conversacion["vista"] + turno.vista, titulo=titulo)
        finally:
            web.en_curso.pop(conversacion["id"], None)
            turno.terminar(desenlace, titulo)


async def _eventos(turno: TurnoWeb) -> AsyncIterator[str]:
    try:
        async with turno.recepcion:
            async for evento in turno.recepcion:
                yield f"data: {json.dumps(evento, ensure_ascii=False, default=str)}\n\n"
    finally:
        if not turno.terminado:
            turno.detener()  # the page went away: as if it had pressed Detener


def _turno(web: Web, sesion: Sesion, request: Request) -> TurnoWeb | None:
    ident = request.path_params["id"]
    if web.almacen.conversacion(sesion.duenio, ident) is None:
        return None
    return web.en_curso.get(ident)


SIN_TURNO = ("nada_pendiente", "No hay nada pendiente en esta conversación.")


@_api(cambia=True)
async def detener(request: Request, web: Web, sesion: Sesion) -> Response:
    turno = _turno(web, sesion, request)
    if turno is None:
        return _error(409, *SIN_TURNO)
    turno.detener()
    return Response(status_code=204)


@_api(cambia=True)
async def confirmar(request: Request, web: Web, sesion: Sesion) -> Response:
    aprobar = (await _json(request)).get("aprobar")
    turno = _turno(web, sesion, request)
    if not isinstance(aprobar, bool):
        return _error(422, "respuesta_invalida", "Indique aprobar: true o false.")
    if turno is None or not turno.responder_confirmacion(aprobar):
        return _error(409, *SIN_TURNO)
    return Response(status_code=204)


@_api(cambia=True)
async def formulario(request: Request, web: Web, sesion: Sesion) -> Response:
    datos = await _json(request)
    turno = _turno(web, sesion, request)
    contenido = datos.get("contenido")
    contenido = {k: v for k, v in contenido.items() if _valor_simple(v)} if isinstance(contenido, dict) else None
    if turno is None or not turno.responder_formulario(str(datos.get("id", "")), str(datos.get("accion", "")),
                                                       contenido):
        return _error(409, *SIN_TURNO)
    return Response(status_code=204)


def _tarjeta_con_vista(web: Web, sesion: Sesion, request: Request) -> tuple[dict[str, Any], Herramienta] | None:
    """The tool card ``{tarjeta}`` of the conversation, if it shows an MCP App view, and its tool."""
    conversacion = web.almacen.conversacion(sesion.duenio, request.path_params["id"])
    ident = request.path_params["tarjeta"]
    tarjetas = [v for v in (conversacion or {}).get("vista", [])
                if v.get("tipo") == "herramienta" and str(v.get("id")) == ident and v.get("vista")]
    ofrecidas = {h.expuesta: h for h in web.motor.caja.ofrecidas(solo_lectura=web.motor.solo_lectura)}
    if not tarjetas or tarjetas[0]["herramienta"] not in ofrecidas:
        return None
    return tarjetas[0], ofrecidas[tarjetas[0]["herramienta"]]


@_api(cambia=False)
async def vista_app(request: Request, web: Web, sesion: Sesion) -> Response:
    """The HTML of a tool's MCP App view, for the sandboxed iframe under its card.

    Served with a CSP ``sandbox`` of its own, so that even opened by itself it runs in an
    opaque origin: it can never read this site's cookies or call its API as the agent.
    """
    hallada = _tarjeta_con_vista(web, sesion, request)
    html = await web.motor.caja.leer_vista(hallada[1]) if hallada is not None else None
    if html is None:
        return _error(404, "vista_no_disponible", "Esta herramienta no tiene una vista disponible.")
    return Response(html, media_type="text/html", headers={"Content-Security-Policy": CSP_VISTA,
                                                           "Cache-Control": "no-store"})


@_api(cambia=True)
async def herramienta_de_vista(request: Request, web: Web, sesion: Sesion) -> Response:
    """A ``tools/call`` from an MCP App view, forwarded to the view's own server: read-only tools only.

    A tool that may write is refused: it must go through the chat, where the agent approves it.
    """
    hallada = _tarjeta_con_vista(web, sesion, request)
    datos = await _json(request)
    if hallada is None:
        return _error(404, "vista_no_disponible", "Esta herramienta no tiene una vista disponible.")
    candidatas = [h for h in web.motor.caja.ofrecidas(solo_lectura=web.motor.solo_lectura)
                  if h.servidor == hallada[1].servidor and h.nombre == datos.get("nombre")]
    argumentos = datos.get("argumentos") or {}
    if not candidatas or not isinstance(argumentos, dict):
        return _error(404, "herramienta_no_encontrada", "La vista pidió una herramienta que no existe.")
    if not candidatas[0].solo_lectura:
        return _error(403, "requiere_confirmacion", f"{candidatas[0].nombre} modifica datos: pídalo en el chat, "
                                                    "donde se confirma antes de ejecutarse.")
    resultado = await web.motor.caja.llamar(candidatas[0], argumentos)
    return JSONResponse(resultado.como_mcp())


def _valor_simple(valor: object) -> bool:
    """What an elicitation answer may hold: a string, number, boolean, or a list of strings."""
    if isinstance(valor, list):
        return all(isinstance(v, str) for v in valor)
    return isinstance(valor, str | int | float | bool)


class _Cabeceras:
    """Security headers on every response (the CSP forbids inline script: data can never run)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def enviar(mensaje: Message) -> None:
            if mensaje["type"] == "http.response.start":
                propias = {nombre.lower() for nombre, _ in mensaje.get("headers", [])}
                # A view brings its own CSP (ours would block its script) and must be framed by the page.
                vista = b"content-security-policy" in propias
                mensaje["headers"] = [*mensaje.get("headers", []), *(
                    (n, v) for n, v in CABECERAS if n not in propias and not (vista and n == b"x-frame-options"))]
            await send(mensaje)

        await self.app(scope, receive, enviar if scope["type"] == "http" else send)


def crear_app(web: Web) -> ASGIApp:
    conv = "/api/conversaciones/{id}"
    rutas = [
        Route("/", pagina), Route("/api/yo", yo),
        Route("/api/login", login, methods=["POST"]), Route("/api/logout", logout, methods=["POST"]),
        Route("/api/conversaciones", listar, methods=["GET"]), Route("/api/conversaciones", crear, methods=["POST"]),
        Route(conv, ver, methods=["GET"]), Route(conv, renombrar, methods=["PATCH"]),
        Route(conv, borrar, methods=["DELETE"]), Route(f"{conv}/mensajes", enviar, methods=["POST"]),
        Route(f"{conv}/detener", detener, methods=["POST"]), Route(f"{conv}/confirmacion", confirmar, methods=["POST"]),
        Route(f"{conv}/formulario", formulario, methods=["POST"]),
        Route(f"{conv}/vistas/{{tarjeta}}", vista_app, methods=["GET"]),
        Route(f"{conv}/vistas/{{tarjeta}}/herramienta", herramienta_de_vista, methods=["POST"]),
        Mount("/static", StaticFiles(directory=ESTATICOS), name="static"),
    ]
    app = Starlette(routes=rutas)
    app.state.web = web
    return _Cabeceras(app)
