"""The reference server: a minimal ``MCPServer`` with one async no-op tool.

Every figure of ours is divided by this server's figure for the same transport,
measured in the same run: the ratio is what our tools cost above the protocol.

    python -m bench.referencia              # stdio (what the stdio rows spawn)
    uvicorn: bench.referencia:app_http      # factory, what ``bench.servir`` runs over HTTP
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

NOOP = "noop"


def build_referencia() -> MCPServer:
    server = MCPServer("referencia")

    @server.tool(name=NOOP)
    async def noop() -> str:
        """Does nothing."""
        return "ok"

    return server


def app_http():
    """The reference ASGI app, built as ``soporte_mcp.http.build_http_app`` builds ours.

    The load generator speaks protocol 2026-07-28, whose self-contained POSTs take
    the SDK's single-exchange path whatever ``stateless_http`` says
    (``StreamableHTTPSessionManager.handle_request``), so ours with one worker
    (stateful) and the reference (stateless) serve them the same way.
    """
    return build_referencia().streamable_http_app(
        streamable_http_path="/mcp", json_response=True, stateless_http=True, host="127.0.0.1"
    )


if __name__ == "__main__":
    build_referencia().run("stdio")
