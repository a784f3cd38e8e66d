"""listarPagos, pago:// and consultarSaldo: the ledger read back with its reversals."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from soporte_mcp.db.engine import Database
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.movimientos import listar_pagos
from tests.conftest import call, error_code, ok

pytestmark = pytest.mark.anyio

GYE = ZoneInfo("America/Guayaquil")


def hoy() -> date:
    return datetime.now(GYE).date()


async def test_payments_come_newest_first_with_their_reversals_and_what_remains(client) -> None:
    r = ok(await call(client, "listarPagos", {"clienteId": 5}))
    assert (r["cliente_nombre"], r["total"], r["siguiente"], r["zona_horaria"]) == (
        "Lucía Fernández Silva", 2, None, "America/Guayaquil")
    reciente, anulado = r["pagos"]
    assert reciente["fecha"] > anulado["fecha"]
    assert (anulado["id"], anulado["monto"], anulado["anulado"], anulado["reversible"]) == (
        9, "150.25", "50.25", "100.00")
    assert [a["monto"] for a in anulado["anulaciones"]] == ["50.25"]
    assert (reciente["anulado"], reciente["anulaciones"]) == ("0.00", [])


async def test_dates_are_whole_local_days_both_included(client) -> None:
    todos = ok(await call(client, "listarPagos", {"clienteId": 6}))["pagos"]
    assert len(todos) == 5
    hace_9 = (hoy() - timedelta(days=9)).isoformat()
    hace_4 = (hoy() - timedelta(days=4)).isoformat()
    r = ok(await call(client, "listarPagos", {"clienteId": 6, "desde": hace_9, "hasta": hace_4}))
    assert [p["monto"] for p in r["pagos"]] == ["400.00", "600.00"]  # 4 and 9 days ago, both ends included
    solo_hoy = ok(await call(client, "listarPagos", {"clienteId": 6, "desde": hoy().isoformat()}))
    assert [p["id"] for p in solo_hoy["pagos"]] == [17]


def test_a_payment_just_before_local_midnight_belongs_to_that_local_day(db: Database) -> None:
    # 23:30 in Guayaquil on the 10th is 04:30 UTC on the 11th.
    from sqlalchemy import update

    from soporte_mcp.db.models import Pago

    with db.escritura() as conn:
        conn.execute(update(Pago.__table__).where(Pago.id == 17)
                     .values(fecha=datetime(2026, 11, 11, 4, 30, tzinfo=UTC)))
    dia = listar_pagos(db=db, llamada=Llamada("listarPagos"), zona=GYE, cliente_id=6,
                       desde=date(2026, 11, 10), hasta=date(2026, 11, 10))
    assert [p.id for p in dia.pagos] == [17]
    siguiente = listar_pagos(db=db, llamada=Llamada("listarPagos"), zona=GYE, cliente_id=6,
                             desde=date(2026, 11, 11), hasta=date(2026, 11, 11))
    assert siguiente.pagos == []


async def test_pages_of_payments_follow_each_other_while_new_payments_arrive(client) -> None:
    primera = ok(await call(client, "listarPagos", {"clienteId": 6, "limite": 2}))
    ok(await call(client, "registrarPago", {"clienteId": 6, "monto": 5}))
    segunda = ok(await call(client, "listarPagos", {"clienteId": 6, "limite": 2, "cursor": primera["siguiente"]}))
    tercera = ok(await call(client, "listarPagos", {"clienteId": 6, "limite": 2, "cursor": segunda["siguiente"]}))
    ids = [p["id"] for r in (primera, segunda, tercera) for p in r["pagos"]]
    assert tercera["siguiente"] is None and sorted(ids) == [1, 4, 8, 11, 17]


@pytest.mark.parametrize(
    ("argumentos", "codigo"),
    [
        ({"clienteId": 999}, "cliente_no_encontrado"),
        ({"clienteId": 6, "desde": "2026-11-20", "hasta": "2026-11-10"}, "rango_fechas_invalido"),
        ({"clienteId": 6, "desde": "20/11/2026"}, "argumento_invalido"),
        ({"clienteId": 6, "limite": 0}, "limite_invalido"),
        ({"clienteId": 6, "cursor": "eyJ4Ijoi"}, "cursor_invalido"),
    ],
)
async def test_bad_arguments_are_refused_with_their_code(client, argumentos, codigo) -> None:
    assert error_code(await call(client, "listarPagos", argumentos)) == codigo


async def test_a_tickets_cursor_is_not_a_payments_cursor(client) -> None:
    siguiente = ok(await call(client, "listarTickets", {"limite": 1}))["siguiente"]
    resultado = await call(client, "listarPagos", {"clienteId": 6, "cursor": siguiente})
    assert error_code(resultado) == "cursor_invalido"


async def test_the_payment_resource_carries_its_reversals(client) -> None:
    ficha = json.loads((await client.read_resource("pago://9")).contents[0].text)
    assert (ficha["cliente_id"], ficha["monto"], ficha["reversible"]) == (5, "150.25", "100.00")
    assert [a["motivo"] for a in ficha["anulaciones"]] == ["Cobro duplicado en la tarjeta: se devuelve la diferencia"]


async def test_an_unknown_payment_resource_is_an_error_with_its_code(client) -> None:
    from mcp import MCPError

    with pytest.raises(MCPError) as error:
        await client.read_resource("pago://999")
    assert error.value.error.data["codigo"] == "pago_no_encontrado"


async def test_the_balance_shows_reversals_in_its_summary_and_last_movements(client) -> None:
    ok(await call(client, "anularPago", {"pagoId": 12, "motivo": "Devolución", "monto": 50}))
    r = ok(await call(client, "consultarSaldo", {"clienteId": 4}))
    assert r["saldo"] == "2050.75"
    assert (r["resumen"]["anulaciones_total"], r["resumen"]["total_anulado"]) == (1, "50.00")
    primero = r["ultimos_movimientos"][0]
    assert (primero["tipo"], primero["pago_id"], primero["monto"], primero["descripcion"]) == (
        "anulacion", 12, "50.00", "Devolución")
    assert len(r["ultimos_movimientos"]) == 5
    assert [m["tipo"] for m in r["ultimos_movimientos"]].count("pago") == 4


async def test_the_demo_reversal_is_in_its_customers_summary(client) -> None:
    r = ok(await call(client, "consultarSaldo", {"clienteId": 5}))
    assert (r["saldo"], r["resumen"]["anulaciones_total"], r["resumen"]["total_anulado"]) == ("450.25", 1, "50.25")
    assert [m["tipo"] for m in r["ultimos_movimientos"]] == ["pago", "anulacion", "pago"]
