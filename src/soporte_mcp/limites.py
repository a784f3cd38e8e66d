"""Per-token rate limiting for the HTTP server: a token bucket per credential, 429 with Retry-After.

The buckets live in the worker process: with ``--workers N`` each worker
allows the rate, so a token can reach at most N times it in total.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

# Buckets not touched for this long are forgotten, so that the table cannot grow without bound.
OLVIDO_S = 600.0


@dataclass
class Cubeta:
    fichas: float
    visto: float


class LimiteDeTasa:
    """ASGI middleware: at most ``por_minuto`` requests a minute per bearer credential on ``ruta``.

    Requests are keyed by the Authorization header (hashed), so that guessing
    tokens is limited too; a burst of up to ten seconds' worth is allowed.
    """

    def __init__(self, app: ASGIApp, *, por_minuto: int, ruta: str, reloj: Callable[[], float] = time.monotonic):
        self.app = app
        self.ruta = ruta
        self.ritmo = por_minuto / 60.0
        self.capacidad = max(1.0, por_minuto / 6.0)
        self.reloj = reloj
        self.cubetas: dict[str, Cubeta] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.ruta):
            await self.app(scope, receive, send)
            return
        espera = self._consumir(_clave(scope))
        if espera <= 0:
            await self.app(scope, receive, send)
            return
        await _demasiadas(send, math.ceil(espera))

    def _consumir(self, clave: str) -> float:
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


def _clave(scope: Scope) -> str:
    for nombre, valor in scope.get("headers", ()):
        if nombre == b"authorization":
            return hashlib.sha256(valor).hexdigest()
    cliente = scope.get("client")
    return f"ip:{cliente[0] if cliente else '?'}"


async def _demasiadas(send: Send, segundos: int) -> None:
    cuerpo = json.dumps({"error": "demasiadas solicitudes", "reintentar_en_s": segundos}).encode()
    await send({
        "type": "http.response.start",
        "status": 429,
        "headers": [(b"content-type", b"application/json"), (b"retry-after", str(segundos).encode()),
                    (b"content-length", str(len(cuerpo)).encode())],
    })
    await send({"type": "http.response.body", "body": cuerpo})
