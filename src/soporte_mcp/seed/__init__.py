"""Demo and synthetic data for ``soporte-mcp seed``."""
