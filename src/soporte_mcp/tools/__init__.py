"""The MCP tools: thin adapters that parse arguments, call one service and return its model."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from soporte_mcp.tools import clientes, estadisticas, pagos, tickets


def registrar_herramientas(server: MCPServer) -> None:
    for familia in (clientes, tickets, pagos, estadisticas):
        familia.registrar(server)
