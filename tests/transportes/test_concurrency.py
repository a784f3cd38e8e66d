"""200 payments to one customer at once, over real HTTP: no money is lost, none is invented."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import Implementation
from sqlalchemy import func, select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, HistorialAccion, Pago
from tests._procesos import ServidorHttp, cli, servidor_http
from tests.conftest import ok

pytestmark = pytest.mark.anyio

CLIENTE = 2  # Juan Carlos Pérez
SALDO_INICIAL = Decimal("850.50")
CLIENTES_MCP = 20
PAGOS_POR_CLIENTE = 10


@pytest.fixture
def servidor(db: Database, db_url: str, tmp_path: Path) -> Iterator[ServidorHttp]:
    with servidor_http(db_url, tmp_path) as s:
        yield s


def _monto(n: int) -> Decimal:
    """Varied amounts with cents (1.01 … 50.99), so that a lost or doubled payment shows in the sum."""
    return Decimal(n % 50 + 1) + Decimal((n * 37) % 100) / 100


def _contar(db: Database, *condiciones: Any, tabla: type = Pago) -> int:
    with db.lectura() as conn:
        return conn.execute(select(func.count()).select_from(tabla).where(*condiciones)).scalar_one()


async def _pagar_desde_un_cliente(url: str, numero: int, resultados: list[dict[str, Any]]) -> None:
    # Both protocol generations at once: legacy sessions and stateless 2026-07-28 requests.
    modo = "legacy" if numero % 2 else "auto"
    info = Implementation(name=f"cajero-{numero}", version="1.0")
    async with Client(url, mode=modo, client_info=info) as client, anyio.create_task_group() as tg:
        for i in range(PAGOS_POR_CLIENTE):
            tg.start_soon(_pagar, client, numero * PAGOS_POR_CLIENTE + i, resultados)


async def _pagar(client: Client, n: int, resultados: list[dict[str, Any]]) -> None:
    argumentos = {"clienteId": CLIENTE, "monto": f"{_monto(n):.2f}", "descripcion": f"pago concurrente {n}"}
    resultados.append(ok(await client.call_tool("registrarPago", argumentos)))


async def test_200_concurrent_payments_to_one_customer_over_http_all_land_and_the_books_balance(
    db: Database, db_url: str, servidor: ServidorHttp
) -> None:
    pagos_antes = _contar(db, Pago.cliente_id == CLIENTE)
    ultimo_pago_antes = _ultimo_id(db)
    auditados_antes = _contar(db, HistorialAccion.herramienta == "registrarPago", tabla=HistorialAccion)
    total = CLIENTES_MCP * PAGOS_POR_CLIENTE
    esperado = SALDO_INICIAL + sum(_monto(n) for n in range(total))

    resultados: list[dict[str, Any]] = []
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for numero in range(CLIENTES_MCP):
                tg.start_soon(_pagar_desde_un_cliente, servidor.mcp_url, numero, resultados)

        async with Client(servidor.mcp_url) as client:
            saldo = ok(await client.call_tool("consultarSaldo", {"clienteId": CLIENTE}))

    assert len(resultados) == total
    assert len({r["pago_id"] for r in resultados}) == total
    assert saldo["saldo"] == f"{esperado:.2f}"
    assert _saldo_en_base(db) == esperado
    assert _contar(db, Pago.cliente_id == CLIENTE) - pagos_antes == total
    assert _contar(db, HistorialAccion.herramienta == "registrarPago", tabla=HistorialAccion) - auditados_antes == total
    _assert_cadena_de_saldos(db, ultimo_pago_antes, esperado)

    comprobacion = cli(db_url, "db", "check")
    assert comprobacion.returncode == 0, comprobacion.stderr


def _ultimo_id(db: Database) -> int:
    with db.lectura() as conn:
        return conn.execute(select(func.max(Pago.id))).scalar_one() or 0


def _saldo_en_base(db: Database) -> Decimal:
    with db.lectura() as conn:
        return conn.execute(select(Cliente.saldo).where(Cliente.id == CLIENTE)).scalar_one()


def _assert_cadena_de_saldos(db: Database, desde_id: int, esperado: Decimal) -> None:
    """Payments were applied one after another: each starts from the balance the previous one left."""
    with db.lectura() as conn:
        filas = conn.execute(
            select(Pago.monto, Pago.saldo_anterior, Pago.saldo_posterior)
            .where(Pago.cliente_id == CLIENTE, Pago.id > desde_id)
            .order_by(Pago.id)
        ).all()
    saldo = SALDO_INICIAL
    for monto, anterior, posterior in filas:
        assert (anterior, posterior) == (saldo, saldo + monto)
        saldo = posterior
    assert saldo == esperado
