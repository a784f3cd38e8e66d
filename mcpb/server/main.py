"""Entry point of the Claude Desktop extension (.mcpb): ``soporte-mcp serve`` over stdio.

Claude Desktop starts it with ``uv run --directory <bundle> server/main.py`` (manifest
``server.type = "uv"``): uv installs the bundled package and its dependencies from the
bundle's ``pyproject.toml``, with a Python it manages. The manifest passes the user's
choices as variables:

- ``SOPORTE_DATABASE_URL``: the database the user chose, as a SQLAlchemy URL or as the
  path of a SQLite file (which this entry turns into ``sqlite:///PATH``); empty: the
  default file of soporte-mcp (``soporte-mcp info`` shows where).
- ``SOPORTE_MCPB_DEMO``: ``true`` to load the demo data first if it is not there yet.
"""

from __future__ import annotations

import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

from soporte_mcp.cli import main


def url_de_base(valor: str) -> str:
    """A URL as it is; a file path as a SQLite URL; empty stays empty (the default database)."""
    valor = valor.strip()
    if not valor or "://" in valor:
        return valor
    return f"sqlite:///{Path(valor).expanduser().resolve()}"


def arrancar() -> None:
    os.environ["SOPORTE_DATABASE_URL"] = url_de_base(os.environ.get("SOPORTE_DATABASE_URL", ""))
    if os.environ.pop("SOPORTE_MCPB_DEMO", "").strip().lower() == "true":
        with redirect_stdout(sys.stderr):  # stdout belongs to the MCP protocol
            main(["seed"], prog_name="soporte-mcp", standalone_mode=False)
    main(["serve"], prog_name="soporte-mcp")


if __name__ == "__main__":
    arrancar()
