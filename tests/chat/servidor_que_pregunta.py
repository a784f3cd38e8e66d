"""An MCP server whose one tool asks the person something first (MCP elicitation), over HTTP in a thread.

It stands in for the payment confirmation of soporte-mcp while that is being built: the
web chat must show the server's form and send back what the person answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from tests._procesos import HOST, puerto_libre
from tests.chat.servidor_hilo import en_hilo


class Confirmacion(BaseModel):
    confirmo: bool = Field(title="Confirmo el cobro")
    referencia: str = Field(title="Referencia", description="El número del recibo.")
    metodo: str = Field(title="Método", json_schema_extra={"enum": ["efectivo", "tarjeta"]})


def _preguntar(monto: str) -> Elicit[Confirmacion]:
    return Elicit(f"¿Confirma el cobro de ${monto}?", Confirmacion)


def servidor() -> MCPServer:
    mcp = MCPServer("pregunton")

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=True))
    def cobrar(monto: str, respuesta: Annotated[ElicitationResult[Confirmacion], Resolve(_preguntar)]) -> str:
        """Cobra ``monto`` tras confirmarlo con la persona."""
        if isinstance(respuesta, AcceptedElicitation):
            d = respuesta.data
            return f"aceptado: confirmo={d.confirmo} referencia={d.referencia} metodo={d.metodo}"
        return f"sin cobrar: {type(respuesta).__name__}"

    return mcp


@contextmanager
def servidor_que_pregunta() -> Iterator[str]:
    """Serve it on a free loopback port; its MCP URL."""
    with servir_en_hilo(servidor()) as url:
        yield url


@contextmanager
def servir_en_hilo(mcp: MCPServer) -> Iterator[str]:
    """Serve ``mcp`` over streamable HTTP on a free loopback port, in a thread; its MCP URL."""
    puerto = puerto_libre()
    with en_hilo(mcp.streamable_http_app(host=HOST), puerto):
        yield f"http://{HOST}:{puerto}/mcp"
