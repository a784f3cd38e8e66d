"""Reliability over real HTTP with two worker processes: load, retries, a crash, and hostile requests."""

from __future__ import annotations

import json
import os
import signal
import uuid
from decimal import Decimal
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from sqlalchemy import func, select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, HistorialAccion, Pago
from soporte_mcp.services.conciliacion import verificar_saldos
from tests._procesos import cli, sembrar, servidor_http
from tests.conftest import business_state

pytestmark = pytest.mark.anyio
CLIENTES = (1, 2, 4, 5, 6)


def leer(url: str):
    db = Database.from_url(url)
    try:
        with db.lectura() as conn:
            saldos = dict(conn.execute(select(Cliente.id, Cliente.saldo)).all())
            pagos = conn.execute(select(func.count()).select_from(Pago)).scalar_one()
            auditados = conn.execute(
                select(func.count()).select_from(HistorialAccion).where(HistorialAccion.tipo == "pago")
            ).scalar_one()
        return saldos, pagos, auditados, verificar_saldos(db=db)
    finally:
        db.dispose()


def plan(n: int) -> list[tuple[int, str, str]]:
    """n payments: (customer, amount, idempotency key), amounts with cents that must add up exactly."""
    return [(CLIENTES[i % len(CLIENTES)], f"{1 + i % 97}.{(i * 37) % 100:02d}", uuid.uuid4().hex) for i in range(n)]


async def enviar(url: str, pagos: list, clientes: int, repetir: int = 1) -> list[dict]:
    """Send ``pagos`` from ``clientes`` concurrent MCP sessions; each call ``repetir`` times (retries)."""
    resultados: list[dict] = []

    async def sesion(parte: list) -> None:
        async with Client(url) as c:
            for cliente_id, monto, clave in parte:
                for _ in range(repetir):
                    r = await c.call_tool("registrarPago", {"clienteId": cliente_id, "monto": monto,
                                                            "idempotencyKey": clave})
                    assert not r.is_error, r.content[0].text
                    resultados.append(r.structured_content)

    async with anyio.create_task_group() as tg:
        for i in range(clientes):
            tg.start_soon(sesion, pagos[i::clientes])
    return resultados


@pytest.mark.parametrize("repetir", [1, 2], ids=["sin-reintentos", "cada-pago-reintentado"])
async def test_500_payments_from_32_clients_across_2_workers_are_exact(tmp_path: Path, repetir: int) -> None:
    url = sembrar(tmp_path)
    antes, pagos_antes, _, _ = leer(url)
    pagos = plan(500)
    with servidor_http(url, tmp_path, "--workers", "2") as servidor:
        resultados = await enviar(servidor.mcp_url, pagos, clientes=32, repetir=repetir)
    despues, pagos_despues, _, descuadres = leer(url)
    assert len(resultados) == 500 * repetir
    assert len({r["pago_id"] for r in resultados}) == 500  # nothing lost, nothing doubled
    assert sum(r["repetido"] for r in resultados) == 500 * (repetir - 1)
    assert pagos_despues - pagos_antes == 500
    for cliente_id in CLIENTES:
        esperado = antes[cliente_id] + sum(Decimal(m) for c, m, _ in pagos if c == cliente_id)
        assert despues[cliente_id] == esperado, cliente_id
    assert descuadres == []
    assert cli(url, "db", "check").returncode == 0


async def test_killing_the_server_mid_load_loses_no_committed_payment_and_leaves_none_half_written(
    tmp_path: Path,
) -> None:
    url = sembrar(tmp_path)
    _, pagos_antes, auditados_antes, _ = leer(url)
    confirmados: list[int] = []
    with servidor_http(url, tmp_path, "--workers", "2") as servidor:

        async def cargar(parte: list) -> None:
            async with Client(servidor.mcp_url) as c:
                for cliente_id, monto, clave in parte:
                    r = await c.call_tool("registrarPago", {"clienteId": cliente_id, "monto": monto,
                                                            "idempotencyKey": clave})
                    confirmados.append(r.structured_content["pago_id"])

        async def matar_cuando_haya(n: int) -> None:
            while len(confirmados) < n:
                await anyio.sleep(0.005)  # polling the test's own counter, bounded by the load itself
            os.killpg(servidor.proceso.pid, signal.SIGKILL)

        with pytest.raises(BaseException):  # noqa: B017 - the clients' connections die with the server
            async with anyio.create_task_group() as tg:
                tg.start_soon(matar_cuando_haya, 60)
                pagos = plan(1000)
                for i in range(8):
                    tg.start_soon(cargar, pagos[i::8])
    _, pagos_despues, auditados_despues, descuadres = leer(url)
    db = Database.from_url(url)
    with db.lectura() as conn:
        guardados = set(conn.execute(select(Pago.id)).scalars())
    db.dispose()
    assert set(confirmados) <= guardados  # every payment a client saw confirmed is there
    assert len(confirmados) >= 60 and pagos_despues - pagos_antes < 1000
    assert pagos_despues - pagos_antes == auditados_despues - auditados_antes  # each with its audit row
    assert descuadres == []  # no balance moved without its payment, or the other way round


@pytest.fixture(scope="module")
def servidor_hostil(tmp_path_factory):
    carpeta = tmp_path_factory.mktemp("hostil")
    url = sembrar(carpeta)
    with servidor_http(url, carpeta, "--workers", "2") as servidor:
        yield servidor, url


LLAMADA = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
           "params": {"name": "registrarPago", "arguments": {"clienteId": 2, "monto": 5}}}
ACEPTA = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("descripcion", "cuerpo", "cabeceras", "estado"),
    [
        ("otro Host", LLAMADA, {"Host": "evil.example"}, 421),
        ("otro Origin", LLAMADA, {"Origin": "http://evil.example"}, 403),
        ("JSON roto", b'{"jsonrpc": "2.0", "id": 1, "method": ', {}, 400),
        ("cuerpo de 5 MiB", {**LLAMADA, "relleno": "x" * (5 << 20)}, {}, 413),
    ],
)
def test_hostile_requests_are_refused_with_the_right_status_and_write_nothing(
    servidor_hostil, descripcion, cuerpo, cabeceras, estado
) -> None:
    servidor, url = servidor_hostil
    db = Database.from_url(url)
    antes = business_state(db)
    datos = cuerpo if isinstance(cuerpo, bytes) else json.dumps(cuerpo).encode()
    r = httpx2.post(servidor.mcp_url, content=datos, headers={**ACEPTA, **cabeceras}, timeout=30)
    assert r.status_code == estado, (descripcion, r.status_code, r.text[:200])
    assert business_state(db) == antes
    db.dispose()
