"""The MCP tools: thin adapters that parse arguments, call one service and return its model.

Importing this package imports no tool family: the server publishes the tools from
catalogo.py and registers them (``registrar_herramientas``) when the first call needs
them (issue 13: the stdio cold start).
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer


def registrar_herramientas(server: MCPServer) -> None:
    from soporte_mcp.tools import clientes, estadisticas, pagos, tickets

    for familia in (clientes, tickets, pagos, estadisticas):
        familia.registrar(server)
