"""``python -m soporte_mcp`` is the ``soporte-mcp`` command."""

from soporte_mcp.cli import main

main()
