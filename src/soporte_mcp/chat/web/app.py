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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soporte_mcp.chat.web import acceso, vistas
from soporte_mcp.chat.web.almacen import TITULO_MAXIMO, Sesion
from soporte_mcp.chat.web.contexto import NO_EXISTE, Web, api, error, leer_json
from soporte_mcp.chat.web.turnos import TurnoWeb

logger = logging.getLogger(__name__)

ESTATICOS = Path(__file__).parent / "static"
TITULO_NUEVA = "Conversación nueva"
TEXTO_MAXIMO = 20_000
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
CABECERAS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
             (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]



async def pagina(request: Request) -> Response:
    web: Web = request.app.state.web
    if web.loopback and not acceso.host_local(request):
        return error(421, "host_no_permitido", "Este chat solo atiende en 127.0.0.1 o localhost.")
    return FileResponse(ESTATICOS / "index.html", headers={"Cache-Control": "no-store"})


async def yo(request: Request) -> Response:
    """Who this browser is; opens an anonymous session (for the login form's CSRF token) if it has none."""
    web: Web = request.app.state.web
    if web.loopback and not acceso.host_local(request):
        return error(421, "host_no_permitido", "Este chat solo atiende en 127.0.0.1 o localhost.")
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


@api(cambia=True, pide_login=False)
async def login(request: Request, web: Web, sesion: Sesion) -> Response:
    datos = await leer_json(request)
    nombre, clave = str(datos.get("nombre", "")).strip(), str(datos.get("clave", ""))
    direccion = request.client.host if request.client else "?"
    espera = web.limitador.espera(nombre, direccion)
    if espera > 0:
        minutos = max(1, round(espera / 60))
        return error(429, "demasiados_intentos", f"Demasiados intentos fallidos. Espere {minutos} min y vuelva "
                                                  "a intentarlo.", **{"Retry-After": str(int(espera) + 1)})
    if not (nombre and clave and await anyio.to_thread.run_sync(acceso.clave_correcta, web.almacen, nombre, clave)):
        web.limitador.fallo(nombre, direccion)
        logger.warning("login fallido de %r desde %s", nombre, direccion)
        return error(401, "credenciales_invalidas", "Usuario o contraseña incorrectos.")
    web.limitador.exito(nombre)
    web.almacen.cerrar_sesion(sesion)  # a new cookie at login: a session fixed before it is worth nothing
    token, nueva = web.almacen.abrir_sesion(nombre)
    respuesta = JSONResponse({"cuenta": nombre, "csrf": nueva.csrf})
    acceso.poner_cookie(respuesta, token, segura=web.segura(request))
    return respuesta


@api(cambia=True, pide_login=False)
async def logout(request: Request, web: Web, sesion: Sesion) -> Response:
    web.almacen.cerrar_sesion(sesion)
    respuesta = Response(status_code=204)
    respuesta.delete_cookie(acceso.COOKIE, path="/")
    return respuesta


@api(cambia=False)
async def listar(request: Request, web: Web, sesion: Sesion) -> Response:
    return JSONResponse({"conversaciones": web.almacen.conversaciones(sesion.duenio)})


@api(cambia=True)
async def crear(request: Request, web: Web, sesion: Sesion) -> Response:
    ident = web.almacen.nueva_conversacion(sesion.duenio, TITULO_NUEVA)
    return JSONResponse({"id": ident, "titulo": TITULO_NUEVA}, status_code=201)


@api(cambia=False)
async def ver(request: Request, web: Web, sesion: Sesion) -> Response:
    conversacion = web.almacen.conversacion(sesion.duenio, request.path_params["id"])
    if conversacion is None:
        return error(404, *NO_EXISTE)
    return JSONResponse({"id": conversacion["id"], "titulo": conversacion["titulo"], "vista": conversacion["vista"],
                         "en_curso": conversacion["id"] in web.en_curso})


@api(cambia=True)
async def renombrar(request: Request, web: Web, sesion: Sesion) -> Response:
    titulo = " ".join(str((await leer_json(request)).get("titulo", "")).split())
    if not titulo:
        return error(422, "titulo_vacio", "Escriba un título.")
    if not web.almacen.renombrar(sesion.duenio, request.path_params["id"], titulo):
        return error(404, *NO_EXISTE)
    return JSONResponse({"titulo": titulo[:TITULO_MAXIMO]})


@api(cambia=True)
async def borrar(request: Request, web: Web, sesion: Sesion) -> Response:
    ident = request.path_params["id"]
    if ident in web.en_curso:
        return error(409, "respuesta_en_curso", "Detenga la respuesta en curso antes de borrar la conversación.")
    if not web.almacen.borrar(sesion.duenio, ident):
        return error(404, *NO_EXISTE)
    return Response(status_code=204)


@api(cambia=True)
async def enviar(request: Request, web: Web, sesion: Sesion) -> Response:
    texto = str((await leer_json(request)).get("texto", "")).strip()
    if not texto or len(texto) > TEXTO_MAXIMO:
        return error(422, "mensaje_invalido", f"Escriba un mensaje (hasta {TEXTO_MAXIMO} caracteres).")
    conversacion = web.almacen.conversacion(sesion.duenio, request.path_params["id"])
    if conversacion is None:
        return error(404, *NO_EXISTE)
    if conversacion["id"] in web.en_curso:
        return error(409, "respuesta_en_curso", "Ya hay una respuesta en curso en esta conversación.")
    turno = web.en_curso[conversacion["id"]] = TurnoWeb(len(conversacion["vista"]))
    web.tareas.start_soon(_correr, web, sesion.duenio, conversacion, turno, texto)
    return StreamingResponse(_eventos(turno), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _correr(web: Web, duenio: str, conversacion: dict[str, Any], turno: TurnoWeb, texto: str) -> None:
    motor = web.motor.conversacion(turno, conversacion["historial"])
    desenlace = "error"
    try:
        desenlace = await turno.correr(motor, texto)
    except Exception:
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


@api(cambia=True)
async def detener(request: Request, web: Web, sesion: Sesion) -> Response:
    turno = _turno(web, sesion, request)
    if turno is None:
        return error(409, *SIN_TURNO)
    turno.detener()
    return Response(status_code=204)


@api(cambia=True)
async def confirmar(request: Request, web: Web, sesion: Sesion) -> Response:
    aprobar = (await leer_json(request)).get("aprobar")
    turno = _turno(web, sesion, request)
    if not isinstance(aprobar, bool):
        return error(422, "respuesta_invalida", "Indique aprobar: true o false.")
    if turno is None or not turno.responder_confirmacion(aprobar):
        return error(409, *SIN_TURNO)
    return Response(status_code=204)


@api(cambia=True)
async def formulario(request: Request, web: Web, sesion: Sesion) -> Response:
    datos = await leer_json(request)
    turno = _turno(web, sesion, request)
    contenido = datos.get("contenido")
    contenido = {k: v for k, v in contenido.items() if _valor_simple(v)} if isinstance(contenido, dict) else None
    if turno is None or not turno.responder_formulario(str(datos.get("id", "")), str(datos.get("accion", "")),
                                                       contenido):
        return error(409, *SIN_TURNO)
    return Response(status_code=204)



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
        Route(f"{conv}/vistas/{{tarjeta}}", vistas.vista_app, methods=["GET"]),
        Route(f"{conv}/vistas/{{tarjeta}}/herramienta", vistas.herramienta_de_vista, methods=["POST"]),
        Mount("/static", StaticFiles(directory=ESTATICOS), name="static"),
    ]
    app = Starlette(routes=rutas)
    app.state.web = web
    return _Cabeceras(app)
