"""Over stdio: cold start (spawn → answer of tools/list) and round trips, ours next to the reference.

Ours is spawned as an MCP host spawns it, ``soporte-mcp serve`` (the console
script), the reference as ``python -m bench.referencia``; both through the SDK's
``stdio_client`` with its default environment plus what each server needs.
"""

from __future__ import annotations

import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from bench.bases import TRABAJO, Datos, comando
from bench.informe import Fila
from bench.inproceso import fijo, llamador
from bench.medicion import Limites, Serie, medir
from bench.referencia import NOOP

RAIZ = Path(__file__).resolve().parents[1]
SECCION = "stdio"


def parametros_nuestros(url: str, **env: str) -> StdioServerParameters:
    return StdioServerParameters(command=comando(), args=["serve"], env={"SOPORTE_DATABASE_URL": url, **env})


def parametros_referencia(**env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "bench.referencia"],
        cwd=str(RAIZ),
        env={"PYTHONPATH": str(RAIZ), **env},
    )


async def _arranque(parametros: StdioServerParameters, errlog) -> float:
    """Seconds from spawning the server to the answer of tools/list (the session's handshake included)."""
    t0 = time.perf_counter()
    async with Client(stdio_client(parametros, errlog=errlog)) as client:
        await client.list_tools()
        return time.perf_counter() - t0


async def arranques(url: str, veces: int) -> tuple[Serie, Serie]:
    """``veces`` cold starts of each server, alternating.

    With more than two, one unmeasured start of each goes first (page cache, .pyc files).
    """
    nuestros: list[float] = []
    ref: list[float] = []
    previos = 1 if veces > 2 else 0
    with (TRABAJO / "stdio.stderr").open("w") as errlog:
        for i in range(previos + veces):
            a = await _arranque(parametros_nuestros(url), errlog)
            b = await _arranque(parametros_referencia(), errlog)
            if i >= previos:
                nuestros.append(a * 1000)
                ref.append(b * 1000)
    return Serie(tuple(nuestros), sum(nuestros) / 1000), Serie(tuple(ref), sum(ref) / 1000)


async def filas(url: str, datos: Datos, limites: Limites, veces: int) -> list[Fila]:
    nuestro, ref = await arranques(url, veces)
    resultado = [
        Fila(
            SECCION,
            "cold start: spawn → tools/list answered",
            nuestro,
            ref,
            unidad="s",
            clave="stdio-arranque",
        )
    ]
    llamadas = [
        (
            f"round trip consultarSaldo (customer {datos.cliente_saldo})",
            "consultarSaldo",
            {"clienteId": datos.cliente_saldo},
        ),
        ("round trip buscarCliente 'garcia'", "buscarCliente", {"query": "garcia"}),
    ]
    with (TRABAJO / "stdio.stderr").open("a") as errlog:
        async with (
            Client(stdio_client(parametros_nuestros(url), errlog=errlog)) as client,
            Client(stdio_client(parametros_referencia(), errlog=errlog)) as cliente_ref,
        ):
            for medida, herramienta, argumentos in llamadas:
                serie_ref = await medir(llamador(cliente_ref, NOOP, fijo({})), limites)
                serie = await medir(llamador(client, herramienta, fijo(argumentos)), limites)
                resultado.append(Fila(SECCION, medida, serie, serie_ref))
    return resultado


LINEA_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


async def importaciones(parametros: StdioServerParameters) -> tuple[float, dict[str, float]]:
    """One cold start under ``-X importtime``: its seconds, and ms spent importing each package.

    Each module's *self* time goes to its top-level package, so the sums add up to
    all the import time without counting a nested import twice.
    """
    parametros.env = {**(parametros.env or {}), "PYTHONPROFILEIMPORTTIME": "1"}
    registro = TRABAJO / "importtime.stderr"
    with registro.open("w") as errlog:
        segundos = await _arranque(parametros, errlog)
    por_paquete: defaultdict[str, float] = defaultdict(float)
    for linea in registro.read_text().splitlines():
        m = LINEA_IMPORTTIME.match(linea)
        if m:
            por_paquete[m.group(4).split(".")[0]] += int(m.group(1)) / 1000
    return segundos, dict(por_paquete)


async def desglose_arranque(url: str) -> str:
    """A Markdown table: where each server's cold start goes (imports by package vs the rest)."""
    s_nuestro, nuestro = await importaciones(parametros_nuestros(url))
    s_ref, ref = await importaciones(parametros_referencia())
    paquetes = sorted(set(nuestro) | set(ref), key=lambda p: -max(nuestro.get(p, 0), ref.get(p, 0)))
    grandes = [p for p in paquetes if max(nuestro.get(p, 0), ref.get(p, 0)) >= 15]
    lineas = ["| cold start under -X importtime (ms) | ours | reference |", "| --- | --- | --- |"]
    for p in grandes:
        lineas.append(f"| import {p} | {nuestro.get(p, 0):,.0f} | {ref.get(p, 0):,.0f} |")
    resto = [p for p in paquetes if p not in grandes]
    lineas.append(
        f"| import, other packages ({len(resto)}) | {sum(nuestro.get(p, 0) for p in resto):,.0f} | "
        f"{sum(ref.get(p, 0) for p in resto):,.0f} |"
    )
    i_n, i_r = sum(nuestro.values()), sum(ref.values())
    lineas.append(f"| **all imports** | **{i_n:,.0f}** | **{i_r:,.0f}** |")
    lineas.append(
        f"| interpreter start, our start-up code, handshake, tools/list | {s_nuestro * 1000 - i_n:,.0f} | "
        f"{s_ref * 1000 - i_r:,.0f} |"
    )
    lineas.append(
        f"| **total (spawn → tools/list), this run, with importtime on** | **{s_nuestro * 1000:,.0f}** | "
        f"**{s_ref * 1000:,.0f}** |"
    )
    return "\n".join(lineas)
