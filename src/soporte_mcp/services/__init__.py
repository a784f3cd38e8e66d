"""The business rules of soporte-mcp, with no MCP in them.

Every function takes its dependencies as keyword-only arguments, owns its
transaction and returns a pydantic model; refusals are ``soporte_mcp.errors``.
"""
