"""Streamable HTTP: calls per second at concurrency 1 and 32 with 1 and 2 workers, and peak RSS.

Ours runs as an operator runs it, ``soporte-mcp serve --transport http --workers N``;
the reference through ``bench.servir`` with the same uvicorn options.  The load
comes from ``bench.carga`` in a separate process.  With 2 cores, the load
generator competes with the server for CPU: its CPU per call is measured and
printed next to the server's (read from ``/proc/<pid>/stat`` of the server and
its workers), and peak RSS is ``VmHWM`` of the same processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from bench.bases import TRABAJO, Datos, comando
from bench.carga import META, PROTOCOLO
from bench.informe import Fila, FilaValor
from bench.medicion import Serie
from bench.referencia import NOOP as NOOP_TOOL

RAIZ = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
ARRANQUE_MAXIMO_S = 90.0
ESCALON_MS = 10.0


@dataclass(frozen=True)
class Ventanas:
    """How long each load run lasts (seconds) and how many calls it may make at most."""

    segundos: float
    calentamiento: float
    max_llamadas: int


@dataclass
class Servidor:
    proceso: subprocess.Popen[bytes]
    url: str
    registro: Path

    def procesos(self) -> list[int]:
        """The server's pid and those of all its descendants (uvicorn's workers)."""
        hijos: dict[int, list[int]] = {}
        for entrada in Path("/proc").iterdir():
            if entrada.name.isdigit():
                try:
                    ppid = int((entrada / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue  # it ended while we looked
                hijos.setdefault(ppid, []).append(int(entrada.name))
        todos, pendientes = [], [self.proceso.pid]
        while pendientes:
            pid = pendientes.pop()
            todos.append(pid)
            pendientes += hijos.get(pid, [])
        return todos

    def cpu_s(self) -> float:
        return sum(self.cpu_por_proceso().values())

    def cpu_por_proceso(self) -> dict[int, float]:
        """CPU seconds (user + system) each process of the server has used so far."""
        cpu = {}
        for pid in self.procesos():
            with suppress(OSError, IndexError, ValueError):  # it ended between listing and reading
                campos = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu[pid] = (int(campos[11]) + int(campos[12])) / CLK_TCK  # utime, stime
        return cpu

    def pico_rss_mb(self) -> dict[int, float]:
        """VmHWM (peak resident set) of each process of the server, in MB."""
        picos = {}
        for pid in self.procesos():
            with suppress(OSError, IndexError, ValueError):  # it ended between listing and reading
                for linea in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if linea.startswith("VmHWM:"):
                        picos[pid] = int(linea.split()[1]) / 1024
        return picos


def puerto_libre() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def entorno(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SOPORTE_")} | extra


@contextmanager
def servidor(nombre: str, orden: list[str], env: dict[str, str], puerto: int) -> Iterator[Servidor]:
    """Start ``orden``, wait until /mcp answers a tools/list, and stop it (and its workers) on exit."""
    registro = TRABAJO / f"http-{nombre}.stderr"
    with registro.open("wb") as err:
        proceso = subprocess.Popen(orden, env=env, cwd=RAIZ, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    s = Servidor(proceso, f"http://{HOST}:{puerto}/mcp", registro)
    try:
        _esperar(s)
        yield s
    finally:
        arbol = s.procesos()
        proceso.terminate()  # uvicorn stops its workers on SIGTERM
        try:
            proceso.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in arbol:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proceso.wait()


def _esperar(s: Servidor) -> None:
    cuerpo = {"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": {"_meta": META}}
    cabeceras = {
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": PROTOCOLO,
        "mcp-method": "tools/list",
    }
    limite = time.monotonic() + ARRANQUE_MAXIMO_S
    while time.monotonic() < limite:
        if s.proceso.poll() is not None:
            raise RuntimeError(f"el servidor terminó ({s.proceso.returncode}):\n{s.registro.read_text()}")
        try:
            if httpx2.post(s.url, json=cuerpo, headers=cabeceras, timeout=5).status_code == 200:
                return
        except httpx2.TransportError:
            pass  # not listening yet
        time.sleep(0.1)  # start-up poll, bounded by the deadline
    raise RuntimeError(f"{s.url} no respondió en {ARRANQUE_MAXIMO_S} s:\n{s.registro.read_text()}")


def nuestro(url_db: str, workers: int) -> tuple[list[str], dict[str, str], int]:
    puerto = puerto_libre()
    orden = [
        comando(),
        "--database-url",
        url_db,
        "serve",
        "--transport",
        "http",
        "--host",
        HOST,
        "--port",
        str(puerto),
        "--workers",
        str(workers),
    ]
    return orden, entorno(), puerto


def por_servir(app: str, workers: int, http: str, url_db: str = "") -> tuple[list[str], dict[str, str], int]:
    puerto = puerto_libre()
    orden = [
        sys.executable,
        "-m",
        "bench.servir",
        app,
        "--port",
        str(puerto),
        "--workers",
        str(workers),
        "--http",
        http,
    ]
    extra = {"SOPORTE_DATABASE_URL": url_db} if url_db else {}
    return orden, entorno(PYTHONPATH=str(RAIZ), **extra), puerto


@dataclass(frozen=True)
class Carga:
    """What one load run asked for, what it got, and the CPU it cost on each side."""

    que: str
    serie: Serie
    cpu_servidor_ms: float  # per call, warm-up included
    cpu_carga_ms: float  # the load generator's, per call
    nucleos_ajenos: float  # cores other processes on the machine used meanwhile, on average
    reparto: tuple[float, ...]  # each server process's share of the server's CPU, largest first


def cpu_maquina_s() -> float:
    """CPU seconds the whole machine has spent busy (all but idle and iowait), from /proc/stat."""
    campos = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(campos[:8]) - campos[3] - campos[4]) / CLK_TCK


def cpu_hijos_s() -> float:
    """CPU of this process's waited-for children (the load generators, once they end)."""
    uso = resource.getrusage(resource.RUSAGE_CHILDREN)
    return uso.ru_utime + uso.ru_stime


def cargar(
    s: Servidor,
    que: str,
    herramienta: str,
    argumentos: dict,
    concurrencia: int,
    v: Ventanas,
    clientes: Path | None = None,
    escalon_ms: float | None = None,
) -> Carga:
    """One run of ``bench.carga`` against ``s``, with the CPU both sides spent.

    The callers open their connections ``escalon_ms`` apart (by default 10 ms, or less
    to fit in half the warm-up): opened all at once, uvicorn's shared socket tends to
    hand every connection to the same worker (see ``rafaga``).
    """
    if escalon_ms is None:
        escalon_ms = min(ESCALON_MS, 1000 * v.calentamiento / 2 / concurrencia)
    orden = [
        sys.executable,
        "-m",
        "bench.carga",
        "--url",
        s.url,
        "--herramienta",
        herramienta,
        "--argumentos",
        json.dumps(argumentos),
        "--concurrencia",
        str(concurrencia),
        "--segundos",
        str(v.segundos),
        "--calentamiento",
        str(v.calentamiento),
        "--max-llamadas",
        str(v.max_llamadas),
        "--escalonar",
        str(escalon_ms),
    ]
    if clientes:
        orden += ["--clientes", str(clientes)]
    cpu0, maquina0, hijos0, t0 = s.cpu_por_proceso(), cpu_maquina_s(), cpu_hijos_s(), time.monotonic()
    salida = subprocess.run(
        orden, cwd=RAIZ, env=entorno(PYTHONPATH=str(RAIZ)), capture_output=True, text=True, check=True
    )
    por_proceso = {pid: c - cpu0.get(pid, 0.0) for pid, c in s.cpu_por_proceso().items()}
    cpu = sum(por_proceso.values())
    reparto = (
        tuple(sorted((c / cpu for c in por_proceso.values() if c > 0.01 * cpu), reverse=True)) if cpu else ()
    )
    ajena = (cpu_maquina_s() - maquina0) - cpu - (cpu_hijos_s() - hijos0)
    r = json.loads(salida.stdout)
    if r["errores"]:
        print(f"  ⚠ {que}: {r['errores']} errores; el primero: {r['primer_error']}", file=sys.stderr)
    serie = Serie(tuple(r["latencias_ms"]), r["segundos"], r["errores"])
    llamadas = r["llamadas"] + r["llamadas_calentamiento"]
    return Carga(
        que,
        serie,
        cpu * 1000 / max(llamadas, 1),
        r["cpu_s"] * 1000 / max(r["llamadas"], 1),
        max(0.0, ajena) / (time.monotonic() - t0),
        reparto,
    )


@dataclass
class ResultadoHttp:
    filas: list[Fila | FilaValor] = field(default_factory=list)
    cargas: list[Carga] = field(default_factory=list)
    nodelay: str = ""  # the TCP_NODELAY experiment, as a Markdown table


def _rss(s: Servidor) -> tuple[float, str]:
    picos = s.pico_rss_mb()
    return sum(picos.values()), " + ".join(f"{mb:.0f}" for mb in picos.values())


def medir(url_db: str, datos: Datos, v: Ventanas, control: Ventanas) -> ResultadoHttp:
    """The whole HTTP matrix, then the TCP_NODELAY control (2 workers, uvicorn's default h11)."""
    activos = TRABAJO / "activos.json"
    activos.write_text(json.dumps(list(datos.activos)))
    nuestras = [
        ("buscarCliente 'garcia'", "buscarCliente", {"query": "garcia"}, None),
        (
            "registrarPago: payments per second",
            "registrarPago",
            {"monto": "10.00", "metodoPago": "tarjeta", "descripcion": "bench-http"},
            activos,
        ),
    ]
    res = ResultadoHttp()
    con_nodelay: dict[str, Carga] = {}  # 2 workers, concurrency 1: the NoDelay side of the control
    for workers in (1, 2):
        seccion = f"HTTP, {workers} worker{'s' if workers > 1 else ''}"
        ref: dict[int, Carga] = {}
        with servidor(f"referencia-{workers}", *por_servir("referencia", workers, "nodelay")) as s:
            for c in (1, 32):
                ref[c] = cargar(s, f"{seccion}, reference no-op, c={c}", "noop", {}, c, v)
            rss_ref, _ = _rss(s)
        res.cargas += ref.values()
        if workers == 2:
            con_nodelay["referencia"] = ref[1]
        with servidor(f"soporte-{workers}", *nuestro(url_db, workers)) as s:
            for medida, herramienta, argumentos, clientes in nuestras:
                for c in (1, 32):
                    carga = cargar(s, f"{seccion}, {medida}, c={c}", herramienta, argumentos, c, v, clientes)
                    res.cargas.append(carga)
                    if (workers, herramienta, c) == (2, "buscarCliente", 1):
                        con_nodelay["soporte"] = carga
                    res.filas.append(
                        Fila(
                            seccion,
                            f"{medida}, concurrency {c}",
                            carga.serie,
                            ref[c].serie,
                            "llamadas/s",
                            clave=f"http-{workers}-{herramienta}-{c}",
                        )
                    )
            rss, partes = _rss(s)
        res.filas.append(
            FilaValor(
                seccion,
                "peak RSS of the server under the load above (VmHWM, summed over "
                f"its processes: {partes} MB)",
                rss,
                rss_ref,
                "MB",
            )
        )
    res.filas += _control_nodelay(url_db, control, res, con_nodelay)
    return res


def _control_nodelay(url_db: str, v: Ventanas, res: ResultadoHttp, con: dict[str, Carga]) -> list[Fila]:
    """2 workers at concurrency 1 under uvicorn's default ``http="h11"``: no TCP_NODELAY when accepted."""
    seccion = "HTTP, 2 workers, uvicorn default h11 (no NoDelayH11Protocol)"
    if v.segundos >= 2:  # full runs only: h11 with 1 worker, where asyncio sets TCP_NODELAY itself
        with servidor("referencia-1-h11", *por_servir("referencia", 1, "h11")) as s:
            res.cargas.append(
                cargar(s, "HTTP, 1 worker, h11 (control), reference no-op, c=1", "noop", {}, 1, v)
            )
    with servidor("referencia-2-h11", *por_servir("referencia", 2, "h11")) as s:
        ref = cargar(s, f"{seccion}, reference no-op, c=1", "noop", {}, 1, v)
    with servidor("soporte-2-h11", *por_servir("soporte", 2, "h11", url_db)) as s:
        nuestra = cargar(
            s, f"{seccion}, buscarCliente 'garcia', c=1", "buscarCliente", {"query": "garcia"}, 1, v
        )
    res.cargas += [ref, nuestra]
    lineas = [
        "| 2 workers, concurrency 1 | NoDelayH11Protocol: calls/s, median / p99 ms "
        "| uvicorn default h11: calls/s, median / p99 ms |",
        "| --- | --- | --- |",
    ]
    for nombre, clave, sin in (
        ("reference no-op", "referencia", ref),
        ("buscarCliente 'garcia'", "soporte", nuestra),
    ):
        a = con[clave].serie
        lineas.append(
            f"| {nombre} | {a.por_segundo:,.0f}, {a.mediana:.2f} / {a.p99:.2f} | "
            f"{sin.serie.por_segundo:,.0f}, {sin.serie.mediana:.2f} / {sin.serie.p99:.2f} |"
        )
    res.nodelay = "\n".join(lineas) + "\n\n" + mecanismo_nodelay()
    return [Fila(seccion, "buscarCliente 'garcia', concurrency 1", nuestra.serie, ref.serie, "llamadas/s")]


def rafaga(v: Ventanas, arranques: int = 3) -> str:
    """2 workers, 32 callers: connections opened all at once vs 10 ms apart, on fresh reference servers.

    Each fresh server first serves one caller (as in the matrix), then the 32; the
    table shows calls/s and how the server's CPU split between its processes.
    """
    lineas = [
        "| 32 connections opened | fresh start | calls/s | server CPU by process |",
        "| --- | --- | --- | --- |",
    ]
    for modo, escalon in (("all at once", 0.0), (f"{ESCALON_MS:.0f} ms apart", ESCALON_MS)):
        for i in range(1, arranques + 1):
            with servidor("referencia-rafaga", *por_servir("referencia", 2, "nodelay")) as s:
                cargar(s, "c=1", NOOP_TOOL, {}, 1, v)
                c = cargar(s, "c=32", NOOP_TOOL, {}, 32, v, escalon_ms=escalon)
            reparto = " / ".join(f"{x:.0%}" for x in c.reparto)
            lineas.append(f"| {modo} | {i} | {c.serie.por_segundo:,.0f} | {reparto} |")
    return "\n".join(lineas)


def tabla_cpu(cargas: list[Carga]) -> str:
    """Markdown: per load run, calls/s and the CPU each side spent per call (2 cores in all)."""
    lineas = [
        "| load run | calls/s | median / p99 ms | server CPU ms/call | load generator CPU ms/call "
        "| server CPU by process | cores busy: server + load generator | cores busy: other processes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in cargas:
        ocupados = (c.cpu_servidor_ms + c.cpu_carga_ms) * c.serie.por_segundo / 1000
        reparto = " / ".join(f"{x:.0%}" for x in c.reparto)
        lineas.append(
            f"| {c.que} | {c.serie.por_segundo:,.0f} | {c.serie.mediana:.2f} / {c.serie.p99:.2f} | "
            f"{c.cpu_servidor_ms:.2f} | {c.cpu_carga_ms:.2f} | {reparto} | {ocupados:.2f} | "
            f"{c.nucleos_ajenos:.2f} |"
        )
    return "\n".join(lineas)


def mecanismo_nodelay() -> str:
    """Show, on this machine, why several uvicorn workers answered 40 ms late without NoDelayH11Protocol.

    uvicorn binds the shared socket of ``--workers N`` itself (``Config.bind_socket``:
    ``socket.socket(AF_INET)``, so ``proto`` is 0); asyncio sets TCP_NODELAY on an accepted
    socket only when ``proto == IPPROTO_TCP``.  A server that creates its own socket
    (``loop.create_server(host=..., port=...)``, uvicorn's single-worker path) gets proto 6.
    """
    import uvicorn

    compartido = uvicorn.Config(
        "bench.referencia:app_http", host=HOST, port=0, log_level="warning"
    ).bind_socket()
    with compartido:
        proto_w, nodelay_w = asyncio.run(_aceptar(compartido))
    proto_1, nodelay_1 = asyncio.run(_aceptar(None))
    return (
        f"uvicorn's shared socket for --workers N: proto={proto_w} → accepted connection TCP_NODELAY="
        f"{nodelay_w}; a socket asyncio creates itself (1 worker): proto={proto_1} → TCP_NODELAY={nodelay_1}."
    )


async def _aceptar(sock: socket.socket | None) -> tuple[int, int]:
    aceptado: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Protocolo(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            s = transport.get_extra_info("socket")
            aceptado.set_result(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    loop = asyncio.get_running_loop()
    servidor = await (
        loop.create_server(Protocolo, sock=sock) if sock else loop.create_server(Protocolo, HOST, 0)
    )
    escucha = servidor.sockets[0]
    _, escritor = await asyncio.open_connection(HOST, escucha.getsockname()[1])
    nodelay = await asyncio.wait_for(aceptado, 5)
    escritor.close()
    servidor.close()
    return escucha.proto, nodelay
