"""The benchmark suite of issue 5, in one command: ``python -m bench.run [--quick]``.

Builds (once) ``bench/out/1000.db`` and ``bench/out/1000000.db`` with ``soporte-mcp seed``,
measures on fresh copies of them, and prints one Markdown table -- every figure as
median and p99, each of ours next to the reference server measured in the same run,
as a ratio -- then the issue's targets, ``db check`` after the payments, and the
measurements that say what limits each target that is not met.

    --quick   small counts on 1,000 and 5,000 customers, a smoke run of every row
    default   the full run on 100,000 and 1,000,000 customers (≈ 15 min; the first one also
              seeds them, ≈ 75 s per million on SQLite, longer on PostgreSQL), the one
              bench/RESULTS.md records

Progress goes to stderr; the report to stdout (``python -m bench.run > informe.md``).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import anyio

from bench import bases, contra_par, desglose, inproceso, por_http, por_stdio
from bench.informe import Fila, FilaValor, Objetivo, objetivo, tabla, tabla_objetivos
from bench.medicion import Limites
from bench.por_http import Ventanas

RAIZ = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Perfil:
    inproceso: Limites
    desglose: Limites | None
    stdio: Limites
    arranques: int
    http: Ventanas
    control: Ventanas
    wrk: Ventanas  # issue 13: wrk's warm-up and measured run (whole seconds)


COMPLETO = Perfil(
    inproceso=Limites(llamadas=2000, segundos=4.0, calentamiento=50),
    desglose=Limites(llamadas=1000, segundos=3.0, calentamiento=50),
    stdio=Limites(llamadas=1000, segundos=4.0, calentamiento=20),
    arranques=10,
    http=Ventanas(segundos=8.0, calentamiento=1.0, max_llamadas=200_000),
    control=Ventanas(segundos=4.0, calentamiento=0.5, max_llamadas=10_000),
    wrk=Ventanas(segundos=8.0, calentamiento=2.0, max_llamadas=1_000_000),
)
RAPIDO = Perfil(
    inproceso=Limites(llamadas=100, segundos=0.3, calentamiento=10),
    desglose=None,
    stdio=Limites(llamadas=100, segundos=0.5, calentamiento=5),
    arranques=2,
    http=Ventanas(segundos=0.8, calentamiento=0.2, max_llamadas=20_000),
    control=Ventanas(segundos=0.8, calentamiento=0.2, max_llamadas=1_000),
    wrk=Ventanas(segundos=1.0, calentamiento=1.0, max_llamadas=100_000),
)


def progreso(texto: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {texto}", file=sys.stderr, flush=True)


@dataclass
class Informe:
    filas: list[Fila | FilaValor]
    diagnosticos: list[tuple[str, str]]  # (title, Markdown)
    comprobaciones: list[str]
    par: list[contra_par.Resultado] = field(default_factory=list)  # issue 13: vs the Django peer, under wrk
    congelado: contra_par.Congelado | None = None
    pago_db_check: bool = False


async def en_proceso_y_stdio(p: Perfil, dbs: dict[int, tuple[Path, bases.Datos]], informe: Informe) -> None:
    for clientes, (ruta, datos) in dbs.items():
        progreso(f"in-process, {clientes:,} customers")
        informe.filas += await inproceso.filas(bases.url(ruta), datos, p.inproceso)
    ruta, datos = dbs[max(dbs)]
    if p.desglose:
        progreso("in-process breakdown by layer, and a profile of the services")
        informe.diagnosticos.append(
            (
                f"Where an in-process call's time goes ({datos.clientes:,} customers)",
                await desglose.desglose(bases.url(ruta), datos, p.desglose),
            )
        )
        informe.diagnosticos.append(
            (
                "The SDK client's outputSchema check (jsonschema) with simpler schemas",
                await desglose.esquemas(bases.url(ruta), datos),
            )
        )
        informe.diagnosticos.append(
            (
                "Inside our services (called directly, no MCP): cProfile by library",
                desglose.perfil_servicios(bases.url(ruta), datos, p.desglose.llamadas),
            )
        )
        informe.diagnosticos.append(
            (
                "SQLite's write lock: buscarCliente's service (no MCP) in 1 and in 2 processes at once",
                desglose.escalado_sqlite(bases.url(ruta), p.desglose.segundos),
            )
        )
    progreso(f"stdio: {p.arranques} cold starts of each server, round trips")
    informe.filas += await por_stdio.filas(bases.url(ruta), datos, p.stdio, p.arranques)
    if p.desglose:
        informe.diagnosticos.append(
            (
                "Where the stdio cold start goes (one start each, -X importtime)",
                await por_stdio.desglose_arranque(bases.url(ruta)),
            )
        )


def db_check(ruta: Path) -> str:
    r = subprocess.run(
        [bases.comando(), "--database-url", bases.url(ruta), "db", "check"],
        capture_output=True,
        text=True,
        check=False,
        env=por_http.entorno(),
    )
    with sqlite3.connect(f"file:{ruta}?mode=ro", uri=True) as conn:
        pagos = conn.execute("SELECT count(*) FROM pagos WHERE descripcion LIKE 'bench%'").fetchone()[0]
    salida = (r.stdout + r.stderr).strip().replace("\n", " / ")
    veredicto = "passes" if r.returncode == 0 else f"**FAILS (exit {r.returncode})**"
    return (
        f"`soporte-mcp db check` on {ruta.name} after this run's {pagos:,} payments: {veredicto} — {salida}"
    )


def objetivos(filas: list[Fila | FilaValor], grande: int) -> list[Objetivo]:
    por_clave = {f.clave: f for f in filas if isinstance(f, Fila) and f.clave}

    def r(*claves: str) -> list[float]:
        return [por_clave[c].ratio for c in claves if c in por_clave]

    tipos = ["common surname", "rare surname pair", "email fragment", "matches nobody"]
    m = f"{grande:,}"
    return [
        objetivo(
            f"`consultarSaldo`, in-process, median ({m} customers)",
            "≤ 1.5 × the no-op tool",
            r(f"inproceso-{grande}-consultarSaldo"),
            lambda x: x <= 1.5,
        ),
        objetivo(
            f"`buscarCliente` on {m} customers, in-process, median ({', '.join(tipos)})",
            "≤ 2 × the no-op tool",
            r(*(f"inproceso-{grande}-buscarCliente-{t}" for t in tipos)),
            lambda x: x <= 2,
        ),
        objetivo(
            f"`registrarPago`, in-process, calls per second ({m} customers)",
            "≥ 0.5 × the no-op tool",
            r(f"inproceso-{grande}-registrarPago"),
            lambda x: x >= 0.5,
        ),
        objetivo(
            "stdio cold start (median)",
            "≤ 1.1 × the reference server",
            r("stdio-arranque"),
            lambda x: x <= 1.1,
        ),
        objetivo(
            "HTTP `buscarCliente`, 2 workers, concurrency 32, calls per second",
            "≥ 1 × the reference server",
            r("http-2-buscarCliente-32"),
            lambda x: x >= 1,
        ),
    ]


def objetivos_13(informe: Informe, filas: list[Fila | FilaValor]) -> list[Objetivo]:
    """Issue 13's targets, each from ratios measured in this run (no ratio measured: not met)."""

    def o(que: str, meta: str, ratios: list[float], cumple) -> Objetivo:
        hecho = objetivo(que, meta, ratios, cumple)
        return hecho if ratios else Objetivo(que, meta, "not measured", False)

    res: list[Objetivo] = []
    for r in informe.par:
        # The peer's wrk timeouts only lower its calls/s (a full scan per search on SQLite); a wrong
        # answer from any server, or any socket error of ours or the no-op's, fails the row.
        sana = [c for c in r.comparaciones if not (c.nuestro.fallo or (c.par and c.par.malos) or c.noop_fallo)]
        enfermas = len(r.comparaciones) - len(sana)
        nota = f" ({enfermas} run(s) with bad answers: not met)" if enfermas else ""
        if r.backend == "SQLite":
            res.append(o(f"HTTP 2 workers c=32 (wrk), SQLite {r.clientes:,}: 3 searches + consultarSaldo vs the "
                         f"Django peer{nota}", "≥ 1.5 × the peer",
                         [c.frente_al_par for c in r.comparaciones if c.frente_al_par] if not enfermas else [],
                         lambda x: x >= 1.5))
            res.append(o(f"the same vs the no-op reference{nota}", "≥ 0.5 × the no-op",
                         [c.frente_al_noop for c in r.comparaciones] if not enfermas else [], lambda x: x >= 0.5))
        else:
            res.append(o(f"HTTP 2 workers c=32 (wrk), PostgreSQL {r.clientes:,}: 3 searches + consultarSaldo vs the "
                         f"Django peer on the same database{nota}", "≥ 1 × the peer",
                         [c.frente_al_par for c in r.comparaciones if c.frente_al_par] if not enfermas else [],
                         lambda x: x >= 1))
    pagos = [r.pago for r in informe.par if r.pago]
    res.append(o("`registrarPago` HTTP 2 workers c=32 (wrk), SQLite, `db check` passing",
                 "≥ 0.4 × the no-op",
                 [p.frente_al_noop for p in pagos if not p.nuestro.fallo] if informe.pago_db_check else [],
                 lambda x: x >= 0.4))
    repartos = [x for r in informe.par for c in r.comparaciones + ([r.pago] if r.pago else [])
                for x in c.nuestro.reparto]
    corridas = [c.nuestro for r in informe.par for c in r.comparaciones + ([r.pago] if r.pago else [])]
    completos = all(len(w.reparto) == 2 for w in corridas)
    res.append(Objetivo(
        "spread: 32 connections opened at once on our 2 workers, every wrk run above",
        "each worker 35–65 % of the calls",
        f"shares from {min(repartos, default=0):.0%} to {max(repartos, default=0):.0%} over {len(corridas)} runs",
        bool(repartos) and completos and all(0.35 <= x <= 0.65 for x in repartos),
    ))
    c = informe.congelado
    res.append(Objetivo(
        "never frozen: another process holds SQLite's write lock for 3 s, 1 worker",
        "/health/live and a read ≤ 200 ms throughout; the payment completes after or answers the retryable error",
        (f"{c.sondas} probes: /health/live max {c.max_vivo_ms:.0f} ms, buscarCliente max {c.max_lectura_ms:.0f} ms; "
         f"payment answered {c.pago_ok!r} {c.pago_ms:.0f} ms after the lock was taken") if c else "not measured",
        bool(c) and c.max_vivo_ms <= 200 and c.max_lectura_ms <= 200
        and (c.pago_ok == "base_de_datos_no_disponible" or (c.pago_ok == "ok" and c.pago_ms >= 2900)),
    ))
    arranque = [f.ratio for f in filas if isinstance(f, Fila) and f.clave == "stdio-arranque" and f.ratio]
    res.append(o("stdio cold start (spawn → tools/list), median", "≤ 1.1 × the reference server", arranque,
                 lambda x: x <= 1.1))
    return res


def maquina() -> str:
    modelo = next(
        (
            linea.split(":", 1)[1].strip()
            for linea in subprocess.run(
                ["lscpu"], capture_output=True, text=True, check=False
            ).stdout.splitlines()
            if linea.startswith("Model name")
        ),
        platform.processor(),
    )
    memoria = (
        next(
            int(linea.split()[1])
            for linea in Path("/proc/meminfo").read_text().splitlines()
            if linea.startswith("MemTotal")
        )
        / 1024**2
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=RAIZ
    ).stdout.strip()
    cambios = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True, check=False, cwd=RAIZ
    ).stdout.strip()
    commit = f"{commit or '?'}{' + uncommitted changes in src/' if cambios else ''}"
    return (
        f"{modelo}, {os.cpu_count()} cores, {memoria:.0f} GiB RAM · "
        f"{platform.system()} {platform.release()} · "
        f"Python {platform.python_version()} · SQLite {sqlite3.sqlite_version} · mcp {version('mcp')} · "
        f"uvicorn {version('uvicorn')} · soporte-mcp {version('soporte-mcp')} (git {commit})"
    )


class CpuAjena:
    """CPU the rest of the machine used while the suite ran (other users' processes compete with ours)."""

    def __init__(self) -> None:
        self.maquina0, self.nuestra0, self.t0 = self._maquina(), self._nuestra(), time.monotonic()

    @staticmethod
    def _maquina() -> float:
        campos = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(campos[:8]) - campos[3] - campos[4]) / os.sysconf("SC_CLK_TCK")  # all but idle, iowait

    @staticmethod
    def _nuestra() -> float:
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    def resumen(self) -> str:
        pared = time.monotonic() - self.t0
        ajena = max(0.0, (self._maquina() - self.maquina0) - (self._nuestra() - self.nuestra0))
        return (
            f"{pared:.0f} s wall; this suite's processes used {self._nuestra() - self.nuestra0:.0f} CPU-s, "
            f"other processes on the machine {ajena:.0f} CPU-s (an average {ajena / pared:.2f} of the "
            f"{os.cpu_count()} cores)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run of the whole suite")
    parser.add_argument(
        "--clientes",
        type=int,
        nargs=2,
        default=None,
        metavar=("SMALL", "LARGE"),
        help="the two database sizes (default 100000 1000000; with --quick 1000 5000)",
    )
    parser.add_argument("--sin-postgres", action="store_true", help="skip issue 13's PostgreSQL rows")
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    perfil = RAPIDO if args.quick else COMPLETO
    args.clientes = args.clientes or ([1000, 5000] if args.quick else [100_000, 1_000_000])
    cpu = CpuAjena()
    descripcion = maquina()  # at the start: other people may commit while the suite runs
    dbs = {}
    for n in args.clientes:
        progreso(f"database of {n:,} customers: bench/out/{n}.db → fresh working copy")
        ruta = bases.copia_de_trabajo(bases.sembrada(n))
        dbs[n] = (ruta, bases.datos(ruta, n))
    informe = Informe([], [], [])
    anyio.run(en_proceso_y_stdio, perfil, dbs, informe)
    progreso("HTTP: reference and ours, 1 and 2 workers, concurrency 1 and 32; TCP_NODELAY control")
    ruta, datos = dbs[max(dbs)]
    http = por_http.medir(bases.url(ruta), datos, perfil.http, perfil.control)
    informe.filas += http.filas
    informe.diagnosticos.append(
        ("HTTP: CPU per call on each side of the socket", por_http.tabla_cpu(http.cargas))
    )
    informe.diagnosticos.append(
        ("HTTP: 2 workers at concurrency 1, with and without TCP_NODELAY", http.nodelay)
    )
    if perfil.desglose:
        progreso("HTTP: 2 workers, 32 connections opened at once vs staggered")
        informe.diagnosticos.append(
            (
                "HTTP: how 2 workers share 32 keep-alive connections (reference server, fresh starts)",
                por_http.rafaga(Ventanas(segundos=2.0, calentamiento=0.5, max_llamadas=100_000)),
            )
        )
    issue_13(perfil, dbs, informe, postgres=not args.sin_postgres)
    progreso("db check")
    informe.comprobaciones += [db_check(r) for r, _ in dbs.values()]
    informe.pago_db_check = all("passes" in linea for linea in informe.comprobaciones)
    imprimir(informe, max(dbs), "quick" if args.quick else "full", descripcion, cpu.resumen())


def issue_13(p: Perfil, dbs: dict[int, tuple[Path, bases.Datos]], informe: Informe, *, postgres: bool) -> None:
    """Ours vs the Django peer and the no-op under wrk (SQLite, then PostgreSQL), the lock probe."""
    for n, (ruta, datos) in sorted(dbs.items()):
        progreso(f"issue 13: wrk, ours / Django peer / no-op, SQLite {n:,} customers")
        informe.par.append(contra_par.comparar(bases.url(ruta), "SQLite", datos, p.wrk, con_carga=True,
                                               con_pago=n == max(dbs)))
    if postgres:
        for n, (_, datos) in sorted(dbs.items()):
            progreso(f"issue 13: PostgreSQL {n:,} customers (seeded once), ours / Django peer / no-op")
            url = contra_par.pg_sembrada(n)
            if url:
                informe.par.append(contra_par.comparar(url, "PostgreSQL", datos, p.wrk, con_carga=False,
                                                       con_pago=False))
    progreso("issue 13: never frozen (3 s write lock held by another process)")
    ruta, _ = dbs[min(dbs)]
    informe.congelado = contra_par.nunca_congelado(ruta)


def imprimir(informe: Informe, grande: int, modo: str, descripcion: str, cpu: str) -> None:
    print(f"## soporte-mcp benchmark ({modo} run, {time.strftime('%Y-%m-%d %H:%M')})\n")
    print(f"Machine: {descripcion}.  \n{cpu}.\n")
    print(
        "Ratios compare ours with the reference server (one async no-op tool) measured in the same run: "
        "the median latency for latency rows (lower is better), calls per second for throughput rows "
        "(higher is better). HTTP load: raw 2026-07-28 JSON-RPC POSTs from a separate process "
        "(`bench/carga.py`; callers open their keep-alive connections 10 ms apart during the warm-up), "
        "which shares the 2 cores with the server (its CPU per call is below).\n"
    )
    print(tabla(informe.filas))
    print("\n### Targets of issue 5\n")
    print(tabla_objetivos(objetivos(informe.filas, grande)))
    if informe.par:
        print("\n### Issue 13: HTTP, 2 workers, `wrk -t2 -c32` (connections opened at once), every answer checked\n")
        print(contra_par.tabla(informe.par))
        print("\n### Targets of issue 13\n")
        print(tabla_objetivos(objetivos_13(informe, informe.filas)))
    print()
    for linea in informe.comprobaciones:
        print(f"- {linea}")
    for titulo, cuerpo in informe.diagnosticos:
        print(f"\n### {titulo}\n\n{cuerpo}")


if __name__ == "__main__":
    main()
