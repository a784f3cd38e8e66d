"""Rate limits shared through Redis: one bucket per token across processes and machines, and what
happens while Redis is away (open: per-process limits; closed: 503), and after it comes back."""

from __future__ import annotations

import logging
import math
import secrets
import time
from pathlib import Path

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from soporte_mcp.limites import CubetasLocales, CubetasRedis, LimiteDeTasa
from soporte_mcp.observabilidad import metricas
from tests._observabilidad import archivo_de_tokens, llamar, redis_compartido, redis_privado
from tests._procesos import puerto_libre, sembrar, servidor_http

pytestmark = pytest.mark.anyio

SALDO = ("consultarSaldo", {"clienteId": 2})


# --- the bucket in Redis, two "processes", a simulated minute ------------------------------------


async def test_a_token_limited_to_60_a_minute_gets_60_plus_one_burst_in_a_minute_across_two_processes_not_twice():
    url = redis_compartido()
    reloj = {"ms": 1_000_000.0}
    credencial = secrets.token_hex(16)  # a key of this test alone in the shared Redis
    procesos = [CubetasRedis(url, por_minuto=60, reloj_ms=lambda: reloj["ms"]) for _ in range(2)]
    locales = [CubetasLocales(60, reloj=lambda: reloj["ms"] / 1000) for _ in range(2)]
    compartidas = separadas = 0
    try:
        for i in range(600):  # one request every 100 ms for a minute, alternating between the processes
            compartidas += await procesos[i % 2].consumir(credencial) == 0
            separadas += locales[i % 2].consumir(credencial) == 0
            reloj["ms"] += 100
    finally:
        for p in procesos:
            await p.cerrar()
    # 60 a minute plus the 10-second burst the bucket starts with; per process it would be both twice.
    assert 69 <= compartidas <= 71, compartidas
    assert separadas >= 2 * 69, separadas


async def test_a_refused_request_is_told_how_long_to_wait_by_the_shared_bucket():
    url = redis_compartido()
    reloj = {"ms": 5_000.0}
    cubetas = CubetasRedis(url, por_minuto=6, reloj_ms=lambda: reloj["ms"])  # burst of 1, one every 10 s
    credencial = secrets.token_hex(16)
    try:
        assert await cubetas.consumir(credencial) == 0
        reloj["ms"] += 4_000
        assert await cubetas.consumir(credencial) == pytest.approx(6.0)
    finally:
        await cubetas.cerrar()


# --- Redis away, in process ----------------------------------------------------------------------


def app_limitada(redis: CubetasRedis, sin_redis: str) -> LimiteDeTasa:
    async def ok(_request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    interna = Starlette(routes=[Route("/mcp", ok, methods=["POST"])])
    return LimiteDeTasa(interna, por_minuto=6, ruta="/mcp", redis=redis, sin_redis=sin_redis)


async def pedir(app, n: int) -> list[int]:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        return [(await http.post("/mcp", headers={"Authorization": "Bearer t"})).status_code for _ in range(n)]


async def test_with_redis_unreachable_open_mode_serves_with_the_process_bucket_logs_once_and_counts(caplog):
    metricas.activar()
    antes = _sin_redis()
    app = app_limitada(CubetasRedis(f"redis://127.0.0.1:{puerto_libre()}/0", por_minuto=6), "open")
    with caplog.at_level(logging.WARNING, logger="soporte_mcp.limites"):
        assert await pedir(app, 3) == [200, 429, 429]  # the per-process bucket: a burst of 1
    assert [r.message for r in caplog.records if "Redis no responde" in r.message] != []
    assert len(caplog.records) == 1, "one line when Redis goes away, not one per request"
    assert _sin_redis() - antes == 3
    await app.cerrar()


async def test_with_redis_unreachable_closed_mode_answers_503_with_retry_after():
    app = app_limitada(CubetasRedis(f"redis://127.0.0.1:{puerto_libre()}/0", por_minuto=6), "closed")
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        respuesta = await http.post("/mcp", headers={"Authorization": "Bearer t"})
    assert (respuesta.status_code, respuesta.headers["retry-after"]) == (503, "1")
    assert "Redis" in respuesta.json()["error"]
    await app.cerrar()


def _sin_redis() -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("soporte_limite_sin_redis_total") or 0.0


# --- two servers (two machines) on one database and one Redis ------------------------------------


def ronda(servidores, token: str, n: int) -> tuple[int, float]:
    """``n`` calls to each server, alternating; how many passed (200) and how long it took."""
    inicio = time.monotonic()
    pasaron = 0
    with httpx2.Client(timeout=30) as http:
        for i in range(2 * n):
            respuesta = llamar(http, servidores[i % 2].mcp_url, *SALDO, token=token)
            assert respuesta.status_code in (200, 429), respuesta.text
            pasaron += respuesta.status_code == 200
    return pasaron, time.monotonic() - inicio


@pytest.mark.parametrize("compartido", [True, False], ids=["con-redis", "sin-redis"])
def test_two_servers_on_one_database_give_a_token_of_60_a_minute_one_burst_with_redis_and_two_without(
    tmp_path: Path, compartido: bool
) -> None:
    url = sembrar(tmp_path)
    tokens, secreto = archivo_de_tokens(tmp_path, agente=("read",))
    opciones = ["--tokens-file", str(tokens), "--rate-limit", "60"]
    opciones += ["--redis-url", redis_compartido()] if compartido else []
    with servidor_http(url, tmp_path, *opciones) as a, servidor_http(url, tmp_path, *opciones) as b:
        pasaron, segundos = ronda((a, b), secreto["agente"], 30)
    # The bucket holds 10 (ten seconds' worth) and refills one a second while the round runs.
    repuestas = math.ceil(segundos) + 1
    if compartido:
        assert 10 <= pasaron <= 10 + repuestas, (pasaron, segundos)
    else:
        assert 20 <= pasaron <= 20 + 2 * repuestas, (pasaron, segundos)


def test_when_redis_stops_both_servers_go_on_with_their_own_limits_and_share_again_when_it_returns(
    tmp_path: Path,
) -> None:
    url = sembrar(tmp_path)
    tokens, secreto = archivo_de_tokens(tmp_path, agente=("read",), otro=("read",))
    with redis_privado(tmp_path) as redis:
        opciones = ["--tokens-file", str(tokens), "--rate-limit", "60", "--redis-url", redis.url]
        with servidor_http(url, tmp_path, *opciones) as a, servidor_http(url, tmp_path, *opciones) as b:
            compartidas, s1 = ronda((a, b), secreto["agente"], 15)
            redis.detener()
            # Open (the default): each server falls back to a bucket of its own, still unused: 2 × 10.
            sin_redis, s2 = ronda((a, b), secreto["agente"], 15)
            redis.arrancar()  # empty: it forgot the buckets, as after a crash
            _esperar_que_vuelva(a, b, secreto["agente"])
            # A token unused so far: 10 in Redis, but 2 × 10 if the servers still counted on their own.
            de_vuelta, s3 = ronda((a, b), secreto["otro"], 15)
            registros = a.stderr.read_text() + b.stderr.read_text()
    assert 10 <= compartidas <= 10 + math.ceil(s1) + 1, compartidas
    assert 20 <= sin_redis <= 20 + 2 * (math.ceil(s2) + 1), sin_redis
    assert 10 <= de_vuelta <= 10 + math.ceil(s3) + 1, de_vuelta
    assert registros.count("Redis no responde") == 2 and registros.count("Redis responde de nuevo") == 2, registros


def _esperar_que_vuelva(a, b, token: str) -> None:
    """Each server tries Redis again a second after its last failure: call both until both logged it."""
    limite = time.monotonic() + 10
    with httpx2.Client(timeout=30) as http:
        while not all("Redis responde de nuevo" in s.stderr.read_text() for s in (a, b)):
            assert time.monotonic() < limite, "los servidores no volvieron a usar Redis"
            for servidor in (a, b):
                llamar(http, servidor.mcp_url, *SALDO, token=token)
            time.sleep(0.2)  # the retry window is a second; poll well inside it, bounded above


@pytest.mark.parametrize(("modo", "estado"), [("open", 200), ("closed", 503)])
async def test_health_names_an_unreachable_redis_and_is_unready_only_in_closed_mode(
    settings, db, modo: str, estado: int
) -> None:
    from soporte_mcp.http import build_http_app
    from soporte_mcp.server import build_server

    con_redis = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{puerto_libre()}/0", "rate_limit": 60,
                                            "redis_failure_mode": modo})
    app = build_http_app(build_server(con_redis, db), db, settings=con_redis)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        respuesta = await http.get("/health")
    assert (respuesta.status_code, respuesta.json()["redis"]) == (estado, "no responde")
    await app.cerrar()


async def test_health_says_redis_ok_when_it_answers(settings, db) -> None:
    from soporte_mcp.http import build_http_app
    from soporte_mcp.server import build_server

    con_redis = settings.model_copy(update={"redis_url": redis_compartido(), "rate_limit": 60})
    app = build_http_app(build_server(con_redis, db), db, settings=con_redis)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        respuesta = await http.get("/health")
    assert (respuesta.status_code, respuesta.json()["redis"]) == (200, "ok")
    await app.cerrar()
