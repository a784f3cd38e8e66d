"""MCP Apps: the view of a tool (``_meta.ui.resourceUri``) under its card, and the tools a view may call.

The page frames the view in an iframe sandboxed to scripts only and speaks the ext-apps
host protocol with it (static/app.js); these two routes serve its HTML and forward its
``tools/call`` to the view's own server.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from soporte_mcp.chat.herramientas import Herramienta
from soporte_mcp.chat.web.almacen import Sesion
from soporte_mcp.chat.web.contexto import Web, api, error, leer_json

# An MCP App view: its own inline script and styles, nothing from the network, and always sandboxed.
# allow-forms because a sandbox without it never fires a form's submit event (the customer card's
# forms handle it in script); form-action 'none' so that no form can send anything anywhere.
CSP_VISTA = ("sandbox allow-scripts allow-forms; form-action 'none'; default-src 'none'; "
             "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
             "frame-ancestors 'self'")


def _tarjeta_con_vista(web: Web, sesion: Sesion, request: Request) -> tuple[dict[str, Any], Herramienta] | None:
    """The tool card ``{tarjeta}`` of the conversation, if it shows an MCP App view, and its tool."""
    conversacion = web.almacen.conversacion(sesion.duenio, request.path_params["id"])
    if conversacion is None:
        return None
    # The card may belong to the answer still being written (saved only when it ends).
    en_curso = web.en_curso.get(conversacion["id"])
    vista = conversacion["vista"] + (en_curso.vista if en_curso is not None else [])
    ident = request.path_params["tarjeta"]
    tarjetas = [v for v in vista if v.get("tipo") == "herramienta" and str(v.get("id")) == ident and v.get("vista")]
    ofrecidas = {h.expuesta: h for h in web.motor.caja.ofrecidas(solo_lectura=web.motor.solo_lectura)}
    if not tarjetas or tarjetas[0]["herramienta"] not in ofrecidas:
        return None
    return tarjetas[0], ofrecidas[tarjetas[0]["herramienta"]]


@api(cambia=False)
async def vista_app(request: Request, web: Web, sesion: Sesion) -> Response:
    """The HTML of a tool's MCP App view, for the sandboxed iframe under its card.

    Served with a CSP ``sandbox`` of its own, so that even opened by itself it runs in an
    opaque origin: it can never read this site's cookies or call its API as the agent.
    """
    hallada = _tarjeta_con_vista(web, sesion, request)
    html = await web.motor.caja.leer_vista(hallada[1]) if hallada is not None else None
    cabeceras = {"Content-Security-Policy": CSP_VISTA, "Cache-Control": "no-store"}
    if html is None:  # said in the frame itself (a JSON error could not be framed)
        return Response("La vista de esta herramienta no está disponible.", status_code=404,
                        media_type="text/plain; charset=utf-8", headers=cabeceras)
    return Response(html, media_type="text/html", headers=cabeceras)


@api(cambia=True)
async def herramienta_de_vista(request: Request, web: Web, sesion: Sesion) -> Response:
    """A ``tools/call`` from an MCP App view, forwarded to the view's own server: read-only tools only.

    A tool that may write is refused: it must go through the chat, where the agent approves it.
    """
    hallada = _tarjeta_con_vista(web, sesion, request)
    datos = await leer_json(request)
    if hallada is None:
        return error(404, "vista_no_disponible", "Esta herramienta no tiene una vista disponible.")
    candidatas = [h for h in web.motor.caja.ofrecidas(solo_lectura=web.motor.solo_lectura)
                  if h.servidor == hallada[1].servidor and h.nombre == datos.get("nombre")]
    argumentos = datos.get("argumentos") or {}
    if not candidatas or not isinstance(argumentos, dict):
        return error(404, "herramienta_no_encontrada", "La vista pidió una herramienta que no existe.")
    if not candidatas[0].solo_lectura:
        return error(403, "requiere_confirmacion", f"{candidatas[0].nombre} modifica datos: pídalo en el chat, "
                                                    "donde se confirma antes de ejecutarse.")
    resultado = await web.motor.caja.llamar(candidatas[0], argumentos)
    return JSONResponse(resultado.como_mcp())

