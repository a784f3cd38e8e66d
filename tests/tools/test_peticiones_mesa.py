"""The support desk's requests of issue 9, end to end through the MCP tools on the demo data, in order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from soporte_mcp.db.models import Cliente, Pago, Ticket
from soporte_mcp.services.conciliacion import verificar_anulaciones, verificar_saldos
from tests.conftest import call, ok

pytestmark = pytest.mark.anyio


async def buscar(client, query: str) -> list[dict]:
    return ok(await call(client, "buscarCliente", {"query": query}))["clientes"]


async def test_que_tickets_abiertos_tiene_maria_garcia(client) -> None:
    (maria,) = await buscar(client, "María García")
    r = ok(await call(client, "listarTickets",
                      {"clienteId": maria["id"], "estado": ["abierto", "en_proceso", "pendiente"]}))
    assert [(t["numero"], t["estado"]) for t in r["tickets"]] == [("#000001", "abierto")]


async def test_ticket_3_moves_to_en_proceso_resuelto_and_is_reopened(client, db) -> None:
    # "Pasa el ticket #000003 a en proceso y asígnalo a Ana"
    r = ok(await call(client, "actualizarTicket", {"ticketId": "#000003", "estado": "en_proceso", "asignadoA": "Ana"}))
    assert (r["ticket"]["estado"], r["ticket"]["asignado_a"]) == ("en_proceso", "Ana")
    # "Marca el ticket 3 como resuelto: se reinició el router"
    r = ok(await call(client, "actualizarTicket",
                      {"ticketId": 3, "estado": "resuelto", "comentario": "Se reinició el router"}))
    assert r["ticket"]["fecha_resolucion"] is not None and r["estados_siguientes"] == ["cerrado", "abierto"]
    # "Reabre el ticket 3, el cliente dice que sigue sin internet"
    r = ok(await call(client, "actualizarTicket", {"ticketId": 3, "estado": "abierto",
                                                   "comentario": "El cliente dice que sigue sin internet"}))
    assert (r["ticket"]["estado"], r["ticket"]["fecha_resolucion"], r["ticket"]["version"]) == ("abierto", None, 4)
    with db.lectura() as conn:
        assert conn.execute(select(Ticket.estado).where(Ticket.id == 3)).scalar_one() == "abierto"


async def test_anula_el_pago_17_se_registro_por_error(client, db) -> None:
    r = ok(await call(client, "anularPago", {"pagoId": 17, "motivo": "Se registró por error"}))
    assert (r["cliente_nombre"], r["monto"], r["saldo_anterior"], r["saldo_nuevo"], r["reversible"]) == (
        "Roberto González Vega", "250.00", "3200.00", "2950.00", "0.00")
    assert verificar_saldos(db=db) == [] and verificar_anulaciones(db=db) == []


async def test_devuelvele_50_dolares_del_pago_12_a_carlos(client, db) -> None:
    carlos = [c for c in await buscar(client, "Carlos") if c["nombre"].startswith("Carlos")][0]
    pagos = ok(await call(client, "listarPagos", {"clienteId": carlos["id"]}))["pagos"]
    assert 12 in [p["id"] for p in pagos]  # payment 12 is Carlos's
    r = ok(await call(client, "anularPago", {"pagoId": 12, "monto": 50, "motivo": "Devolución al cliente"}))
    assert (r["cliente_id"], r["monto"], r["saldo_nuevo"], r["reversible"]) == (
        carlos["id"], "50.00", "2050.75", "200.00")
    assert verificar_saldos(db=db) == []


async def test_muestrame_los_pagos_de_juan_perez_de_este_mes(client, db) -> None:
    (juan,) = await buscar(client, "Juan Pérez")
    zona = ZoneInfo("America/Guayaquil")
    primero = datetime.now(zona).date().replace(day=1)
    r = ok(await call(client, "listarPagos", {"clienteId": juan["id"], "desde": primero.isoformat()}))
    inicio = datetime.combine(primero, datetime.min.time(), tzinfo=zona)
    with db.lectura() as conn:
        del_mes = conn.execute(select(Pago.id).where(Pago.cliente_id == juan["id"], Pago.fecha >= inicio)
                               .order_by(Pago.fecha.desc())).scalars().all()
    assert [p["id"] for p in r["pagos"]] == del_mes
    assert all(datetime.fromisoformat(p["fecha"]).astimezone(zona).date() >= primero for p in r["pagos"])
    with db.lectura() as conn:
        assert conn.execute(select(Cliente.saldo).where(Cliente.id == juan["id"])).scalar_one() == Decimal("850.50")


def test_this_month_on_a_demo_seeded_mid_month_lists_only_this_months_payments(db_url) -> None:
    from datetime import UTC, date

    from soporte_mcp.db import migrate
    from soporte_mcp.db.engine import Database
    from soporte_mcp.seed.demo import cargar_demo
    from soporte_mcp.services.auditoria import Llamada
    from soporte_mcp.services.movimientos import listar_pagos

    zona = ZoneInfo("America/Guayaquil")
    db = Database.from_url(db_url)
    migrate.upgrade(db)
    # Seeded on 10 November: Juan's payments were 15, 5 and 2 days before (26 Oct, 5 and 8 Nov).
    cargar_demo(db=db, zona=zona, ahora=datetime(2026, 11, 10, 17, 0, tzinfo=UTC))
    r = listar_pagos(db=db, llamada=Llamada("listarPagos"), zona=zona, cliente_id=2, desde=date(2026, 11, 1))
    assert [(p.fecha.astimezone(zona).date(), p.monto) for p in r.pagos] == [
        (date(2026, 11, 8), Decimal("100.00")), (date(2026, 11, 5), Decimal("350.50"))]
    db.dispose()
