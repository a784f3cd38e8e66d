"""In-process figures: every tool through the SDK's in-memory ``Client(server)``, next to the no-op.

Our server is built as the tests build it (``build_server(settings, db)``), on a
working copy of a seeded database; the reference is ``bench.referencia``.  Both
clients live in this process and run one call at a time, so calls per second are
1 / mean latency.  (Folded in from the first ``bench/buscar.py``.)
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import Client
from mcp.types import CallToolResult

from bench.bases import Datos
from bench.informe import Fila
from bench.medicion import Limites, Serie, medir
from bench.referencia import NOOP, build_referencia
from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.server import build_server


class LlamadaFallida(RuntimeError):
    """A tool answered ``isError`` during a measured series."""


def llamador(
    client: Client, herramienta: str, argumentos: Callable[[], dict[str, Any]]
) -> Callable[[], Awaitable[CallToolResult]]:
    async def llamar() -> CallToolResult:
        resultado = await client.call_tool(herramienta, argumentos())
        if resultado.is_error:
            raise LlamadaFallida(f"{herramienta}: {resultado.content}")
        return resultado

    return llamar


def fijo(argumentos: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: argumentos


def pagos(datos: Datos) -> Callable[[], dict[str, Any]]:
    """registrarPago's arguments: the next active customer of the run's list, $10.00 each."""
    clientes = itertools.cycle(datos.activos)
    return lambda: {
        "clienteId": next(clientes),
        "monto": "10.00",
        "metodoPago": "tarjeta",
        "descripcion": "bench",
    }


def tickets(datos: Datos) -> Callable[[], dict[str, Any]]:
    clientes = itertools.cycle(datos.activos)
    return lambda: {
        "clienteId": next(clientes),
        "titulo": "Bench",
        "descripcion": "Ticket del benchmark.",
        "prioridad": "baja",
    }


async def serie_referencia(limites: Limites) -> Serie:
    async with Client(build_referencia()) as ref:
        return await medir(llamador(ref, NOOP, fijo({})), limites)


async def filas(url: str, datos: Datos, limites: Limites) -> list[Fila]:
    """Every tool on one database, each next to the no-op measured just before it."""
    seccion = f"in-process, {datos.clientes:,} customers"
    db = Database.from_url(url)
    resultado: list[Fila] = []
    try:
        async with Client(build_server(Settings(database_url=url), db)) as client:
            for clave, medida, herramienta, argumentos, criterio in _llamadas(datos):
                ref = await serie_referencia(limites)
                llamar = llamador(client, herramienta, argumentos)
                serie = await medir(llamar, limites)
                resultado.append(
                    Fila(seccion, medida, serie, ref, criterio, clave=f"inproceso-{datos.clientes}-{clave}")
                )
    finally:
        db.dispose()
    return resultado


def _llamadas(datos: Datos) -> list[tuple[str, str, str, Callable[[], dict[str, Any]], str]]:
    busquedas = [
        (
            f"buscarCliente-{tipo}",
            f"buscarCliente, {tipo} {query!r} ({datos.coincidencias[query]:,} match)",
            "buscarCliente",
            fijo({"query": query}),
            "mediana",
        )
        for tipo, query in datos.busquedas.items()
    ]
    return [
        *busquedas,
        (
            "consultarSaldo",
            f"consultarSaldo (customer {datos.cliente_saldo})",
            "consultarSaldo",
            fijo({"clienteId": datos.cliente_saldo}),
            "mediana",
        ),
        ("crearTicket", "crearTicket", "crearTicket", tickets(datos), "mediana"),
        ("registrarPago", "registrarPago: payments per second", "registrarPago", pagos(datos), "llamadas/s"),
        ("estadisticas", "estadisticas", "estadisticas", fijo({}), "mediana"),
    ]
