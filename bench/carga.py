"""The HTTP load generator: C concurrent callers POSTing ``tools/call`` for a bounded time.

    python -m bench.carga --url http://127.0.0.1:P/mcp --herramienta buscarCliente \
        --argumentos '{"query": "garcia"}' --concurrencia 32 --segundos 5 [--max-llamadas N]

It runs in its own process (``bench.run`` starts it) and prints one JSON object:
calls, errors, seconds, calls/s, median and p99 latency, and its own CPU time,
which on a 2-core machine is CPU the server did not get.

Each request is a self-contained JSON-RPC POST of protocol 2026-07-28 -- the
same bytes the SDK's ``Client(url)`` sends (headers ``MCP-Protocol-Version``,
``Mcp-Method``, ``Mcp-Name`` and the ``_meta`` envelope) -- without the SDK
client around it: a ``Client`` per caller would spend more CPU validating and
parsing answers than the server spends producing them, and that CPU comes out
of the same two cores.  Every answer is still parsed and checked (HTTP 200, a
JSON-RPC ``result``, ``isError`` false).

During the warm-up, caller i opens its connection i × ``--escalonar`` ms after the
first: 32 connections opened at the same instant tend to be accepted all by one
uvicorn worker, which then does all the work (``bench.por_http.rafaga`` measures it).

Two engines: ``raw`` (default), one keep-alive HTTP/1.1 connection per caller on
asyncio streams, 0.11-0.17 ms of client CPU a call here; ``httpx2``, one
``httpx2.AsyncClient`` shared by the callers, 0.65-0.74 ms (``bench/RESULTS.md``, Method).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROTOCOLO = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": PROTOCOLO,
    "io.modelcontextprotocol/clientInfo": {"name": "bench-carga", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


@dataclass
class Peticiones:
    """The JSON-RPC bodies to send: fixed arguments, or a random customer per call (payments)."""

    herramienta: str
    argumentos: dict
    clientes: list[int] | None = None
    rnd: random.Random = field(default_factory=lambda: random.Random(5))
    siguiente_id: int = 0

    def cabeceras(self) -> dict[str, str]:
        return {
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            "mcp-protocol-version": PROTOCOLO,
            "mcp-method": "tools/call",
            "mcp-name": self.herramienta,
        }

    def cuerpo(self) -> bytes:
        self.siguiente_id += 1
        argumentos = dict(self.argumentos)
        if self.clientes:
            argumentos["clienteId"] = self.rnd.choice(self.clientes)
        mensaje = {
            "jsonrpc": "2.0",
            "id": self.siguiente_id,
            "method": "tools/call",
            "params": {"name": self.herramienta, "arguments": argumentos, "_meta": META},
        }
        return json.dumps(mensaje).encode()


def comprobar(status: int, cuerpo: bytes) -> str | None:
    """None if the answer is a successful tool result, else what was wrong with it."""
    if status != 200:
        return f"HTTP {status}: {cuerpo[:200]!r}"
    respuesta = json.loads(cuerpo)
    resultado = respuesta.get("result")
    if resultado is None:
        return f"JSON-RPC error: {respuesta.get('error')}"
    if resultado.get("isError"):
        return f"isError: {resultado.get('content')}"
    return None


Llamar = Callable[[], Awaitable[str | None]]


class ConexionCruda:
    """One keep-alive HTTP/1.1 connection; the server (uvicorn) always sends Content-Length."""

    def __init__(self, url: str, peticiones: Peticiones) -> None:
        partes = urlsplit(url)
        self.host, self.port, self.ruta = partes.hostname, partes.port, partes.path
        self.peticiones = peticiones
        extra = "".join(f"{k}: {v}\r\n" for k, v in peticiones.cabeceras().items())
        self.cabecera = f"POST {self.ruta} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n{extra}"
        self.lector: asyncio.StreamReader | None = None
        self.escritor: asyncio.StreamWriter | None = None

    async def llamar(self) -> str | None:
        if self.escritor is None:
            self.lector, self.escritor = await asyncio.open_connection(self.host, self.port)
        cuerpo = self.peticiones.cuerpo()
        self.escritor.write(f"{self.cabecera}content-length: {len(cuerpo)}\r\n\r\n".encode() + cuerpo)
        cabeceras = await self.lector.readuntil(b"\r\n\r\n")
        lineas = cabeceras.decode("latin-1").split("\r\n")
        status = int(lineas[0].split(" ", 2)[1])
        largo = next(int(x.split(":", 1)[1]) for x in lineas if x.lower().startswith("content-length:"))
        return comprobar(status, await self.lector.readexactly(largo))

    async def cerrar(self) -> None:
        if self.escritor is not None:
            self.escritor.close()


async def correr(args: argparse.Namespace) -> dict:
    clientes = json.loads(Path(args.clientes).read_text()) if args.clientes else None
    peticiones = Peticiones(args.herramienta, json.loads(args.argumentos), clientes)
    if args.motor == "raw":
        conexiones = [ConexionCruda(args.url, peticiones) for _ in range(args.concurrencia)]
        llamadas: list[Llamar] = [c.llamar for c in conexiones]
        cerrar = [c.cerrar for c in conexiones]
    else:
        import httpx2

        cliente = httpx2.AsyncClient(limits=httpx2.Limits(max_connections=args.concurrencia), timeout=60)

        async def por_httpx2() -> str | None:
            r = await cliente.post(args.url, content=peticiones.cuerpo(), headers=peticiones.cabeceras())
            return comprobar(r.status_code, r.content)

        llamadas = [por_httpx2] * args.concurrencia
        cerrar = [cliente.aclose]
    try:
        # Warm-up opens the connections (caller i after i × --escalonar ms) and warms caches and workers.
        calentamiento = await _ventana(llamadas, args.calentamiento, None, args.escalonar / 1000)
        medido = await _ventana(llamadas, args.segundos, args.max_llamadas)
        # Errors during warm-up count too: a load test that hides failures measures nothing.
        medido["errores"] += calentamiento["errores"]
        medido["primer_error"] = calentamiento["primer_error"] or medido["primer_error"]
        return medido | {"llamadas_calentamiento": calentamiento["llamadas"]}
    finally:
        for c in cerrar:
            await c()


async def _ventana(llamadas: list[Llamar], segundos: float, maximo: int | None, escalon: float = 0.0) -> dict:
    latencias: list[float] = []
    errores: list[str] = []
    cpu0 = _cpu()
    t0 = time.perf_counter()
    fin = t0 + segundos

    async def llamador(i: int, llamar: Llamar) -> None:
        await asyncio.sleep(i * escalon)
        while time.perf_counter() < fin and (maximo is None or len(latencias) < maximo):
            t = time.perf_counter()
            error = await llamar()
            latencias.append((time.perf_counter() - t) * 1000)
            if error:
                errores.append(error)

    await asyncio.gather(*(llamador(i, f) for i, f in enumerate(llamadas)))
    segundos_reales = time.perf_counter() - t0
    return {
        "llamadas": len(latencias),
        "errores": len(errores),
        "primer_error": errores[0] if errores else None,
        "segundos": segundos_reales,
        "latencias_ms": latencias,
        "cpu_s": _cpu() - cpu0,
    }


def _cpu() -> float:
    uso = resource.getrusage(resource.RUSAGE_SELF)
    return uso.ru_utime + uso.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--herramienta", required=True)
    parser.add_argument("--argumentos", default="{}", help="JSON object of the tool's arguments")
    parser.add_argument(
        "--clientes", metavar="JSON", help="file with a JSON list of ids: a random clienteId per call"
    )
    parser.add_argument("--concurrencia", type=int, default=1)
    parser.add_argument("--segundos", type=float, default=5.0, help="measured window (bounded in time)")
    parser.add_argument("--max-llamadas", type=int, default=None, help="and in count")
    parser.add_argument("--calentamiento", type=float, default=1.0, help="seconds of unmeasured warm-up")
    parser.add_argument("--motor", choices=["raw", "httpx2"], default="raw")
    parser.add_argument(
        "--escalonar", type=float, default=0.0, metavar="MS", help="open caller i's connection i × MS later"
    )
    print(json.dumps(asyncio.run(correr(parser.parse_args()))))


if __name__ == "__main__":
    main()
