"""Fixtures the /admin test modules share (pytest finds them here, none imports them by name)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from tests.admin.test_admin import app_con_panel, entrar, navegador


@pytest.fixture
async def panel(settings: Settings, db: Database) -> AsyncIterator[httpx2.AsyncClient]:
    """A browser already logged in to the panel."""
    async with navegador(app_con_panel(settings, db)) as cliente:
        assert (await entrar(cliente)).status_code == 302
        yield cliente
