"""/admin for the desk: tickets moved along the state table with their history, payments reversed."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx2
import pytest
from sqlalchemy import select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, HistorialTicket, Pago
from soporte_mcp.services.conciliacion import verificar_anulaciones, verificar_saldos
from tests.admin.test_admin import USUARIO, cliente, filas_admin, ticket
from tests.conftest import audit_rows, business_state

pytestmark = pytest.mark.anyio


def clave(html: str) -> str:
    return re.search(r'name="clave" value="([0-9a-f]+)"', html).group(1)


async def anular(panel: httpx2.AsyncClient, pago_id: int, monto: str, motivo: str,
                 clave_form: str | None = None) -> httpx2.Response:
    if clave_form is None:
        clave_form = clave((await panel.get("/admin/anulacion/anular", params={"pago_id": pago_id})).text)
    datos = {"monto": monto, "motivo": motivo, "clave": clave_form}
    return await panel.post(f"/admin/anulacion/anular?pago_id={pago_id}", data=datos)


def anulaciones(db: Database, pago_id: int) -> list:
    with db.lectura() as conn:
        return list(conn.execute(select(Anulacion.__table__).where(Anulacion.pago_id == pago_id)).all())


async def test_a_ticket_edit_follows_the_state_table_and_lands_in_its_history(panel, db: Database) -> None:
    datos = {"estado": "en_proceso", "prioridad": "alta", "asignado_a": "Ana", "save": "Save"}
    assert (await panel.post("/admin/ticket/edit/3", data=datos)).status_code == 302
    with db.lectura() as conn:
        t = HistorialTicket.__table__
        entradas = conn.execute(select(t.c.campo, t.c.anterior, t.c.nuevo, t.c.usuario)
                                .where(t.c.ticket_id == 3).order_by(t.c.id)).all()
    assert [tuple(e) for e in entradas] == [("estado", "abierto", "en_proceso", USUARIO),
                                            ("asignado_a", None, "Ana", USUARIO)]
    historial = (await panel.get("/admin/historial-ticket/list", params={"ticket_id": 3})).text
    assert "en_proceso" in historial and "Ana" in historial
    assert "Teléfono actualizado" not in historial  # another ticket's history
    detalle = (await panel.get("/admin/ticket/details/3")).text
    assert "/admin/historial-ticket/list?ticket_id=3" in detalle


async def test_a_move_the_state_table_forbids_is_refused_in_the_panel_and_changes_nothing(
    panel, db: Database
) -> None:
    antes = ticket(db, 6)  # cerrado: final
    datos = {"estado": "abierto", "prioridad": "alta", "asignado_a": "soporte", "save": "Save"}
    respuesta = await panel.post("/admin/ticket/edit/6", data=datos)
    assert respuesta.status_code == 400 and "cerrado" in respuesta.text
    assert ticket(db, 6) == antes
    (auditoria,) = filas_admin(db)
    assert (auditoria.resultado, auditoria.metadatos["codigo"]) == ("rechazado", "ticket_cerrado")


async def test_the_payments_list_offers_to_reverse_each_payment(panel) -> None:
    pagina = (await panel.get("/admin/pago/list", params={"cliente_id": 4})).text
    assert "/admin/anulacion/anular?pago_id=12" in pagina
    formulario = (await panel.get("/admin/anulacion/anular", params={"pago_id": 12})).text
    assert 'id="pago-reversible">250.00<' in formulario and 'name="motivo"' in formulario


async def test_a_reversal_in_the_panel_goes_through_the_service_with_its_audit_row(panel, db: Database) -> None:
    respuesta = await anular(panel, 12, "50", "Devolución al cliente")
    assert respuesta.status_code == 303
    assert respuesta.headers["location"].endswith("/admin/pago/list?cliente_id=4")
    (fila,) = anulaciones(db, 12)
    assert (fila.monto, fila.motivo, fila.procesado_por) == (Decimal("50.00"), "Devolución al cliente", USUARIO)
    assert cliente(db, 4).saldo == Decimal("2050.75")
    (auditoria,) = filas_admin(db)
    assert (auditoria.tipo, auditoria.resultado, auditoria.metadatos["argumentos"]["accion"]) == (
        "anulacion", "ok", "anularPago")
    assert verificar_saldos(db=db) == [] and verificar_anulaciones(db=db) == []
    lista = (await panel.get("/admin/anulacion/list")).text
    assert "Devolución al cliente" in lista


async def test_submitting_the_same_reversal_form_twice_reverses_once(panel, db: Database) -> None:
    formulario = clave((await panel.get("/admin/anulacion/anular", params={"pago_id": 17})).text)
    for _ in range(2):
        assert (await anular(panel, 17, "", "Se registró por error", formulario)).status_code == 303
    assert [f.monto for f in anulaciones(db, 17)] == [Decimal("250.00")]
    assert cliente(db, 6).saldo == Decimal("2950.00")


@pytest.mark.parametrize(
    ("monto", "motivo", "codigo"),
    [("10", "  ", "motivo_requerido"), ("250.01", "error", "monto_excede_reversible"),
     ("-1", "error", "monto_invalido"), ("1.234", "error", "monto_invalido")],
)
async def test_a_refused_reversal_shows_the_reason_and_changes_nothing(
    panel, db: Database, monto: str, motivo: str, codigo: str
) -> None:
    antes = business_state(db)
    respuesta = await anular(panel, 12, monto, motivo)
    assert respuesta.status_code == 400 and 'id="error-anulacion"' in respuesta.text
    assert business_state(db) == antes and anulaciones(db, 12) == []
    (auditoria,) = filas_admin(db)
    assert (auditoria.resultado, auditoria.metadatos["codigo"]) == ("rechazado", codigo)


@pytest.mark.parametrize(
    ("metodo", "ruta"),
    [("GET", "/admin/anulacion/create"), ("POST", "/admin/anulacion/edit/1"),
     ("DELETE", "/admin/anulacion/delete?pks=1"), ("GET", "/admin/historial-ticket/create"),
     ("POST", "/admin/historial-ticket/edit/1"), ("DELETE", "/admin/historial-ticket/delete?pks=1")],
)
async def test_reversals_and_ticket_history_cannot_be_written_nor_deleted(
    panel, db: Database, metodo: str, ruta: str
) -> None:
    antes = business_state(db), len(audit_rows(db)), len(anulaciones(db, 9))
    respuesta = await panel.request(metodo, ruta, data={"monto": "1.00"} if metodo == "POST" else None)
    assert respuesta.status_code == 403
    assert (business_state(db), len(audit_rows(db)), len(anulaciones(db, 9))) == antes
    with db.lectura() as conn:
        assert conn.execute(select(Pago.id).where(Pago.id == 9)).scalar_one() == 9
