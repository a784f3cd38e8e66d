"""Per-token rate limiting for the HTTP server: a token bucket per credential, 429 with Retry-After.

Without Redis the buckets live in the worker process: with ``--workers N`` (or N
machines) each process allows the rate, so a token can reach N times it in total.
With ``SOPORTE_REDIS_URL`` every process shares one bucket per credential in
Redis, updated by one Lua script (atomic: no two processes can both take the
last token).  When Redis stops answering, ``SOPORTE_REDIS_FAILURE_MODE`` decides:
``open`` (default) serves with the per-process buckets, ``closed`` answers 503;
either way one log line says so, ``soporte_limite_sin_redis_total`` counts the
requests decided without it, and Redis is tried again a second later.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from soporte_mcp.observabilidad import metricas

log = logging.getLogger(__name__)

# Buckets not touched for this long are forgotten, so that the table cannot grow without bound.
OLVIDO_S = 600.0
MODOS_SIN_REDIS = ("open", "closed")
# A Redis that does not answer must not hold requests up: short timeouts, no retries, and after a
# failure the next attempt only a second later.
ESPERA_REDIS_S = 0.25
REINTENTO_REDIS_S = 1.0
PREFIJO_CLAVE = "soporte:limite:"

# One bucket per key: ARGV = tokens per millisecond, capacity, and (tests only) the time in ms;
# otherwise Redis's own clock, the same for every machine.  Returns the wait in ms (0: allowed).
SCRIPT = """
local ritmo = tonumber(ARGV[1])
local capacidad = tonumber(ARGV[2])
local ahora = tonumber(ARGV[3])
if not ahora then
  local t = redis.call('TIME')
  ahora = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local guardado = redis.call('HMGET', KEYS[1], 'f', 't')
local fichas = tonumber(guardado[1])
local visto = tonumber(guardado[2])
if fichas == nil or visto == nil then
  fichas = capacidad
  visto = ahora
end
fichas = math.min(capacidad, fichas + math.max(0, ahora - visto) * ritmo)
local espera = 0
if fichas >= 1 then
  fichas = fichas - 1
else
  espera = (1 - fichas) / ritmo
end
redis.call('HSET', KEYS[1], 'f', tostring(fichas), 't', tostring(ahora))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacidad / ritmo) + 1000)
return tostring(espera)
"""


@dataclass
class Cubeta:
    fichas: float
    visto: float


def capacidad(por_minuto: int) -> float:
    """The burst a bucket allows: ten seconds' worth of the rate, at least one request."""
    return max(1.0, por_minuto / 6.0)


class CubetasLocales:
    """The buckets of this process."""

    def __init__(self, por_minuto: int, reloj: Callable[[], float] = time.monotonic) -> None:
        self.ritmo = por_minuto / 60.0
        self.capacidad = capacidad(por_minuto)
        self.reloj = reloj
        self.cubetas: dict[str, Cubeta] = {}

    def consumir(self, clave: str) -> float:
        """0 if the request may pass (and takes a token); else the seconds until it could."""
        ahora = self.reloj()
        cubeta = self.cubetas.get(clave)
        if cubeta is None:
            self._olvidar(ahora)
            cubeta = self.cubetas[clave] = Cubeta(self.capacidad, ahora)
        cubeta.fichas = min(self.capacidad, cubeta.fichas + (ahora - cubeta.visto) * self.ritmo)
        cubeta.visto = ahora
        if cubeta.fichas >= 1:
            cubeta.fichas -= 1
            return 0.0
        return (1 - cubeta.fichas) / self.ritmo

    def _olvidar(self, ahora: float) -> None:
        if len(self.cubetas) > 10_000:
            self.cubetas = {k: c for k, c in self.cubetas.items() if ahora - c.visto < OLVIDO_S}


class RedisNoResponde(Exception):
    """Redis did not answer (refused, timed out, or replied with an error)."""


class CubetasRedis:
    """The buckets every process shares, in the Redis at ``url`` (``redis://host:6379/0``).

    ``reloj_ms`` replaces Redis's clock (tests simulate a minute with it).
    """

    def __init__(self, url: str, *, por_minuto: int, reloj_ms: Callable[[], float] | None = None) -> None:
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.url = url
        self.argumentos = [repr(por_minuto / 60_000.0), repr(capacidad(por_minuto))]
        self.reloj_ms = reloj_ms
        self._errores = (redis.RedisError, OSError)
        self._cliente = redis.asyncio.Redis.from_url(
            url, socket_timeout=ESPERA_REDIS_S, socket_connect_timeout=ESPERA_REDIS_S, retry=Retry(NoBackoff(), 0),
        )
        self._script = self._cliente.register_script(SCRIPT)

    async def consumir(self, clave: str) -> float:
        """Like ``CubetasLocales.consumir``, in Redis.

        Raises:
            RedisNoResponde: Redis refused, timed out or failed.
        """
        argumentos = self.argumentos + ([repr(self.reloj_ms())] if self.reloj_ms else [])
        try:
            espera_ms = await self._script(keys=[PREFIJO_CLAVE + clave], args=argumentos)
        except self._errores as exc:
            raise RedisNoResponde(f"{type(exc).__name__}: {exc}") from exc
        return float(espera_ms) / 1000.0

    async def responde(self) -> bool:
        try:
            return bool(await self._cliente.ping())
        except self._errores:
            return False

    async def cerrar(self) -> None:
        await self._cliente.aclose()


class LimiteDeTasa:
    """ASGI middleware: at most ``por_minuto`` requests a minute per bearer credential on ``ruta``.

    Requests are keyed by the Authorization header (hashed), so that guessing
    tokens is limited too; a burst of up to ten seconds' worth is allowed.
    With ``redis`` the buckets are shared; ``sin_redis`` ("open" or "closed")
    says what happens while Redis does not answer (see the module's docstring).
    """

    def __init__(
        self, app: ASGIApp, *, por_minuto: int, ruta: str, reloj: Callable[[], float] = time.monotonic,
        redis: CubetasRedis | None = None, sin_redis: str = "open",
    ) -> None:
        self.app = app
        self.ruta = ruta
        self.locales = CubetasLocales(por_minuto, reloj)
        self.redis = redis
        self.sin_redis = sin_redis
        self._redis_caido_hasta: float | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.ruta):
            await self.app(scope, receive, send)
            return
        espera = await self._espera(_clave(scope))
        if espera is None:
            await _responder(send, 503, 1, "límite de tasa no disponible (Redis no responde); reintente en un momento")
        elif espera <= 0:
            await self.app(scope, receive, send)
        else:
            metricas.contar_limitada()
            await _responder(send, 429, math.ceil(espera), "demasiadas solicitudes")

    async def _espera(self, clave: str) -> float | None:
        """The seconds to wait (0: pass), or None when the request must be refused for want of Redis."""
        if self.redis is None:
            return self.locales.consumir(clave)
        ahora = time.monotonic()
        if self._redis_caido_hasta is None or ahora >= self._redis_caido_hasta:
            try:
                espera = await self.redis.consumir(clave)
            except RedisNoResponde as exc:
                self._caido(ahora, str(exc))
            else:
                self._vuelve()
                return espera
        metricas.contar_sin_redis()
        return self.locales.consumir(clave) if self.sin_redis == "open" else None

    def _caido(self, ahora: float, motivo: str) -> None:
        if self._redis_caido_hasta is None:
            efecto = "límites por proceso" if self.sin_redis == "open" else "se responde 503"
            log.warning("Redis no responde (%s): %s hasta que vuelva", motivo, efecto)
        self._redis_caido_hasta = ahora + REINTENTO_REDIS_S

    def _vuelve(self) -> None:
        if self._redis_caido_hasta is not None:
            log.warning("Redis responde de nuevo: límites compartidos otra vez")
            self._redis_caido_hasta = None

    async def cerrar(self) -> None:
        if self.redis is not None:
            await self.redis.cerrar()


def _clave(scope: Scope) -> str:
    for nombre, valor in scope.get("headers", ()):
        if nombre == b"authorization":
            return hashlib.sha256(valor).hexdigest()
    cliente = scope.get("client")
    return f"ip:{cliente[0] if cliente else '?'}"


async def _responder(send: Send, estado: int, segundos: int, error: str) -> None:
    cuerpo = json.dumps({"error": error, "reintentar_en_s": segundos}, ensure_ascii=False).encode()
    await send({
        "type": "http.response.start",
        "status": estado,
        "headers": [(b"content-type", b"application/json"), (b"retry-after", str(segundos).encode()),
                    (b"content-length", str(len(cuerpo)).encode())],
    })
    await send({"type": "http.response.body", "body": cuerpo})
