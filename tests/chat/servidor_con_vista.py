"""An MCP server with an MCP App: a tool whose ``_meta.ui.resourceUri`` points at an HTML view.

The view does what a real one does through the ext-apps protocol: ``ui/initialize``, then
``ui/notifications/initialized``; it draws the tool result it is sent, calls a read-only
tool and a writing one through the host, and asks for its height.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel

from tests.chat.servidor_que_pregunta import servir_en_hilo

VISTA = "ui://prueba/ficha"
HTML = """<!doctype html><meta charset="utf-8">
<div id="t">cargando</div><div id="extra"></div>
<script>
let n = 0; const pendientes = {};
function pedir(method, params) {
  const id = ++n;
  parent.postMessage({jsonrpc: "2.0", id, method, params}, "*");
  return new Promise((r) => { pendientes[id] = r; });
}
window.addEventListener("message", async (ev) => {
  const m = ev.data;
  if (m.id && pendientes[m.id]) { pendientes[m.id](m); delete pendientes[m.id]; return; }
  if (m.method !== "ui/notifications/tool-result") return;
  document.getElementById("t").textContent = "Cliente: " + m.params.structuredContent.nombre;
  const saldo = await pedir("tools/call", {name: "saldo", arguments: {id: 1}});
  const pago = await pedir("tools/call", {name: "pagar", arguments: {}});
  document.getElementById("extra").textContent = "Saldo: " + saldo.result.structuredContent.saldo +
    " | pagar: " + (pago.error ? pago.error.message : "ejecutado");
  parent.postMessage({jsonrpc: "2.0", method: "ui/notifications/size-changed", params: {height: 123}}, "*");
});
pedir("ui/initialize", {protocolVersion: "2026-01-26", appInfo: {name: "prueba", version: "1"}, appCapabilities: {}})
  .then(() => parent.postMessage({jsonrpc: "2.0", method: "ui/notifications/initialized"}, "*"));
</script>"""


class Ficha(BaseModel):
    nombre: str


class Saldo(BaseModel):
    saldo: str


def servidor() -> MCPServer:
    mcp = MCPServer("fichas")

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=True), meta={"ui": {"resourceUri": VISTA}})
    def ficha(nombre: str) -> Ficha:
        """La ficha de un cliente, con su vista."""
        return Ficha(nombre=nombre)

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=True))
    def saldo(id: int) -> Saldo:  # noqa: A002
        """El saldo de un cliente."""
        return Saldo(saldo="1250.00" if id == 1 else "0.00")

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=False))
    def pagar() -> str:
        """Modifica datos."""
        return "pagado"

    @mcp.resource(VISTA, mime_type="text/html;profile=mcp-app")
    def vista() -> str:
        return HTML

    return mcp


@contextmanager
def servidor_con_vista() -> Iterator[str]:
    with servir_en_hilo(servidor()) as url:
        yield url
