"""Never frozen by a lock (issue 13): another process holds SQLite's write lock for 3 s.

One worker must keep answering ``/health/live`` and a read that needs no lock
while a payment waits for the lock in a thread; the payment completes once the
lock is released.  And reads' audit rows, written behind in batches, are all
there after a clean stop, and after a SIGKILL all but the last interval's.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx2
import pytest
from sqlalchemy import func, select

from soporte_mcp.db import diferido
from soporte_mcp.db.models import HistorialAccion
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from tests._procesos import sembrar, servidor_http

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]

BLOQUEO_S = 3.0
# The bound is 200 ms; a frozen worker answers after the whole 3 s. The per-probe bound
# here leaves room for a loaded 2-core CI machine's scheduling; the median must meet the issue's.
MAXIMO_POR_SONDA_S = 1.0
MEDIANA_MAXIMA_S = 0.2
CABECERAS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
}
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "pytest", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}

# Another process: takes the write lock, says so, holds it for the given seconds, releases it.
RETENER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("bloqueado", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print("liberado", flush=True)
"""


def cuerpo(herramienta: str, argumentos: dict) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": herramienta, "arguments": argumentos, "_meta": META},
    }


async def llamar(http: httpx2.AsyncClient, url: str, herramienta: str, argumentos: dict) -> dict:
    r = await http.post(url, json=cuerpo(herramienta, argumentos), headers=CABECERAS | {"mcp-name": herramienta})
    assert r.status_code == 200, r.text
    return r.json()["result"]


def archivo(url: str) -> str:
    return url.split(":///", 1)[1]


async def test_a_held_write_lock_freezes_neither_liveness_nor_reads_and_the_waiting_payment_completes(
    tmp_path: Path,
) -> None:
    url = sembrar(tmp_path)
    with servidor_http(url, tmp_path) as servidor:  # one worker
        async with httpx2.AsyncClient(timeout=30) as http:
            await llamar(http, servidor.mcp_url, "buscarCliente", {"query": "garcia"})  # warm
            retenedor = subprocess.Popen(
                [sys.executable, "-c", RETENER, archivo(url), str(BLOQUEO_S)], stdout=subprocess.PIPE, text=True
            )
            assert retenedor.stdout.readline().strip() == "bloqueado"
            bloqueado_en = time.monotonic()
            pago: dict = {}
            sondas: list[float] = []

            async def pagar() -> None:
                pago["resultado"] = await llamar(
                    http, servidor.mcp_url, "registrarPago",
                    {"clienteId": 2, "monto": "10.00", "metodoPago": "efectivo"},
                )
                pago["en"] = time.monotonic()

            async with anyio.create_task_group() as tg:
                tg.start_soon(pagar)
                while retenedor.poll() is None and time.monotonic() - bloqueado_en < BLOQUEO_S - 0.3:
                    t0 = time.monotonic()
                    vivo = await http.get(f"{servidor.base}/health/live")
                    leido = await llamar(http, servidor.mcp_url, "buscarCliente", {"query": "garcia"})
                    sondas.append(time.monotonic() - t0)
                    assert vivo.status_code == 200
                    assert not leido["isError"] and leido["structuredContent"]["total"] >= 1
            retenedor.wait(timeout=10)
            retenedor.stdout.close()
    assert len(sondas) >= 5
    assert max(sondas) < MAXIMO_POR_SONDA_S, sondas
    assert sorted(sondas)[len(sondas) // 2] < MEDIANA_MAXIMA_S, sondas
    assert not pago["resultado"]["isError"], pago["resultado"]
    assert pago["en"] - bloqueado_en > BLOQUEO_S - 0.3  # it waited for the lock, it was not refused early


def contar_consultas(url: str) -> int:
    conn = sqlite3.connect(archivo(url))
    try:
        return conn.execute("SELECT count(*) FROM historial_acciones WHERE tipo = 'consulta'").fetchone()[0]
    finally:
        conn.close()


def test_a_clean_stop_commits_every_read_audit_row_written_behind(db) -> None:
    with db.lectura() as conn:
        antes = conn.execute(select(func.count()).select_from(HistorialAccion)).scalar_one()
    for i in range(300):
        with operacion(db, Llamada(herramienta="prueba", argumentos={"i": i}), Tipo.CONSULTA):
            pass
    db.dispose()  # what a clean shutdown runs (and, for a uvicorn worker, the atexit hook)
    with db.lectura() as conn:
        assert conn.execute(select(func.count()).select_from(HistorialAccion)).scalar_one() == antes + 300


def test_a_read_audit_row_is_committed_within_the_interval(db) -> None:
    t0 = time.monotonic()
    with operacion(db, Llamada(herramienta="prueba"), Tipo.CONSULTA):
        pass
    assert db.vaciar_diferidas(timeout=5)
    # The writer thread wakes at most one interval after the row; a loaded machine adds scheduling delay.
    assert time.monotonic() - t0 < diferido.INTERVALO_S + 0.5


# A process that audits reads until killed, printing after each how many it has done.
LECTOR = """
import sys
from soporte_mcp.db.engine import Database
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
db = Database.from_url(sys.argv[1])
i = 0
while True:
    with operacion(db, Llamada(herramienta="prueba"), Tipo.CONSULTA):
        pass
    i += 1
    if i % 20 == 0:
        print(i, flush=True)
"""


def test_a_crash_loses_at_most_the_read_rows_of_the_last_interval(tmp_path: Path) -> None:
    url = sembrar(tmp_path)
    antes = contar_consultas(url)
    lector = subprocess.Popen([sys.executable, "-c", LECTOR, url], stdout=subprocess.PIPE, text=True)
    marcas: list[tuple[float, int]] = []
    for linea in lector.stdout:
        marcas.append((time.monotonic(), int(linea)))
        if marcas[-1][0] - marcas[0][0] > 1.5:
            break
    os.kill(lector.pid, signal.SIGKILL)
    muerto_en = time.monotonic()
    lector.wait()
    lector.stdout.close()
    guardadas = contar_consultas(url) - antes
    # Every read it reported over half a second before the kill had its row committed (the interval
    # is 50 ms; the margin absorbs a loaded machine's scheduling), and none is ever written twice.
    seguras = max(n for t, n in marcas if t < muerto_en - 0.5)
    assert seguras > 0
    assert seguras <= guardadas <= marcas[-1][1] + 20, (seguras, guardadas, marcas[-1])
