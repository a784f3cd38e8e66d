"""Tickets and reversals under concurrency, over real HTTP from several MCP clients."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import Implementation
from sqlalchemy import select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, Cliente, HistorialTicket, Ticket
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.conciliacion import verificar_anulaciones, verificar_saldos
from soporte_mcp.services.pagos import registrar_pago
from tests._procesos import ServidorHttp
from tests.conftest import ok
from tests.transportes.test_concurrency import servidor  # noqa: F401  (the HTTP server fixture)

pytestmark = pytest.mark.anyio

TICKET = 3
CLIENTES_MCP = 20
ANULACIONES_POR_CLIENTE = 10
MONTO_PAGO = Decimal("2500.00")


def _monto(n: int) -> Decimal:
    """Varied amounts with cents (1.01 … 50.99): a reversal lost or doubled shows in the sums."""
    return Decimal(n % 50 + 1) + Decimal((n * 37) % 100) / 100


async def _en_paralelo(url: str, clientes: int, por_cliente: int, llamada) -> list[Any]:
    resultados: list[Any] = []

    async def un_cliente(numero: int) -> None:
        info = Implementation(name=f"agente-{numero}", version="1.0")
        async with Client(url, mode="legacy" if numero % 2 else "auto", client_info=info) as client:
            async with anyio.create_task_group() as tg:
                for i in range(por_cliente):
                    tg.start_soon(llamada, client, numero * por_cliente + i, resultados)

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for numero in range(clientes):
                tg.start_soon(un_cliente, numero)
    return resultados


async def test_16_concurrent_updates_of_one_ticket_lose_no_history_entry(db: Database, servidor: ServidorHttp) -> None:  # noqa: F811
    async def actualizar(client: Client, n: int, resultados: list[Any]) -> None:
        argumentos = {"ticketId": TICKET, "asignadoA": f"agente {n}", "comentario": f"cambio {n}"}
        resultados.append(ok(await client.call_tool("actualizarTicket", argumentos)))

    resultados = await _en_paralelo(servidor.mcp_url, 4, 4, actualizar)
    assert len(resultados) == 16
    with db.lectura() as conn:
        ticket = conn.execute(select(Ticket.__table__).where(Ticket.id == TICKET)).one()
        t = HistorialTicket.__table__
        entradas = conn.execute(select(t).where(t.c.ticket_id == TICKET).order_by(t.c.id)).all()
    assert len(entradas) == 16 and {e.comentario for e in entradas} == {f"cambio {n}" for n in range(16)}
    # One unbroken chain: each change starts from what the previous one left.
    assert [e.anterior for e in entradas] == [None] + [e.nuevo for e in entradas[:-1]]
    assert (ticket.asignado_a, ticket.version) == (entradas[-1].nuevo, 1 + 16)


async def test_16_concurrent_updates_on_one_version_apply_exactly_one(db: Database, servidor: ServidorHttp) -> None:  # noqa: F811
    async def actualizar(client: Client, n: int, resultados: list[Any]) -> None:
        r = await client.call_tool("actualizarTicket", {"ticketId": TICKET, "asignadoA": f"agente {n}", "version": 1})
        resultados.append(r.meta["soporte/codigo"] if r.is_error else "ok")

    resultados = await _en_paralelo(servidor.mcp_url, 4, 4, actualizar)
    assert sorted(resultados) == ["ok"] + ["version_desactualizada"] * 15
    with db.lectura() as conn:
        assert conn.execute(select(Ticket.version).where(Ticket.id == TICKET)).scalar_one() == 2


async def test_200_concurrent_partial_reversals_never_reverse_more_than_the_payment(
    db: Database, servidor: ServidorHttp  # noqa: F811
) -> None:
    pago = registrar_pago(db=db, llamada=Llamada("registrarPago"), cliente_id=3, monto=MONTO_PAGO)
    assert pago.saldo_nuevo == MONTO_PAGO  # Ana starts at 0.00

    async def anular(client: Client, n: int, resultados: list[Any]) -> None:
        argumentos = {"pagoId": pago.pago_id, "motivo": f"devolución {n}", "monto": f"{_monto(n):.2f}"}
        r = await client.call_tool("anularPago", argumentos)
        resultados.append((n, r.meta["soporte/codigo"] if r.is_error else "ok"))

    resultados = await _en_paralelo(servidor.mcp_url, CLIENTES_MCP, ANULACIONES_POR_CLIENTE, anular)
    aceptadas = [n for n, codigo in resultados if codigo == "ok"]
    assert len(resultados) == 200
    assert {codigo for _n, codigo in resultados} <= {"ok", "monto_excede_reversible", "pago_ya_anulado"}
    anulado = sum((_monto(n) for n in aceptadas), Decimal("0.00"))
    rechazadas = [_monto(n) for n, codigo in resultados if codigo != "ok"]
    assert anulado <= MONTO_PAGO
    # Each refusal was right: what remains at the end is less than any amount that was refused.
    assert MONTO_PAGO - anulado < min(rechazadas)
    with db.lectura() as conn:
        filas = conn.execute(select(Anulacion.monto).where(Anulacion.pago_id == pago.pago_id)).scalars().all()
        saldo = conn.execute(select(Cliente.saldo).where(Cliente.id == 3)).scalar_one()
    assert len(filas) == len(aceptadas) and sum(filas) == anulado
    assert saldo == MONTO_PAGO - anulado
    assert verificar_saldos(db=db) == [] and verificar_anulaciones(db=db) == []


def test_concurrent_retries_of_one_reversal_with_one_key_reverse_once(db: Database) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from soporte_mcp.services.anulaciones import anular_pago

    def anular(_: int):
        return anular_pago(db=db, llamada=Llamada("anularPago"), pago_id=12, motivo="Devolución", monto="30",
                           clave_idempotencia="misma-anulacion")

    with ThreadPoolExecutor(8) as pool:
        resultados = list(pool.map(anular, range(16)))
    assert len({r.anulacion_id for r in resultados}) == 1 and sum(not r.repetido for r in resultados) == 1
    with db.lectura() as conn:
        assert conn.execute(select(Anulacion.monto).where(Anulacion.pago_id == 12)).scalars().all() == [
            Decimal("30.00")]
        assert conn.execute(select(Cliente.saldo).where(Cliente.id == 4)).scalar_one() == Decimal("2070.75")
    assert verificar_saldos(db=db) == []
