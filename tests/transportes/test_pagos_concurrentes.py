"""Concurrent payments at the service level, on real connections (threads): nothing lost, nothing doubled."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import func, select

from soporte_mcp.db.models import Cliente, Pago
from soporte_mcp.errors import ClaveIdempotenciaReutilizada
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.conciliacion import verificar_saldos
from soporte_mcp.services.pagos import registrar_pago


def pagar(db, cliente_id: int, monto: str, clave: str | None = None):
    try:
        return registrar_pago(db=db, llamada=Llamada("registrarPago"), cliente_id=cliente_id, monto=monto,
                              clave_idempotencia=clave)
    except ClaveIdempotenciaReutilizada as exc:
        return exc


def test_concurrent_payments_from_many_connections_all_count(db) -> None:
    montos = [f"{1 + i % 7}.{i % 100:02d}" for i in range(80)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda m: pagar(db, 3, m), montos))
    with db.lectura() as conn:
        saldo = conn.execute(select(Cliente.saldo).where(Cliente.id == 3)).scalar_one()
    assert saldo == sum(Decimal(m) for m in montos)
    assert verificar_saldos(db=db) == []


def test_concurrent_retries_with_one_key_pay_once(db) -> None:
    with ThreadPoolExecutor(8) as pool:
        resultados = list(pool.map(lambda _: pagar(db, 2, "42.00", "misma-clave"), range(16)))
    assert len({r.pago_id for r in resultados}) == 1
    assert sum(not r.repetido for r in resultados) == 1
    with db.lectura() as conn:
        assert conn.execute(
            select(func.count()).select_from(Pago).where(Pago.clave_idempotencia == "misma-clave")
        ).scalar_one() == 1


def test_one_key_raced_for_two_customers_pays_one_and_refuses_the_other(db) -> None:
    with ThreadPoolExecutor(2) as pool:
        resultados = list(pool.map(lambda c: pagar(db, c, "10.00", "disputada"), [1, 2] * 4))
    pagos = {r.pago_id for r in resultados if not isinstance(r, Exception)}
    rechazos = [r for r in resultados if isinstance(r, ClaveIdempotenciaReutilizada)]
    assert len(pagos) == 1 and len(rechazos) == 4
    assert verificar_saldos(db=db) == []
