"""registrarPago: exact money, atomic with its audit row, refusals that change nothing, idempotency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from soporte_mcp.db.models import Cliente, Pago
from soporte_mcp.services.conciliacion import verificar_saldos
from tests.conftest import audit_rows, business_state, call, error_code, ok

pytestmark = pytest.mark.anyio


def saldo(db, cliente_id: int) -> Decimal:
    with db.lectura() as conn:
        return conn.execute(select(Cliente.saldo).where(Cliente.id == cliente_id)).scalar_one()


async def test_payment_increases_balance_and_reports_before_after_and_increment(client, db) -> None:
    r = ok(await call(client, "registrarPago", {"clienteId": 2, "monto": 500}))
    assert (r["saldo_anterior"], r["saldo_nuevo"], r["incremento"], r["monto"]) == (
        "850.50", "1350.50", "500.00", "500.00")
    assert (r["metodo_pago"], r["repetido"]) == ("transferencia", False)
    assert saldo(db, 2) == Decimal("1350.50")
    assert verificar_saldos(db=db) == []


@pytest.mark.parametrize(
    ("monto", "esperado"),
    [(0.1, "0.10"), (0.2, "0.20"), ("0.30", "0.30"), (150.5, "150.50"), ("999999.99", "999999.99"), (1, "1.00"),
     ("$300", "300.00")],
)
async def test_amounts_are_exact_decimals_whether_json_number_or_string(client, db, monto, esperado) -> None:
    r = ok(await call(client, "registrarPago", {"clienteId": 3, "monto": monto}))
    assert r["monto"] == esperado and r["saldo_nuevo"] == esperado  # customer 3 starts at 0.00


async def test_many_small_float_amounts_add_up_exactly(client, db) -> None:
    for _ in range(10):
        ok(await call(client, "registrarPago", {"clienteId": 3, "monto": 0.1}))
    assert saldo(db, 3) == Decimal("1.00")


@pytest.mark.parametrize(
    "monto",
    [0, -5, "1000000", 1000000.00, "10.005", 0.001, "diez", "1,500.00", "NaN", "Infinity", "", "1e2", "5e-1",
     "$-5", "--5"],
)
async def test_invalid_amount_is_refused_with_its_code_and_changes_nothing(client, db, monto) -> None:
    antes = business_state(db)
    assert error_code(await call(client, "registrarPago", {"clienteId": 2, "monto": monto})) == "monto_invalido"
    assert business_state(db) == antes
    fila = audit_rows(db)[-1]
    assert (fila.tipo, fila.resultado, fila.metadatos["codigo"]) == ("pago", "rechazado", "monto_invalido")


async def test_invalid_payment_method_is_refused_not_silently_replaced(client, db) -> None:
    antes = business_state(db)
    resultado = await call(client, "registrarPago", {"clienteId": 2, "monto": 10, "metodoPago": "bitcoin"})
    assert error_code(resultado) == "metodo_pago_invalido"
    assert "efectivo, tarjeta, transferencia, cheque" in resultado.content[0].text  # it names the allowed values
    assert business_state(db) == antes


async def test_payment_to_unknown_or_inactive_customer_is_refused(client, db) -> None:
    antes = business_state(db)
    assert error_code(await call(client, "registrarPago", {"clienteId": 999, "monto": 10})) == "cliente_no_encontrado"
    with db.escritura() as conn:
        conn.execute(update(Cliente.__table__).where(Cliente.__table__.c.id == 4).values(activo=False))
    assert error_code(await call(client, "registrarPago", {"clienteId": 4, "monto": 10})) == "cliente_inactivo"
    assert business_state(db) == antes


async def test_payment_and_its_audit_row_commit_together(client, db) -> None:
    r = ok(await call(client, "registrarPago", {
        "clienteId": 1, "monto": "300", "metodoPago": "Transferencia", "descripcion": "Pago de octubre"}))
    fila = audit_rows(db)[-1]
    assert (fila.tipo, fila.herramienta, fila.resultado, fila.cliente_id) == ("pago", "registrarPago", "ok", 1)
    assert fila.metadatos["pago_id"] == r["pago_id"]
    with db.lectura() as conn:
        pago = conn.execute(select(Pago).where(Pago.id == r["pago_id"])).one()
    assert (pago.monto, pago.procesado_por, pago.descripcion) == (
        Decimal("300.00"), "pytest-client 1.0", "Pago de octubre")


async def test_failure_inside_the_transaction_rolls_back_the_balance(client, db, monkeypatch) -> None:
    from soporte_mcp.services import auditoria

    original = auditoria.registrar

    def falla_en_el_ok(conn, llamada, tipo, resultado, *a, **k):
        if resultado == "ok":
            raise RuntimeError("disco lleno")
        return original(conn, llamada, tipo, resultado, *a, **k)

    monkeypatch.setattr(auditoria, "registrar", falla_en_el_ok)
    antes = business_state(db)
    assert (await call(client, "registrarPago", {"clienteId": 2, "monto": 10})).is_error
    assert business_state(db) == antes
    assert audit_rows(db)[-1].resultado == "error"


async def test_retry_with_same_idempotency_key_returns_original_and_pays_once(client, db) -> None:
    args = {"clienteId": 2, "monto": 75.25, "idempotencyKey": "pedido-123"}
    primero = ok(await call(client, "registrarPago", args))
    segundo = ok(await call(client, "registrarPago", args))
    assert segundo["repetido"] is True
    assert {**segundo, "repetido": False} == primero
    assert saldo(db, 2) == Decimal("925.75")
    with db.lectura() as conn:
        assert conn.execute(select(func.count()).select_from(Pago).where(Pago.cliente_id == 2)).scalar_one() == 4


async def test_same_idempotency_key_with_other_arguments_is_refused(client, db) -> None:
    ok(await call(client, "registrarPago", {"clienteId": 2, "monto": 10, "idempotencyKey": "k"}))
    antes = business_state(db)
    for otro in ({"monto": 11}, {"metodoPago": "efectivo"}, {"clienteId": 1}):
        resultado = await call(client, "registrarPago", {"clienteId": 2, "monto": 10, "idempotencyKey": "k", **otro})
        assert error_code(resultado) == "clave_idempotencia_reutilizada"
    assert business_state(db) == antes
    assert audit_rows(db)[-1].metadatos["codigo"] == "clave_idempotencia_reutilizada"


@pytest.mark.sqlite_only
async def test_a_locked_database_is_a_clear_retryable_refusal(client, db, settings) -> None:
    from soporte_mcp.db import engine as engine_mod
    from soporte_mcp.db.engine import Database

    otro = Database.from_url(settings.database_url)
    antes = business_state(db)
    original = engine_mod.SQLITE_BUSY_TIMEOUT_MS
    try:
        with otro.escritura():  # another process holding the write lock
            engine_mod.SQLITE_BUSY_TIMEOUT_MS = 50  # the server's next connection gives up after 50 ms
            db.engine.dispose()
            resultado = await call(client, "registrarPago", {"clienteId": 2, "monto": 10})
    finally:
        engine_mod.SQLITE_BUSY_TIMEOUT_MS = original
        otro.dispose()
    assert error_code(resultado) == "base_de_datos_no_disponible"
    assert resultado.meta["soporte/reintentable"] is True
    assert business_state(db) == antes


@pytest.mark.sqlite_only
async def test_a_payment_whose_commit_fails_is_a_retryable_refusal_and_writes_nothing(client, db) -> None:
    """On SQLite the writer thread commits payments in batches (db/escritor.py): the answer waits for the COMMIT."""
    import sqlite3
    import threading

    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    def falla(_conn) -> None:
        if threading.current_thread().name == "escritor-sqlite":
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))

    antes = (business_state(db), len(audit_rows(db)))
    event.listen(db.engine, "commit", falla)
    try:
        resultado = await call(client, "registrarPago", {"clienteId": 2, "monto": 10})
    finally:
        event.remove(db.engine, "commit", falla)
    assert error_code(resultado) == "base_de_datos_no_disponible"
    assert resultado.meta["soporte/reintentable"] is True
    assert (business_state(db), len(audit_rows(db))) == antes
