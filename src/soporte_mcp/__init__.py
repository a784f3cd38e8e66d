"""soporte-mcp: the tools a customer-support team needs, served over MCP."""

__version__ = "0.1.0"
