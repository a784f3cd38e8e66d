"""What the server holds while it runs, shared by tools, resources and HTTP routes."""

from __future__ import annotations

from dataclasses import dataclass

from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database


@dataclass(frozen=True)
class AppState:
    settings: Settings
    db: Database
