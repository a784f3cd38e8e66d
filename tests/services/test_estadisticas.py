"""estadisticas: the figures of the system we replace, "today" in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Pago
from soporte_mcp.services import pagos as servicio_pagos
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.estadisticas import dia_local, estadisticas
from tests.conftest import audit_rows, call, ok

pytestmark = pytest.mark.anyio


async def test_statistics_of_the_demo_data(client, db) -> None:
    r = ok(await call(client, "estadisticas"))
    assert r["clientes"] == {"total": 6, "con_saldo_positivo": 5, "registrados_hoy": 0}
    assert r["tickets"] == {"total": 6, "abiertos": 2, "en_proceso": 1, "pendientes": 1, "resueltos": 1,
                            "cerrados": 1, "resueltos_hoy": 1, "cerrados_hoy": 0}
    assert r["pagos"] == {"hoy_cantidad": 3, "hoy_total": "450.00",
                          "anulaciones_hoy_cantidad": 0, "anulaciones_hoy_total": "0.00"}
    assert r["zona_horaria"] == "America/Guayaquil"
    assert audit_rows(db)[-1].herramienta == "estadisticas"


async def test_todays_payments_include_one_just_registered(client) -> None:
    ok(await call(client, "registrarPago", {"clienteId": 3, "monto": "0.05"}))
    r = ok(await call(client, "estadisticas"))
    assert r["pagos"]["hoy_cantidad"] == 4 and r["pagos"]["hoy_total"] == "450.05"
    assert r["clientes"]["con_saldo_positivo"] == 6


def test_today_is_the_local_day_of_the_configured_zone() -> None:
    gye = ZoneInfo("America/Guayaquil")  # UTC-5, no daylight saving
    hoy, inicio, fin = dia_local(gye, datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
    assert hoy.isoformat() == "2026-11-25"
    assert (inicio.astimezone(UTC), fin.astimezone(UTC)) == (
        datetime(2026, 11, 25, 5, 0, tzinfo=UTC), datetime(2026, 11, 26, 5, 0, tzinfo=UTC))


# Guayaquil is UTC-5 all year: 23:30 there on 10 March is 04:30 UTC on the 11th. The demo data is
# around the real today, so nothing else falls on these days.
GYE = ZoneInfo("America/Guayaquil")
NOCHE_DEL_10 = datetime(2025, 3, 11, 4, 30, tzinfo=UTC)
MADRUGADA_DEL_11 = datetime(2025, 3, 11, 5, 30, tzinfo=UTC)


def pagar_a_las(db: Database, monkeypatch: pytest.MonkeyPatch, instante: datetime, monto: str) -> None:
    """A payment whose clock (where registrar_pago stamps its date) reads ``instante``."""
    monkeypatch.setattr(servicio_pagos, "ahora", lambda: instante)
    servicio_pagos.registrar_pago(db=db, llamada=Llamada("test"), cliente_id=3, monto=monto)


def test_a_payment_late_at_night_counts_for_the_local_day(db: Database,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pagar_a_las(db, monkeypatch, NOCHE_DEL_10, "7.00")
    pagar_a_las(db, monkeypatch, MADRUGADA_DEL_11, "5.00")

    # "Today" read at 23:45 and at 00:45 local time, both already the 11th in UTC.
    noche = estadisticas(db=db, llamada=Llamada("test"), zona=GYE, ahora=NOCHE_DEL_10 + timedelta(minutes=15))
    madrugada = estadisticas(db=db, llamada=Llamada("test"), zona=GYE,
                             ahora=MADRUGADA_DEL_11 + timedelta(minutes=15))

    with db.lectura() as conn:
        nuevos = select(Pago.fecha).where(Pago.procesado_por.is_(None)).order_by(Pago.id)  # not the demo's
        fechas = conn.execute(nuevos).scalars().all()
    assert fechas == [NOCHE_DEL_10, MADRUGADA_DEL_11]
    assert (noche.fecha, noche.pagos.hoy_cantidad, noche.pagos.hoy_total) == (
        "2025-03-10", 1, Decimal("7.00"))
    assert (madrugada.fecha, madrugada.pagos.hoy_cantidad, madrugada.pagos.hoy_total) == (
        "2025-03-11", 1, Decimal("5.00"))


async def test_todays_reversals_and_tickets_resolved_and_closed_today_are_counted(client) -> None:
    ok(await call(client, "anularPago", {"pagoId": 17, "motivo": "Se registró por error", "monto": "100"}))
    ok(await call(client, "anularPago", {"pagoId": 12, "motivo": "Devolución", "monto": "50.25"}))
    ok(await call(client, "actualizarTicket", {"ticketId": 4, "estado": "cerrado"}))
    r = ok(await call(client, "estadisticas"))
    assert (r["pagos"]["anulaciones_hoy_cantidad"], r["pagos"]["anulaciones_hoy_total"]) == (2, "150.25")
    assert (r["pagos"]["hoy_cantidad"], r["pagos"]["hoy_total"]) == (3, "450.00")  # payments stay what they were
    assert r["tickets"] | {} == r["tickets"] and (r["tickets"]["cerrados"], r["tickets"]["cerrados_hoy"]) == (2, 1)
    assert (r["tickets"]["resueltos"], r["tickets"]["resueltos_hoy"]) == (0, 1)
