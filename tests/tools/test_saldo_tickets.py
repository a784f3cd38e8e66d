"""consultarSaldo and crearTicket through the in-memory MCP client."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from soporte_mcp.db.models import Cliente
from tests.conftest import CLIENT_INFO, audit_rows, business_state, call, error_code, ok

pytestmark = pytest.mark.anyio


def desactivar(db, cliente_id: int) -> None:
    with db.escritura() as conn:
        conn.execute(update(Cliente.__table__).where(Cliente.__table__.c.id == cliente_id).values(activo=False))


async def test_balance_shows_customer_last_five_payments_and_summary(client) -> None:
    r = ok(await call(client, "consultarSaldo", {"clienteId": 6}))
    assert r["cliente"]["nombre"] == "Roberto González Vega"
    assert r["saldo"] == "3200.00"
    assert len(r["ultimos_pagos"]) == 5
    fechas = [p["fecha"] for p in r["ultimos_pagos"]]
    assert fechas == sorted(fechas, reverse=True)
    assert r["resumen"]["pagos_total"] == 5
    assert r["resumen"]["fecha_ultimo_pago"] == fechas[0]


async def test_balance_summary_counts_open_tickets(client) -> None:
    r = ok(await call(client, "consultarSaldo", {"clienteId": 1}))
    assert r["resumen"] == {**r["resumen"], "tickets_total": 1, "tickets_abiertos": 1, "pagos_total": 3}
    assert r["saldo"] == "1250.00"


async def test_customer_without_payments_has_no_last_payment_date(client) -> None:
    r = ok(await call(client, "consultarSaldo", {"clienteId": 3}))
    assert (r["saldo"], r["ultimos_pagos"], r["resumen"]["fecha_ultimo_pago"]) == ("0.00", [], None)


async def test_unknown_customer_is_a_clear_refusal_not_a_crash(client, db) -> None:
    assert error_code(await call(client, "consultarSaldo", {"clienteId": 4040})) == "cliente_no_encontrado"
    fila = audit_rows(db)[-1]
    assert (fila.herramienta, fila.resultado, fila.cliente_id) == ("consultarSaldo", "rechazado", None)
    assert fila.metadatos["argumentos"] == {"clienteId": 4040}


async def test_audit_row_records_tool_arguments_customer_and_caller(client, db) -> None:
    ok(await call(client, "consultarSaldo", {"clienteId": 2}))
    fila = audit_rows(db)[-1]
    assert (fila.tipo, fila.herramienta, fila.resultado, fila.cliente_id) == ("consulta", "consultarSaldo", "ok", 2)
    assert fila.usuario == f"{CLIENT_INFO.name} {CLIENT_INFO.version}"
    assert fila.ip_address is None  # in memory: no network address


async def test_ticket_is_created_open_with_number_and_priority(client, db) -> None:
    r = ok(await call(client, "crearTicket", {
        "clienteId": 1, "titulo": "Problema de facturación", "descripcion": "No reconoce un cargo",
    }))
    assert (r["prioridad"], r["estado"], r["cliente_nombre"]) == ("media", "abierto", "María García López")
    assert r["numero"] == f"#{r['id']:06d}" and r["numero"] == "#000007"
    fila = audit_rows(db)[-1]
    assert (fila.tipo, fila.herramienta, fila.cliente_id, fila.metadatos["ticket_id"]) == (
        "creacion", "crearTicket", 1, r["id"])
    recurso = await client.read_resource(f"ticket://{r['id']}")
    assert '"titulo": "Problema de facturación"' in recurso.contents[0].text


@pytest.mark.parametrize("prioridad", ["Alta", "CRÍTICA", "baja"])
async def test_priority_accepts_allowed_values_in_any_case_or_accent(client, prioridad) -> None:
    r = ok(await call(client, "crearTicket",
                      {"clienteId": 2, "titulo": "t", "descripcion": "d", "prioridad": prioridad}))
    assert r["prioridad"] in ("alta", "critica", "baja")


@pytest.mark.parametrize("prioridad", ["urgente", "máxima", "1"])
async def test_invalid_priority_is_refused_naming_allowed_values_and_writes_nothing(client, db, prioridad) -> None:
    antes = business_state(db)
    resultado = await call(client, "crearTicket", {
        "clienteId": 2, "titulo": "t", "descripcion": "d", "prioridad": prioridad})
    assert error_code(resultado) == "prioridad_invalida"
    assert "baja, media, alta, critica" in resultado.content[0].text  # it names the allowed values
    assert business_state(db) == antes
    assert audit_rows(db)[-1].metadatos["codigo"] == "prioridad_invalida"


@pytest.mark.parametrize(("campo", "valor"), [("titulo", "  "), ("descripcion", ""), ("titulo", "x" * 201)])
async def test_blank_or_oversized_ticket_text_is_refused(client, db, campo, valor) -> None:
    args = {"clienteId": 2, "titulo": "t", "descripcion": "d", campo: valor}
    antes = business_state(db)
    assert error_code(await call(client, "crearTicket", args)) == "dato_invalido"
    assert business_state(db) == antes


async def test_ticket_for_unknown_or_inactive_customer_is_refused(client, db) -> None:
    antes = business_state(db)
    assert error_code(await call(client, "crearTicket", {"clienteId": 77, "titulo": "t", "descripcion": "d"})) == (
        "cliente_no_encontrado")
    desactivar(db, 5)
    assert error_code(await call(client, "crearTicket", {"clienteId": 5, "titulo": "t", "descripcion": "d"})) == (
        "cliente_inactivo")
    assert business_state(db)[1:] == antes[1:]
    assert audit_rows(db)[-1].cliente_id == 5


async def test_resources_give_customer_json_and_unknown_ids_are_errors(client) -> None:
    from mcp import MCPError

    r = await client.read_resource("cliente://1")
    assert r.contents[0].mime_type == "application/json" and '"saldo": "1250.00"' in r.contents[0].text
    with pytest.raises(MCPError):
        await client.read_resource("cliente://999")
    with pytest.raises(MCPError):
        await client.read_resource("ticket://abc")


async def test_prompt_lays_out_how_to_attend_a_customer(client) -> None:
    prompts = await client.list_prompts()
    assert [p.name for p in prompts.prompts] == ["atender_cliente"]
    r = await client.get_prompt("atender_cliente", {"cliente": "María García"})
    texto = r.messages[0].content.text
    assert "María García" in texto and "buscarCliente" in texto and "consultarSaldo" in texto
