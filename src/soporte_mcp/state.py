"""What the server holds while it runs, shared by tools, resources and HTTP routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from soporte_mcp.config import Settings
from soporte_mcp.db.perezosa import BasePerezosa

if TYPE_CHECKING:  # not imported at start-up: a stdio server opens its database after the handshake
    from soporte_mcp.db.engine import Database


@dataclass(frozen=True)
class AppState:
    settings: Settings
    base: BasePerezosa

    async def db(self) -> Database:
        """The database, opened first if it is not yet (see db/perezosa.py).

        Raises:
            BaseDeDatosNoDisponible: it cannot be opened now; the message says why.
        """
        return await self.base.obtener_async()
