"""anularPago: a reversal is a new ledger entry, lowers the balance atomically, never beyond the payment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from soporte_mcp.db.models import Anulacion, Cliente, Pago
from soporte_mcp.services.conciliacion import verificar_saldos
from tests.conftest import audit_rows, business_state, call, error_code, ok

pytestmark = pytest.mark.anyio


def saldo(db, cliente_id: int) -> Decimal:
    with db.lectura() as conn:
        return conn.execute(select(Cliente.saldo).where(Cliente.id == cliente_id)).scalar_one()


def pago(db, pago_id: int):
    with db.lectura() as conn:
        return conn.execute(select(Pago.__table__).where(Pago.id == pago_id)).one()


def anulaciones(db, pago_id: int) -> list:
    with db.lectura() as conn:
        return list(conn.execute(select(Anulacion.__table__).where(Anulacion.pago_id == pago_id)).all())


def pago_nuevo(db, cliente_id: int = 3, monto: str = "100.00") -> int:
    from soporte_mcp.services.auditoria import Llamada
    from soporte_mcp.services.pagos import registrar_pago

    return registrar_pago(db=db, llamada=Llamada("registrarPago"), cliente_id=cliente_id, monto=monto).pago_id


async def test_a_full_reversal_lowers_the_balance_and_leaves_the_payment_untouched(client, db) -> None:
    pago_id = pago_nuevo(db, 3, "100.00")
    antes = pago(db, pago_id)
    r = ok(await call(client, "anularPago", {"pagoId": pago_id, "motivo": "Se registró por error"}))
    assert (r["monto"], r["saldo_anterior"], r["saldo_nuevo"]) == ("100.00", "100.00", "0.00")
    assert (r["pago_monto"], r["total_anulado"], r["reversible"], r["repetido"]) == ("100.00", "100.00", "0.00", False)
    assert pago(db, pago_id) == antes
    (fila,) = anulaciones(db, pago_id)
    assert (fila.monto, fila.motivo, fila.cliente_id) == (Decimal("100.00"), "Se registró por error", 3)
    assert saldo(db, 3) == Decimal("0.00")
    assert verificar_saldos(db=db) == []
    auditoria = audit_rows(db)[-1]
    assert (auditoria.tipo, auditoria.resultado, auditoria.herramienta) == ("anulacion", "ok", "anularPago")
    assert (auditoria.metadatos["pago_id"], auditoria.metadatos["anulacion_id"]) == (pago_id, fila.id)
    assert auditoria.metadatos["argumentos"]["pagoId"] == pago_id


async def test_partial_reversals_add_up_to_at_most_the_payment(client, db) -> None:
    pago_id = pago_nuevo(db, 3, "100.00")
    r = ok(await call(client, "anularPago", {"pagoId": pago_id, "motivo": "devolución", "monto": "30.50"}))
    assert (r["monto"], r["reversible"], r["saldo_nuevo"]) == ("30.50", "69.50", "69.50")
    antes = business_state(db)
    exceso = await call(client, "anularPago", {"pagoId": pago_id, "motivo": "devolución", "monto": 69.51})
    assert error_code(exceso) == "monto_excede_reversible"
    assert business_state(db) == antes and len(anulaciones(db, pago_id)) == 1
    r = ok(await call(client, "anularPago", {"pagoId": pago_id, "motivo": "resto"}))
    assert (r["monto"], r["total_anulado"], r["reversible"]) == ("69.50", "100.00", "0.00")
    ya = await call(client, "anularPago", {"pagoId": pago_id, "motivo": "otra vez"})
    assert error_code(ya) == "pago_ya_anulado"
    assert saldo(db, 3) == Decimal("0.00") and verificar_saldos(db=db) == []


@pytest.mark.parametrize(
    ("argumentos", "codigo"),
    [
        ({"pagoId": 9999, "motivo": "error"}, "pago_no_encontrado"),
        ({"pagoId": 1, "motivo": "   "}, "motivo_requerido"),
        ({"pagoId": 1, "motivo": "error", "monto": 0}, "monto_invalido"),
        ({"pagoId": 1, "motivo": "error", "monto": "-5"}, "monto_invalido"),
        ({"pagoId": 1, "motivo": "error", "monto": "10.005"}, "monto_invalido"),
        ({"pagoId": 1, "motivo": "error", "monto": "1000.01"}, "monto_excede_reversible"),
        ({"pagoId": 1}, "argumento_invalido"),
    ],
)
async def test_refused_reversals_change_nothing_and_are_audited_with_their_code(client, db, argumentos, codigo) -> None:
    antes = business_state(db)
    assert error_code(await call(client, "anularPago", argumentos)) == codigo
    assert business_state(db) == antes
    with db.lectura() as conn:
        assert conn.execute(select(func.count()).select_from(Anulacion).where(Anulacion.pago_id == 1)).scalar_one() == 0
    fila = audit_rows(db)[-1]
    assert (fila.tipo, fila.resultado, fila.metadatos["codigo"]) == ("anulacion", "rechazado", codigo)


async def test_the_same_key_reverses_once_and_a_key_reused_with_other_data_is_refused(client, db) -> None:
    pago_id = pago_nuevo(db, 3, "100.00")
    args = {"pagoId": pago_id, "motivo": "devolución", "monto": "40", "idempotencyKey": "anul-1"}
    primera = ok(await call(client, "anularPago", args))
    segunda = ok(await call(client, "anularPago", args))
    assert segunda["repetido"] is True and segunda["anulacion_id"] == primera["anulacion_id"]
    assert (segunda["saldo_nuevo"], segunda["reversible"]) == ("60.00", "60.00")
    assert len(anulaciones(db, pago_id)) == 1 and saldo(db, 3) == Decimal("60.00")
    otra = await call(client, "anularPago", {**args, "monto": "41"})
    assert error_code(otra) == "clave_idempotencia_reutilizada"
    otro_pago = await call(client, "anularPago", {**args, "pagoId": 1})
    assert error_code(otro_pago) == "clave_idempotencia_reutilizada"
    assert len(anulaciones(db, pago_id)) == 1 and saldo(db, 3) == Decimal("60.00")


async def test_a_retry_of_a_full_reversal_is_recognised_even_when_nothing_remains(client, db) -> None:
    pago_id = pago_nuevo(db, 3, "25.00")
    args = {"pagoId": pago_id, "motivo": "duplicado", "idempotencyKey": "anul-todo"}
    primera = ok(await call(client, "anularPago", args))
    assert ok(await call(client, "anularPago", args))["anulacion_id"] == primera["anulacion_id"]
    assert saldo(db, 3) == Decimal("0.00")


async def test_a_read_only_caller_cannot_reverse(db) -> None:
    from soporte_mcp.errors import PermisoDenegado
    from soporte_mcp.services.anulaciones import anular_pago
    from soporte_mcp.services.auditoria import Llamada

    with pytest.raises(PermisoDenegado):
        anular_pago(db=db, llamada=Llamada("anularPago", puede_escribir=False), pago_id=1, motivo="x")
    assert anulaciones(db, 1) == []


async def test_anular_pago_is_annotated_destructive_so_that_hosts_ask(client) -> None:
    herramienta = next(t for t in (await client.list_tools()).tools if t.name == "anularPago")
    a = herramienta.annotations
    assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, True, False)
