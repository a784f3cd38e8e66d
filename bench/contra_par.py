"""Issue 13's HTTP rows: ours vs the Django + DRF peer and the no-op, under wrk, on the same data.

Every load run is Debian's ``wrk -t2 -c32`` (its 32 connections open at the
same instant) with ``bench/wrk.lua``, which checks every answer and counts
which of our workers served it: a warm-up of ``calentamiento`` seconds (its
own wrk run, discarded) and then the measured run.  Three servers, each with
2 worker processes, each started on the database under test:

- ours: ``soporte-mcp serve --transport http --workers 2`` (connections handed out in turn, see
  soporte_mcp/trabajadores.py);
- the reference no-op (``bench.referencia``) under the same worker spawning
  (``bench.servir --repartir``), the protocol's floor on our stack, running beside ours
  and measured before our first row and after each: a row's ratio is to the mean of the
  no-op runs just before and just after it;
- the peer: Django 5 + DRF under gunicorn ``-w 2`` sync (``bench/par``), on the
  same SQLite file or PostgreSQL database, in its own virtualenv.

Next to calls/s, each row gives the server's CPU per call (``/proc/<pid>/stat``
of the server and its workers, over the measured run), which the other
programs on a shared machine do not change much.  ``bench.carga`` (our own
generator) measures buscarCliente again beside wrk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from bench.bases import TRABAJO, Datos, comando, migrar
from bench.por_http import HOST, Servidor, Ventanas, cargar, entorno, nuestro, puerto_libre

RAIZ = Path(__file__).resolve().parents[1]
VENV_PAR = RAIZ / "bench" / "out" / "venv-par"
REQUISITOS_PAR = RAIZ / "bench" / "par" / "requirements.txt"
LUA = RAIZ / "bench" / "wrk.lua"
WRK = os.environ.get("WRK", "/usr/bin/wrk")
ARRANQUE_MAXIMO_S = 90.0
TRABAJADORES_PAR = 2  # gunicorn's sync workers of the peer, as ours and the no-op run 2


def venv_par() -> Path:
    """The peer's gunicorn, installing its virtualenv first if needed (bench-only dependencies)."""
    gunicorn = VENV_PAR / "bin" / "gunicorn"
    marca = VENV_PAR / ".instalado"
    if not marca.exists() or marca.read_text() != REQUISITOS_PAR.read_text():
        print("instalando el par Django + DRF en bench/out/venv-par ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV_PAR)], check=True)
        subprocess.run(
            [str(VENV_PAR / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r", str(REQUISITOS_PAR)],
            check=True,
        )
        marca.write_text(REQUISITOS_PAR.read_text())
    return gunicorn


@contextmanager
def arrancado(nombre: str, orden: list[str], env: dict[str, str], listo: Callable[[], bool]) -> Iterator[Servidor]:
    """Start ``orden``; yield once ``listo()``; stop it and its workers on exit."""
    registro = TRABAJO / f"http-{nombre}.stderr"
    with registro.open("wb") as err:
        proceso = subprocess.Popen(orden, env=env, cwd=RAIZ, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    s = Servidor(proceso, "", registro)
    try:
        limite = time.monotonic() + ARRANQUE_MAXIMO_S
        while True:
            if proceso.poll() is not None:
                raise RuntimeError(f"{nombre} terminó ({proceso.returncode}):\n{registro.read_text()}")
            with suppress(httpx2.TransportError):
                if listo():
                    break
            if time.monotonic() > limite:
                raise RuntimeError(f"{nombre} no respondió en {ARRANQUE_MAXIMO_S} s:\n{registro.read_text()}")
            time.sleep(0.1)  # start-up poll, bounded by the deadline
        yield s
    finally:
        arbol = s.procesos()
        proceso.terminate()
        try:
            proceso.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in arbol:
                with suppress(ProcessLookupError):
                    os.kill(pid, 9)
            proceso.wait()


def _get_ok(url: str) -> bool:
    return httpx2.get(url, timeout=5).status_code == 200


@contextmanager
def el_nuestro(url_db: str) -> Iterator[Servidor]:
    orden, env, puerto = nuestro(url_db, 2)
    base = f"http://{HOST}:{puerto}"
    with arrancado("soporte-2", orden, env, lambda: _get_ok(f"{base}/health")) as s:
        s.url = f"{base}/mcp"
        yield s


@contextmanager
def la_referencia() -> Iterator[Servidor]:
    puerto = puerto_libre()
    orden = [sys.executable, "-m", "bench.servir", "referencia", "--port", str(puerto), "--workers", "2", "--repartir"]
    base = f"http://{HOST}:{puerto}"
    sonda = {"jsonrpc": "2.0", "id": 0, "method": "ping", "params": {}}

    def listo() -> bool:
        return httpx2.post(f"{base}/mcp", json=sonda, headers={"accept": "application/json, text/event-stream"},
                           timeout=5).status_code < 500

    with arrancado("referencia-2-repartir", orden, entorno(PYTHONPATH=str(RAIZ)), listo) as s:
        s.url = f"{base}/mcp"
        yield s


@contextmanager
def el_par(url_db: str) -> Iterator[Servidor]:
    puerto = puerto_libre()
    orden = [str(venv_par()), "-w", str(TRABAJADORES_PAR), "-k", "sync", "-b", f"{HOST}:{puerto}",
             "--log-level", "warning", "bench.par.wsgi:application"]
    base = f"http://{HOST}:{puerto}"
    env = entorno(PYTHONPATH=str(RAIZ), PAR_DATABASE_URL=url_db)
    with arrancado("par-django", orden, env, lambda: _get_ok(f"{base}/clientes/1/saldo")) as s:
        s.url = base
        yield s


@dataclass(frozen=True)
class Wrk:
    """One measured wrk run: throughput, latency, failures, who served it, and the server's CPU."""

    que: str
    por_segundo: float
    p50_ms: float
    p99_ms: float
    respuestas: int
    malos: int  # non-2xx included
    no2xx: int
    errores_socket: int
    por_trabajador: dict[str, int]
    cpu_ms: float  # the server's CPU per answer, over the measured run
    nucleos_ajenos: float  # cores other processes used meanwhile, on average

    @property
    def fallo(self) -> bool:
        return self.malos > 0 or self.errores_socket > 0 or self.respuestas == 0

    @property
    def reparto(self) -> list[float]:
        total = sum(self.por_trabajador.values())
        return sorted((n / total for n in self.por_trabajador.values()), reverse=True) if total else []


def _wrk(url: str, segundos: float, argumentos: list[str]) -> dict:
    orden = [WRK, "-t2", "-c32", f"-d{max(1, round(segundos))}s", "--timeout", "10s", "-s", str(LUA), url, "--",
             *argumentos]
    salida = subprocess.run(orden, capture_output=True, text=True, check=False, cwd=RAIZ)
    linea = next((x for x in salida.stdout.splitlines() if x.startswith("RESULTADO ")), None)
    if linea is None:
        raise RuntimeError(f"wrk no dio resultado ({salida.returncode}):\n{salida.stdout}\n{salida.stderr}")
    return json.loads(linea.removeprefix("RESULTADO "))


def medir_wrk(
    s: Servidor, que: str, url: str, argumentos: list[str], v: Ventanas, despues: Callable[[], None] | None = None
) -> Wrk:
    """A warm-up wrk run, then the measured one, with the server's CPU over the measured one.

    ``despues`` runs after each of them: for the peer, the wait until its workers have served
    what wrk left queued (``drenar_par``).
    """
    from bench.por_http import cpu_maquina_s

    _wrk(url, v.calentamiento, argumentos)
    if despues is not None:
        despues()
    cpu0, maquina0, t0 = s.cpu_por_proceso(), cpu_maquina_s(), time.monotonic()
    r = _wrk(url, v.segundos, argumentos)
    if despues is not None:
        despues()
    cpu = sum(c - cpu0.get(pid, 0.0) for pid, c in s.cpu_por_proceso().items())
    pared = time.monotonic() - t0
    # wrk's own CPU is not separately known here: "other" includes it (≈ 1 core at these rates).
    ajena = max(0.0, cpu_maquina_s() - maquina0 - cpu) / pared
    w = Wrk(
        que, r["respuestas"] / r["segundos"], r["p50_ms"], r["p99_ms"], r["respuestas"], r["malos"], r["no2xx"],
        r["errores_socket"], {k: int(n) for k, n in r["por_trabajador"].items()},
        cpu * 1000 / max(r["respuestas"], 1), ajena,
    )
    if w.fallo:
        print(f"  ⚠ {que}: {w.malos} respuestas malas ({w.no2xx} no 2xx), {w.errores_socket} errores de socket; "
              f"la primera: {r['primer_malo']}", file=sys.stderr)
    return w


def mcp(herramienta: str, argumentos: dict, ids: Path | None = None) -> list[str]:
    return ["mcp", herramienta, json.dumps(argumentos, ensure_ascii=False), str(ids) if ids else ""]


@dataclass
class Comparacion:
    """One question asked of ours, of the peer and of the no-op on one database."""

    que: str
    nuestro: Wrk
    par: Wrk | None
    noop: Wrk  # the no-op run just before ours
    carga: float | None = None  # ours under bench.carga (calls/s), beside wrk
    # The no-op run just after ours: a shared host's speed drifts (the no-op's own CPU per call
    # moved 0.71 → 1.20 ms within one session), and the mean of the two runs that bracket ours
    # is the floor at the time ours was measured (see ``comparar``).
    noop_despues: Wrk | None = None

    @property
    def noops(self) -> list[Wrk]:
        return [self.noop] + ([self.noop_despues] if self.noop_despues else [])

    @property
    def noop_por_segundo(self) -> float:
        return sum(w.por_segundo for w in self.noops) / len(self.noops)

    @property
    def noop_cpu_ms(self) -> float:
        return sum(w.cpu_ms for w in self.noops) / len(self.noops)

    @property
    def noop_fallo(self) -> bool:
        return any(w.fallo for w in self.noops)

    @property
    def frente_al_par(self) -> float | None:
        return self.nuestro.por_segundo / self.par.por_segundo if self.par and self.par.por_segundo else None

    @property
    def frente_al_noop(self) -> float:
        return self.nuestro.por_segundo / self.noop_por_segundo if self.noop_por_segundo else 0.0


@dataclass
class Resultado:
    backend: str
    clientes: int
    comparaciones: list[Comparacion] = field(default_factory=list)
    pago: Comparacion | None = None


def preguntas(datos: Datos) -> list[tuple[str, list[str], str, str]]:
    """(what, our wrk arguments, the peer's path, a text the peer's good answer holds)."""
    saldo_ids = TRABAJO / "saldo-ids.json"
    saldo_ids.write_text(json.dumps(list(datos.activos[:1000])))
    filas = []
    for tipo in ("common surname", "rare surname pair", "email fragment"):
        q = datos.busquedas[tipo]
        filas.append((f"buscarCliente, {tipo} ({q!r})", mcp("buscarCliente", {"query": q}),
                      f"/clientes/buscar?q={_url(q)}", '"clientes":'))
    filas.append(("consultarSaldo (random active customer)", mcp("consultarSaldo", {}, saldo_ids),
                  "/clientes/{id}/saldo", '"resumen":'))
    return filas


def _url(texto: str) -> str:
    from urllib.parse import quote

    return quote(texto)


def comparar(url_db: str, backend: str, datos: Datos, v: Ventanas, con_carga: bool, con_pago: bool) -> Resultado:
    """All of issue 13's questions on one database: no-op, ours (wrk and carga), the peer, the payment.

    Ours and the no-op run side by side (the one not measured sits idle), and the no-op is
    measured before our first row and again after each of ours: each row's ratio is to the
    mean of the two no-op runs that bracket it, ≈ 20 s apart, rather than to runs a minute
    or more away (a shared host's speed drifts over that time: the no-op ran at 3,746 and
    then 4,204 calls/s around the same four rows in one run of this suite).
    """
    res = Resultado(backend, datos.clientes)
    etiqueta = f"{backend} {datos.clientes:,}"
    lista = preguntas(datos)
    nuestros: dict[str, Wrk] = {}
    cargas: dict[str, float] = {}
    with la_referencia() as ref, el_nuestro(url_db) as s:
        def noop(cual: str) -> Wrk:
            return medir_wrk(ref, f"{etiqueta}: no-op, {cual}", ref.url, mcp("noop", {}), v)

        noops = [noop("first")]
        for que, argumentos, _, _ in lista:
            nuestros[que] = medir_wrk(s, f"{etiqueta}: ours, {que}", s.url, argumentos, v)
            noops.append(noop(f"after ours, {que}"))
        if con_carga:
            que, argumentos = lista[0][0], lista[0][1]
            c = cargar(s, f"{etiqueta}: ours under bench.carga, {que}", argumentos[1], json.loads(argumentos[2]),
                       32, v, escalon_ms=0.0)
            cargas[que] = c.serie.por_segundo
        if con_pago:
            activos = TRABAJO / "pago-ids.json"
            activos.write_text(json.dumps(list(datos.activos)))
            pago = medir_wrk(s, f"{etiqueta}: ours, registrarPago", s.url, mcp(
                "registrarPago", {"monto": "10.00", "metodoPago": "tarjeta", "descripcion": "bench-wrk"}, activos), v)
            res.pago = Comparacion("registrarPago (random active customer)", pago, None, noops[-1],
                                   noop_despues=noop("after ours, registrarPago"))
    pares: dict[str, Wrk] = {}
    with el_par(url_db) as s:
        for que, _, ruta, esperado in lista:
            ids = str(TRABAJO / "saldo-ids.json") if "{id}" in ruta else ""
            pares[que] = medir_wrk(s, f"{etiqueta}: Django peer, {que}", s.url, ["get", ruta, esperado, ids], v,
                                   despues=lambda: drenar_par(s.url, datos.activos[0]))
    for i, (que, *_) in enumerate(lista):
        res.comparaciones.append(Comparacion(que, nuestros[que], pares[que], noops[i], cargas.get(que), noops[i + 1]))
    return res


DRENAJE_MAXIMO_S = 300.0


def drenar_par(base: str, cliente_id: int) -> None:
    """Wait until the peer's workers have served every request wrk left queued when it stopped.

    gunicorn's sync workers go on serving the connections wrk opened and then dropped,
    one by one: after a slow row (a full-table ``icontains`` on 1,000,000 customers on
    PostgreSQL, ≈ 1 s a query for the email fragment) they were still at it for tens of
    seconds, and the next rows measured 0 answers in 8 s. One request per worker, sent
    together, is served once each worker has reached the end of that queue.
    """
    with ThreadPoolExecutor(TRABAJADORES_PAR) as grupo:
        for r in grupo.map(lambda _: httpx2.get(f"{base}/clientes/{cliente_id}/saldo", timeout=DRENAJE_MAXIMO_S),
                           range(TRABAJADORES_PAR)):
            r.raise_for_status()


# ---- never frozen: one worker, another process holds SQLite's write lock ----

RETENER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("bloqueado", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@dataclass(frozen=True)
class Congelado:
    sondas: int
    max_vivo_ms: float
    max_lectura_ms: float
    pago_ms: float  # from the lock's start to the payment's answer
    pago_ok: str  # "ok", or the error code it answered


def nunca_congelado(ruta: Path, segundos: float = 3.0) -> Congelado:
    """``/health/live`` and buscarCliente on one worker while another process holds the write lock."""
    orden, env, puerto = nuestro(f"sqlite:///{ruta}", 1)
    base = f"http://{HOST}:{puerto}"
    cabeceras = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28",
                 "mcp-method": "tools/call"}
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}}

    def llamada(herramienta: str, argumentos: dict) -> dict:
        return {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": herramienta, "arguments": argumentos, "_meta": meta}}

    import threading

    with (
        arrancado("soporte-1-bloqueo", orden, env, lambda: _get_ok(f"{base}/health")),
        httpx2.Client(timeout=30) as http,
    ):
        http.post(f"{base}/mcp", json=llamada("buscarCliente", {"query": "garcia"}),
                  headers=cabeceras | {"mcp-name": "buscarCliente"})
        retenedor = subprocess.Popen([sys.executable, "-c", RETENER, str(ruta), str(segundos)],
                                     stdout=subprocess.PIPE, text=True)
        retenedor.stdout.readline()
        t0 = time.monotonic()
        pago: dict = {}

        def pagar() -> None:
            with httpx2.Client(timeout=30) as otro:
                r = otro.post(f"{base}/mcp", json=llamada("registrarPago", {"clienteId": 2, "monto": "1.00",
                              "metodoPago": "efectivo", "descripcion": "bench-bloqueo"}),
                              headers=cabeceras | {"mcp-name": "registrarPago"}).json()["result"]
            pago["ms"] = (time.monotonic() - t0) * 1000
            pago["ok"] = r["structuredContent"].get("codigo", "?") if r["isError"] else "ok"

        hilo = threading.Thread(target=pagar)
        hilo.start()
        vivos, lecturas = [], []
        while retenedor.poll() is None:
            a = time.monotonic()
            http.get(f"{base}/health/live").raise_for_status()
            b = time.monotonic()
            r = http.post(f"{base}/mcp", json=llamada("buscarCliente", {"query": "garcia"}),
                          headers=cabeceras | {"mcp-name": "buscarCliente"}).json()["result"]
            c = time.monotonic()
            if r["isError"]:
                raise RuntimeError(f"la lectura falló durante el bloqueo: {r}")
            vivos.append((b - a) * 1000)
            lecturas.append((c - b) * 1000)
        retenedor.stdout.close()
        hilo.join(30)
    return Congelado(len(vivos), max(vivos), max(lecturas), pago.get("ms", float("nan")),
                     pago.get("ok", "sin respuesta"))


# ---- PostgreSQL: one database per size, seeded once, both servers on it ----

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_sembrada(clientes: int) -> str | None:
    """The URL of ``soporte_bench_<N>`` (seeded once with ``soporte-mcp seed``), or None without PostgreSQL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    nombre = f"soporte_bench_{clientes}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            existe = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": nombre}).first()
            if not existe:
                conn.execute(text(f'CREATE DATABASE "{nombre}"'))
        admin.dispose()
    except Exception as exc:
        print(f"PostgreSQL no disponible ({exc.__class__.__name__}): sin filas de PostgreSQL", file=sys.stderr)
        return None
    url = make_url(PG_ADMIN).set(database=nombre).render_as_string(hide_password=False)
    motor = create_engine(url)
    try:
        with motor.connect() as conn:
            hay = conn.execute(text("SELECT to_regclass('clientes') IS NOT NULL")).scalar()
            n = conn.execute(text("SELECT count(*) FROM clientes")).scalar() if hay else 0
    finally:
        motor.dispose()
    if n < clientes:
        print(f"sembrando {nombre} con `soporte-mcp seed --clientes {clientes}` ...", file=sys.stderr, flush=True)
        subprocess.run([comando(), "--database-url", url, "seed", "--limpiar", "--clientes", str(clientes)],
                       check=True, stdout=subprocess.DEVNULL, env=entorno())
    else:  # seeded by an earlier version: bring its schema to ours (a no-op when it is)
        migrar(url, entorno())
    # Fresh planner statistics, as a database that has served a while has them (autovacuum).
    motor = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with motor.connect() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        motor.dispose()
    return url


# ---- the report ----

def _reparto(w: Wrk) -> str:
    return " / ".join(f"{x:.0%}" for x in w.reparto) or "—"


def tabla(resultados: list[Resultado]) -> str:
    lineas = [
        "| backend, customers | question | ours: calls/s (wrk) | ours: server CPU ms/call | Django peer: calls/s "
        "| peer: server CPU ms/call | no-op: calls/s (before / after ours) | no-op: CPU ms/call | ours ÷ peer "
        "| ours ÷ no-op (mean of both) "
        "| ours under bench.carga | our workers' shares | bad answers (ours/peer/no-op) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in resultados:
        for c in r.comparaciones + ([r.pago] if r.pago else []):
            par = c.par
            lineas.append(
                f"| {r.backend}, {r.clientes:,} | {c.que} | {c.nuestro.por_segundo:,.0f} | {c.nuestro.cpu_ms:.2f} "
                f"| {f'{par.por_segundo:,.0f}' if par else '—'} | {f'{par.cpu_ms:.2f}' if par else '—'} "
                f"| {' / '.join(f'{w.por_segundo:,.0f}' for w in c.noops)} | {c.noop_cpu_ms:.2f} "
                f"| {f'{c.frente_al_par:.2f}' if c.frente_al_par else '—'} | {c.frente_al_noop:.2f} "
                f"| {f'{c.carga:,.0f}' if c.carga else '—'} | {_reparto(c.nuestro)} "
                f"| {c.nuestro.malos + c.nuestro.errores_socket}/"
                f"{(par.malos + par.errores_socket) if par else '—'}/"
                f"{sum(w.malos + w.errores_socket for w in c.noops)} |"
            )
    return "\n".join(lineas)
