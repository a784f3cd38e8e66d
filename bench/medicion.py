"""Series of timings and what the table says about them: median, p99, calls per second."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Serie:
    """Latencies in ms of ``n`` calls, and how long they took in all (for calls per second).

    ``segundos`` is the wall time of the whole series: for sequential calls it is
    the sum of the latencies; under concurrency it is shorter.
    """

    latencias_ms: tuple[float, ...]
    segundos: float
    errores: int = 0
    nota: str = ""

    @property
    def n(self) -> int:
        return len(self.latencias_ms)

    @property
    def mediana(self) -> float:
        return statistics.median(self.latencias_ms)

    @property
    def p99(self) -> float:
        """The 99th percentile (nearest rank); the maximum when there are fewer than 100 calls."""
        ordenadas = sorted(self.latencias_ms)
        return ordenadas[min(len(ordenadas) - 1, int(0.99 * len(ordenadas)))]

    @property
    def por_segundo(self) -> float:
        return self.n / self.segundos if self.segundos else 0.0


@dataclass(frozen=True)
class Limites:
    """How many calls a series makes: ``llamadas``, but stop after ``segundos`` (at least 5 calls).

    The warm-up makes ``calentamiento`` calls, or fewer if they take over a quarter of ``segundos``.
    """

    llamadas: int
    segundos: float
    calentamiento: int


async def calentar(llamar: Callable[[], Awaitable[object]], limites: Limites) -> None:
    """Warm caches, statement caches and connections up before a series is timed."""
    fin = time.perf_counter() + limites.segundos / 4
    for _ in range(limites.calentamiento):
        await llamar()
        if time.perf_counter() > fin:
            break


async def medir(llamar: Callable[[], Awaitable[object]], limites: Limites) -> Serie:
    """Time ``llamar()`` sequentially after a warm-up, bounded in count and in time.

    ``llamar`` raises (or returns an error the caller turns into an exception) on a
    failed call: a benchmark of failures is worthless, so the series stops there.
    """
    await calentar(llamar, limites)
    latencias: list[float] = []
    inicio = time.perf_counter()
    fin = inicio + limites.segundos
    while len(latencias) < limites.llamadas and (len(latencias) < 5 or time.perf_counter() < fin):
        t0 = time.perf_counter()
        await llamar()
        latencias.append((time.perf_counter() - t0) * 1000)
    return Serie(tuple(latencias), time.perf_counter() - inicio)
