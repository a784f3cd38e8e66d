"""Money moves only on a person's yes: the server asks (MCP elicitation, form mode) before
registrarPago and anularPago write, in both protocol generations, and audits how it ended.

In memory here; over stdio and HTTP with 1 and 2 workers in test_confirmacion_transportes.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.types import ElicitRequestFormParams, ElicitResult, InputRequiredResult
from pydantic import SecretStr
from sqlalchemy import select

from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente
from soporte_mcp.errors import ConfirmacionDesactualizada
from soporte_mcp.server import build_server
from soporte_mcp.services import pagos
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.confirmacion import Confirmacion, Estado, Vista
from soporte_mcp.tools import _confirmacion
from tests.conftest import CLIENT_INFO, audit_rows, business_state, error_code, ok

pytestmark = pytest.mark.anyio

MODOS = pytest.mark.parametrize("modo", ["legacy", "2026-07-28"])
PAGO = {"clienteId": 2, "monto": "500", "metodoPago": "efectivo", "descripcion": "Cuota de mayo"}


class Persona:
    """An elicitation callback that answers every form the same way and remembers what it was shown."""

    def __init__(self, accion: str, confirmar: bool = True) -> None:
        self.accion = accion
        self.confirmar = confirmar
        self.preguntas: list[ElicitRequestFormParams] = []

    async def __call__(self, _ctx: Any, params: ElicitRequestFormParams) -> ElicitResult:
        self.preguntas.append(params)
        contenido = {"confirmar": self.confirmar} if self.accion == "accept" else None
        return ElicitResult(action=self.accion, content=contenido)


@asynccontextmanager
async def cliente(server, modo: str = "2026-07-28", persona: Persona | None = None) -> AsyncIterator[Client]:
    async with Client(server, mode=modo, client_info=CLIENT_INFO, elicitation_callback=persona) as c:
        yield c


def servidor(settings: Settings, db: Database, politica: str):
    return build_server(settings.model_copy(update={"confirmar_pagos": politica}), db)


def saldo(db: Database, cliente_id: int) -> Decimal:
    with db.lectura() as conn:
        return conn.execute(select(Cliente.saldo).where(Cliente.id == cliente_id)).scalar_one()


def ultima_auditoria(db: Database) -> Any:
    return audit_rows(db)[-1]


@MODOS
async def test_an_accepted_payment_is_written_and_audited_as_confirmed(server, db, modo: str) -> None:
    persona = Persona("accept")
    async with cliente(server, modo, persona) as c:
        pago = ok(await c.call_tool("registrarPago", PAGO))
    assert len(persona.preguntas) == 1
    assert (pago["saldo_anterior"], pago["saldo_nuevo"]) == ("850.50", "1350.50")
    fila = ultima_auditoria(db)
    assert (fila.resultado, fila.metadatos["confirmacion"], fila.metadatos["pago_id"]) == (
        "ok", "confirmada", pago["pago_id"])


@MODOS
@pytest.mark.parametrize(("accion", "estado"), [("decline", "rechazada"), ("cancel", "cancelada")])
async def test_a_declined_or_cancelled_payment_writes_nothing_and_is_audited_as_refused(
    server, db, modo: str, accion: str, estado: str
) -> None:
    antes = business_state(db)
    async with cliente(server, modo, Persona(accion)) as c:
        resultado = await c.call_tool("registrarPago", PAGO)
    assert error_code(resultado) == "pago_no_confirmado"
    assert "no confirmó el pago de $500.00 al cliente 2" in resultado.content[0].text
    assert business_state(db) == antes
    fila = ultima_auditoria(db)
    assert (fila.herramienta, fila.resultado, fila.cliente_id) == ("registrarPago", "rechazado", 2)
    assert (fila.metadatos["codigo"], fila.metadatos["confirmacion"]) == ("pago_no_confirmado", estado)


async def test_accepting_the_form_with_the_box_at_no_is_a_decline(server, db) -> None:
    antes = business_state(db)
    async with cliente(server, persona=Persona("accept", confirmar=False)) as c:
        assert error_code(await c.call_tool("registrarPago", PAGO)) == "pago_no_confirmado"
    assert business_state(db) == antes
    assert ultima_auditoria(db).metadatos["confirmacion"] == "rechazada"


async def test_the_form_shows_customer_amount_method_and_balance_now_and_after(server) -> None:
    persona = Persona("decline")
    async with cliente(server, persona=persona) as c:
        await c.call_tool("registrarPago", PAGO)
    pregunta = persona.preguntas[0]
    for linea in ("Cliente: #2 Juan Carlos Pérez", "Monto: $500.00", "Método de pago: efectivo",
                  "Concepto: Cuota de mayo", "Saldo actual: $850.50", "Saldo después del pago: $1350.50"):
        assert linea in pregunta.message
    esquema = pregunta.requested_schema
    assert esquema["properties"]["confirmar"]["type"] == "boolean" and esquema["required"] == ["confirmar"]


@MODOS
async def test_a_reversal_asks_with_payment_reason_and_balances_and_a_decline_reverses_nothing(
    server, db, modo: str
) -> None:
    persona = Persona("decline")
    antes = business_state(db)
    async with cliente(server, modo, persona) as c:
        resultado = await c.call_tool("anularPago", {"pagoId": 13, "monto": "40", "motivo": "Cobro duplicado"})
    assert error_code(resultado) == "anulacion_no_confirmada"
    assert business_state(db) == antes and saldo(db, 2) == Decimal("850.50")
    mensaje = persona.preguntas[0].message
    for linea in ("Pago: #13 de $100.00", "Cliente: #2 Juan Carlos Pérez", "Monto a anular: $40.00",
                  "Motivo: Cobro duplicado", "Saldo actual: $850.50", "Saldo después de la anulación: $810.50"):
        assert linea in mensaje
    assert ultima_auditoria(db).metadatos["confirmacion"] == "rechazada"


async def test_an_accepted_reversal_lowers_the_balance_and_is_audited_as_confirmed(server, db) -> None:
    async with cliente(server, persona=Persona("accept")) as c:
        anulacion = ok(await c.call_tool("anularPago", {"pagoId": 13, "motivo": "Cobro duplicado"}))
    assert anulacion["saldo_nuevo"] == "750.50" and saldo(db, 2) == Decimal("750.50")
    assert ultima_auditoria(db).metadatos["confirmacion"] == "confirmada"


@MODOS
async def test_a_client_without_elicitation_under_auto_pays_and_the_audit_says_no_confirmation_was_possible(
    server, db, modo: str
) -> None:
    async with cliente(server, modo) as c:
        ok(await c.call_tool("registrarPago", PAGO))
    assert ultima_auditoria(db).metadatos["confirmacion"] == "no_posible"


@MODOS
async def test_a_client_without_elicitation_under_siempre_is_refused_saying_why_and_nothing_is_written(
    settings, db, modo: str
) -> None:
    antes = business_state(db)
    async with cliente(servidor(settings, db, "siempre"), modo) as c:
        assert "registrarPago" in {t.name for t in (await c.list_tools()).tools}
        resultado = await c.call_tool("registrarPago", PAGO)
    assert error_code(resultado) == "confirmacion_no_disponible"
    assert "no admite formularios de confirmación" in resultado.content[0].text
    assert business_state(db) == antes
    fila = ultima_auditoria(db)
    assert (fila.resultado, fila.metadatos["confirmacion"]) == ("rechazado", "no_posible")


async def test_under_siempre_a_client_with_elicitation_is_asked_and_pays_on_yes(settings, db) -> None:
    async with cliente(servidor(settings, db, "siempre"), persona=Persona("accept")) as c:
        ok(await c.call_tool("registrarPago", PAGO))
    assert ultima_auditoria(db).metadatos["confirmacion"] == "confirmada"


async def test_under_nunca_nobody_is_asked_and_the_tools_do_not_claim_to_ask(settings, db) -> None:
    persona = Persona("decline")
    async with cliente(servidor(settings, db, "nunca"), persona=persona) as c:
        metas = {t.name: t.meta for t in (await c.list_tools()).tools}
        ok(await c.call_tool("registrarPago", PAGO))
    assert persona.preguntas == [] and metas["registrarPago"] is None
    assert ultima_auditoria(db).metadatos["confirmacion"] == "no_requerida"


async def test_the_tools_that_ask_say_so_in_their_meta(server) -> None:
    async with cliente(server) as c:
        metas = {t.name: (t.meta or {}).get("soporte/confirmacion") for t in (await c.list_tools()).tools}
    assert {n for n, m in metas.items() if m} == {"registrarPago", "anularPago"}


@MODOS
async def test_a_retry_with_the_key_of_a_payment_already_made_returns_it_without_asking(server, db, modo: str) -> None:
    persona = Persona("accept")
    async with cliente(server, modo, persona) as c:
        primero = ok(await c.call_tool("registrarPago", PAGO | {"idempotencyKey": "k-1"}))
        segundo = ok(await c.call_tool("registrarPago", PAGO | {"idempotencyKey": "k-1"}))
    assert len(persona.preguntas) == 1
    assert segundo["pago_id"] == primero["pago_id"] and segundo["repetido"] is True
    assert saldo(db, 2) == Decimal("1350.50")


async def test_a_payment_that_would_be_refused_anyway_is_refused_without_asking(server, db) -> None:
    persona = Persona("accept")
    async with cliente(server, persona=persona) as c:
        assert error_code(await c.call_tool("registrarPago", PAGO | {"monto": "-5"})) == "monto_invalido"
        assert error_code(await c.call_tool("registrarPago", PAGO | {"clienteId": 999})) == "cliente_no_encontrado"
    assert persona.preguntas == []


@pytest.mark.parametrize("politica", ["auto", "siempre"])
async def test_when_nobody_can_be_asked_the_form_preview_is_not_read(
    settings, db, monkeypatch: pytest.MonkeyPatch, politica: str
) -> None:
    lecturas: list[int] = []
    original = pagos.previa_pago

    def previa_contada(**kwargs: Any) -> Any:
        lecturas.append(kwargs["cliente_id"])
        return original(**kwargs)

    monkeypatch.setattr(pagos, "previa_pago", previa_contada)
    async with cliente(servidor(settings, db, politica)) as c:  # declares no elicitation
        await c.call_tool("registrarPago", PAGO)
    assert lecturas == []
    async with cliente(servidor(settings, db, politica), persona=Persona("accept")) as c:
        ok(await c.call_tool("registrarPago", PAGO))
    assert lecturas and set(lecturas) == {2}  # read for each round of the question


@pytest.mark.parametrize("politica", ["auto", "siempre", "nunca"])
async def test_when_nobody_can_be_asked_no_resolver_runs_and_the_outcome_is_the_same(
    settings, db, monkeypatch: pytest.MonkeyPatch, politica: str
) -> None:
    corridas: list[str] = []
    for nombre in ("_leer", "preguntar"):
        original = getattr(_confirmacion, nombre)
        monkeypatch.setattr(_confirmacion, nombre, lambda *a, _n=nombre, _o=original, **k: (corridas.append(_n),
                                                                                             _o(*a, **k))[1])
    esperado = {"auto": ("ok", "no_posible"), "siempre": ("rechazado", "no_posible"),
                "nunca": ("ok", "no_requerida")}[politica]
    async with cliente(servidor(settings, db, politica)) as c:  # declares no elicitation
        await c.call_tool("registrarPago", PAGO)
        await c.call_tool("anularPago", {"pagoId": 1, "motivo": "se registró por error"})
    assert corridas == []
    filas = audit_rows(db)[-2:]
    assert [(f.resultado, f.metadatos["confirmacion"]) for f in filas] == [esperado, esperado]
    async with cliente(servidor(settings, db, "auto"), persona=Persona("accept")) as c:
        ok(await c.call_tool("registrarPago", PAGO))
    assert "preguntar" in corridas  # a client that can be asked still gets the SDK's resolution


async def test_under_siempre_a_client_without_elicitation_retrying_a_payment_already_made_gets_it_back(
    settings, db
) -> None:
    async with cliente(servidor(settings, db, "siempre"), persona=Persona("accept")) as c:
        primero = ok(await c.call_tool("registrarPago", PAGO | {"idempotencyKey": "k-2"}))
    async with cliente(servidor(settings, db, "siempre")) as c:
        segundo = ok(await c.call_tool("registrarPago", PAGO | {"idempotencyKey": "k-2"}))
        assert error_code(await c.call_tool("registrarPago", PAGO | {"clienteId": 999})) == "cliente_no_encontrado"
    assert (segundo["pago_id"], segundo["repetido"]) == (primero["pago_id"], True)
    assert saldo(db, 2) == Decimal("1350.50")


async def _primera_ronda(c: Client) -> InputRequiredResult:
    ronda = await c.session.call_tool("registrarPago", PAGO, allow_input_required=True)
    assert isinstance(ronda, InputRequiredResult)
    return ronda


def _si(ronda: InputRequiredResult) -> dict[str, ElicitResult]:
    return {clave: ElicitResult(action="accept", content={"confirmar": True}) for clave in ronda.input_requests}


async def test_a_replayed_accepted_request_state_asks_again_and_pays_nothing_more(server, db) -> None:
    async with cliente(server, persona=Persona("accept")) as c:
        ronda = await _primera_ronda(c)
        respuesta = {"input_responses": _si(ronda), "request_state": ronda.request_state}
        pagado = await c.session.call_tool("registrarPago", PAGO, allow_input_required=True, **respuesta)
        assert ok(pagado)["saldo_nuevo"] == "1350.50"
        antes = business_state(db)
        otra_vez = await c.session.call_tool("registrarPago", PAGO, allow_input_required=True, **respuesta)
    # The question now names the new balance and the new payment: the recorded "yes" does not answer it.
    assert isinstance(otra_vez, InputRequiredResult)
    assert "Saldo actual: $1350.50" in next(iter(otra_vez.input_requests.values())).params.message
    assert business_state(db) == antes


async def test_a_forged_request_state_is_refused_and_pays_nothing(server, db) -> None:
    antes = business_state(db)
    async with cliente(server, persona=Persona("accept")) as c:
        ronda = await _primera_ronda(c)
        falso = '{"v":3,"outcomes":{},"asked":{}}'
        for estado in (falso, ronda.request_state[:-4] + "AAAA", "v1." + "A" * 80):
            with pytest.raises(MCPError) as exc:
                await c.session.call_tool("registrarPago", PAGO, allow_input_required=True,
                                          input_responses=_si(ronda), request_state=estado)
            assert exc.value.error.data == {"reason": "invalid_request_state"}
    assert business_state(db) == antes


async def test_a_request_state_sealed_by_another_server_key_is_refused(settings, db) -> None:
    otra_clave = settings.model_copy(update={"request_state_secret": None})
    async with cliente(build_server(otra_clave, db), persona=Persona("accept")) as c:
        ronda = await _primera_ronda(c)
    antes = business_state(db)
    async with cliente(build_server(otra_clave, db), persona=Persona("accept")) as c:
        with pytest.raises(MCPError):
            await c.session.call_tool("registrarPago", PAGO, allow_input_required=True,
                                      input_responses=_si(ronda), request_state=ronda.request_state)
    assert business_state(db) == antes


async def test_a_request_state_from_a_server_sharing_the_secret_is_accepted(settings, db) -> None:
    compartida = settings.model_copy(update={"request_state_secret": SecretStr("s" * 40)})
    async with cliente(build_server(compartida, db), persona=Persona("accept")) as c:
        ronda = await _primera_ronda(c)
    async with cliente(build_server(compartida, db), persona=Persona("accept")) as c:
        pagado = await c.session.call_tool("registrarPago", PAGO, allow_input_required=True,
                                           input_responses=_si(ronda), request_state=ronda.request_state)
    assert ok(pagado)["saldo_nuevo"] == "1350.50"


def test_a_confirmation_whose_balance_changed_before_the_write_is_refused_and_writes_nothing(db) -> None:
    vista = pagos.previa_pago(db=db, cliente_id=2, monto="500").vista
    pagos.registrar_pago(db=db, llamada=Llamada("registrarPago"), cliente_id=2, monto="1")  # someone else's payment
    antes = business_state(db)
    with pytest.raises(ConfirmacionDesactualizada):
        pagos.registrar_pago(db=db, llamada=Llamada("registrarPago"), cliente_id=2, monto="500",
                             confirmacion=Confirmacion(Estado.CONFIRMADA, vista=vista))
    assert business_state(db) == antes
    assert audit_rows(db)[-1].metadatos["codigo"] == "confirmacion_desactualizada"


def test_one_confirmation_pays_at_most_once_even_when_presented_twice(db) -> None:
    confirmada = Confirmacion(Estado.CONFIRMADA, vista=pagos.previa_pago(db=db, cliente_id=2, monto="500").vista)
    pagos.registrar_pago(db=db, llamada=Llamada("registrarPago"), cliente_id=2, monto="500", confirmacion=confirmada)
    with pytest.raises(ConfirmacionDesactualizada):
        pagos.registrar_pago(db=db, llamada=Llamada("registrarPago"), cliente_id=2, monto="500",
                             confirmacion=confirmada)
    assert saldo(db, 2) == Decimal("1350.50")


def test_the_shared_secret_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="al menos 32 bytes"):
        Settings(request_state_secret="corto")


def test_what_the_person_saw_includes_the_last_payment_so_equal_balances_differ(db) -> None:
    antes = pagos.previa_pago(db=db, cliente_id=2, monto="5").vista
    assert antes == Vista(Decimal("850.50"), "13")


def test_serve_with_workers_hands_them_one_generated_key_unless_the_operator_set_one(settings) -> None:
    from soporte_mcp.cli import _con_secreto_compartido
    from soporte_mcp.http import ajustes_de_trabajador, entorno_trabajador

    generado = _con_secreto_compartido(settings).request_state_secret.get_secret_value()
    assert len(generado) >= 32 and generado != _con_secreto_compartido(settings).request_state_secret.get_secret_value()
    propio = settings.model_copy(update={"request_state_secret": SecretStr("p" * 40)})
    assert _con_secreto_compartido(propio) is propio
    entorno = entorno_trabajador(_con_secreto_compartido(propio), host="127.0.0.1", allowed_hosts=[])
    with pytest.MonkeyPatch.context() as mp:
        for nombre, valor in entorno.items():
            mp.setenv(nombre, valor)
        assert ajustes_de_trabajador()[0].request_state_secret.get_secret_value() == "p" * 40
