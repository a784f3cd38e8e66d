"""MCP Apps views (extension io.modelcontextprotocol/ui): the customer card, the search list, the dashboard.

Three ``ui://`` HTML resources (``text/html;profile=mcp-app``) that a host renders in a
sandboxed iframe next to the answer of ``consultarSaldo``, ``buscarCliente`` and
``estadisticas``.  The documents are built from ``vistas/`` at the repository's root
(``python vistas/construir.py``) and committed here, so installing the package needs no Node.

Who sees what: mcp 2.3 stamps a tool's ``_meta.ui`` statically, for every client.  We want a
client that did not negotiate the extension to get exactly today's answers, so the binding
tool → view is added by a middleware, and only in the ``tools/list`` answer of a client that
declared the extension with our MIME type (``client_supports_apps``, both protocol eras); the
``ui://`` resources are left out of such a client's ``resources/list`` too.  Tool results are
the same for everybody: the views read the structured content every client gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from mcp.server.apps import Apps, client_supports_apps
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import BaseModel


@dataclass(frozen=True)
class Vista:
    herramienta: str
    archivo: str
    titulo: str
    descripcion: str

    @property
    def uri(self) -> str:
        return f"ui://soporte/{self.archivo}"


VISTAS = (
    Vista(
        "consultarSaldo",
        "cliente.html",
        "Ficha del cliente",
        "Datos, saldo, últimos pagos y tickets abiertos de un cliente, con botones para abrir un ticket "
        "o registrar un pago.",
    ),
    Vista(
        "buscarCliente",
        "busqueda.html",
        "Resultados de la búsqueda",
        "Lista de clientes encontrados; al elegir uno se muestra su ficha.",
    ),
    Vista(
        "estadisticas",
        "panel.html",
        "Panel de estadísticas",
        "Clientes, tickets por estado y pagos de hoy, con un gráfico.",
    ),
)
RECURSO_DE = {vista.herramienta: vista.uri for vista in VISTAS}


def html(archivo: str) -> str:
    """The built document of one view, as shipped inside the package."""
    return files(__package__).joinpath(archivo).read_text(encoding="utf-8")


def apps_con_vistas() -> Apps:
    """The Apps extension with the three views: pass it to ``MCPServer(extensions=[...])``.

    It advertises the extension in the server's capabilities and serves the ``ui://``
    resources; the tools stay registered as they are (see ``SoloConApps``).
    """
    apps = Apps()
    for vista in VISTAS:
        apps.add_html_resource(
            vista.uri,
            html(vista.archivo),
            name=vista.archivo,
            title=vista.titulo,
            description=vista.descripcion,
            prefers_border=True,
        )
    return apps


class SoloConApps:
    """Middleware: the views exist only for a client that negotiated MCP Apps.

    For such a client, ``tools/list`` gets ``_meta.ui.resourceUri`` on the three tools;
    for any other, ``resources/list`` loses the ``ui://`` resources and nothing else changes.
    """

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        resultado = await call_next(ctx)
        if ctx.method not in ("tools/list", "resources/list") or resultado is None:
            return resultado
        # What reaches a middleware is the wire form (a dict); a model is turned into it first.
        if isinstance(resultado, BaseModel):
            resultado = resultado.model_dump(by_alias=True, mode="json", exclude_none=True)
        if ctx.method == "tools/list" and client_supports_apps(ctx):
            return {**resultado, "tools": [_con_vista(t) for t in resultado.get("tools", [])]}
        if ctx.method == "resources/list" and not client_supports_apps(ctx):
            visibles = [
                r for r in resultado.get("resources", []) if not str(r.get("uri", "")).startswith("ui://")
            ]
            return {**resultado, "resources": visibles}
        return resultado


def _con_vista(herramienta: dict[str, Any]) -> dict[str, Any]:
    uri = RECURSO_DE.get(herramienta.get("name", ""))
    if uri is None:
        return herramienta
    meta = dict(herramienta.get("_meta") or {})
    meta["ui"] = {**meta.get("ui", {}), "resourceUri": uri}
    return {**herramienta, "_meta": meta}
