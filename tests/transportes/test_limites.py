"""Rate limiting: a token's burst passes, the next request gets 429 with Retry-After, time refills."""

from __future__ import annotations

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from soporte_mcp.limites import LimiteDeTasa

pytestmark = pytest.mark.anyio


class Reloj:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def app_limitada(reloj: Reloj, por_minuto: int = 60) -> LimiteDeTasa:
    async def ok(_request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    interna = Starlette(routes=[Route("/mcp", ok, methods=["POST"]), Route("/health", ok)])
    return LimiteDeTasa(interna, por_minuto=por_minuto, ruta="/mcp", reloj=reloj)


async def pedir(app, token: str, n: int = 1, ruta: str = "/mcp") -> list[httpx2.Response]:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        metodo = http.post if ruta == "/mcp" else http.get
        return [await metodo(ruta, headers={"Authorization": f"Bearer {token}"}) for _ in range(n)]


async def test_a_token_gets_its_burst_then_429_with_retry_after() -> None:
    reloj = Reloj()
    app = app_limitada(reloj, por_minuto=60)  # 1 a second, bursts of 10
    respuestas = await pedir(app, "a", 11)
    assert [r.status_code for r in respuestas] == [200] * 10 + [429]
    assert respuestas[-1].headers["retry-after"] == "1"
    reloj.t += 1.0
    assert [r.status_code for r in await pedir(app, "a", 2)] == [200, 429]


async def test_tokens_are_limited_separately_and_other_paths_not_at_all() -> None:
    app = app_limitada(Reloj(), por_minuto=6)  # burst of 1
    assert [r.status_code for r in await pedir(app, "a", 2)] == [200, 429]
    assert [r.status_code for r in await pedir(app, "b", 1)] == [200]
    assert [r.status_code for r in await pedir(app, "a", 3, ruta="/health")] == [200, 200, 200]
