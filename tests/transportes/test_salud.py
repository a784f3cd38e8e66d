"""/health tells the truth about the database."""

from __future__ import annotations

import httpx2
import pytest

from soporte_mcp.db.engine import Database
from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.http import build_http_app

pytestmark = pytest.mark.anyio


async def get_health(server, db) -> httpx2.Response:
    app = build_http_app(server, db)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        return await http.get("/health")


async def test_health_is_ok_with_a_working_database(server, db) -> None:
    r = await get_health(server, db)
    assert r.status_code == 200 and r.json()["database"] == "ok"


@pytest.mark.sqlite_only
async def test_health_is_503_when_the_database_file_is_gone(server, db) -> None:
    db.archivo_sqlite.unlink()
    r = await get_health(server, db)
    assert r.status_code == 503
    assert "ya no existe" in r.json()["database"]


def test_ping_refuses_a_database_without_our_schema(tmp_path) -> None:
    vacia = Database.from_url(f"sqlite:///{tmp_path / 'vacia.db'}")
    with pytest.raises(BaseDeDatosNoDisponible):
        vacia.ping()
    vacia.dispose()
