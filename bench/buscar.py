"""Benchmark: buscarCliente in-process (SDK in-memory client) next to a no-op tool, same run.

    python bench/buscar.py [--clientes 1000000] [--llamadas 2000]

Builds (once) bench/out/<N>.db with `soporte-mcp seed --clientes N`, then times
each query kind through `Client(server)` and prints median and p99 in ms, and
the ratio to an async no-op tool on a bare MCPServer measured in the same run.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
from mcp import Client
from mcp.server.mcpserver import MCPServer

from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.server import build_server

OUT = Path(__file__).with_name("out")
CONSULTAS = {
    "apellido común": "garcia",
    "apellido raro": "benavides quiñonez",
    "fragmento de email": "lopez12345",
    "email exacto": "maria.garcia@email.com",
    "nadie": "zzzqqxx",
}


def base_de_datos(clientes: int) -> str:
    OUT.mkdir(exist_ok=True)
    ruta = OUT / f"{clientes}.db"
    url = f"sqlite:///{ruta}"
    if not ruta.exists():
        exe = Path(sys.executable).with_name("soporte-mcp")
        subprocess.run([exe, "--database-url", url, "seed", "--clientes", str(clientes)], check=True)
    return url


def referencia() -> MCPServer:
    server = MCPServer("referencia")

    @server.tool()
    async def noop() -> str:
        return "ok"

    return server


async def medir(client: Client, tool: str, args: dict, llamadas: int) -> list[float]:
    for _ in range(50):  # warm-up: caches, statement compilation
        await client.call_tool(tool, args)
    tiempos = []
    for _ in range(llamadas):
        t0 = time.perf_counter()
        r = await client.call_tool(tool, args)
        tiempos.append((time.perf_counter() - t0) * 1000)
        assert not r.is_error, r.content
    return tiempos


def fila(nombre: str, tiempos: list[float], ref: float | None) -> str:
    med = statistics.median(tiempos)
    p99 = statistics.quantiles(tiempos, n=100)[98]
    ratio = f"{med / ref:.2f}×" if ref else "1.00×"
    return f"| {nombre} | {med:.3f} | {p99:.3f} | {ratio} |"


async def main(clientes: int, llamadas: int) -> None:
    url = base_de_datos(clientes)
    db = Database.from_url(url)
    print(f"máquina: {platform.processor() or platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, SQLite de {clientes:,} clientes")
    print("| llamada | mediana ms | p99 ms | × no-op |\n| --- | --- | --- | --- |")
    async with Client(referencia()) as ref_client:
        ref = statistics.median(await medir(ref_client, "noop", {}, llamadas))
        print(fila("no-op (MCPServer de referencia)", await medir(ref_client, "noop", {}, llamadas), None))
    async with Client(build_server(Settings(database_url=url), db)) as client:
        for nombre, query in CONSULTAS.items():
            print(fila(f"buscarCliente: {nombre} ({query!r})", await medir(client, "buscarCliente", {"query": query}, llamadas), ref))
        print(fila("consultarSaldo", await medir(client, "consultarSaldo", {"clienteId": 1}, llamadas), ref))
    db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clientes", type=int, default=1_000_000)
    parser.add_argument("--llamadas", type=int, default=2000)
    args = parser.parse_args()
    anyio.run(main, args.clientes, args.llamadas)
