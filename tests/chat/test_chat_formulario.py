"""The server's confirmation form in soporte-chat: shown in the terminal, answered s/n (or by --yes),
declined when nobody can answer, and never followed by a second question of the chat's own."""

from __future__ import annotations

import io
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from mcp.types import ElicitRequestFormParams

from soporte_mcp.chat.formulario import responder_en_terminal
from tests.chat.conftest import saldo
from tests.chat.modelo_falso import Llamadas, Texto
from tests.conftest import audit_rows, business_state

PAGO = Llamadas([("registrarPago", {"clienteId": 2, "monto": 500})])
PETICION = "Registra un pago de $500 para el cliente 2"


def test_the_servers_form_is_shown_and_a_yes_pays_without_a_second_question(chat, modelo, db) -> None:
    modelo.guionar(PAGO, Texto(lambda p: f"Nuevo saldo: ${p.resultado()['saldo_nuevo']}"))

    r = chat("-i", input=f"{PETICION}\ns\n/exit\n")

    assert r.exit_code == 0, r.stderr
    assert "El servidor soporte le pide:\n  Confirme el pago antes de registrarlo:" in r.stderr
    assert "Cliente: #2 Juan Carlos Pérez" in r.stderr and "Saldo después del pago: $1350.50" in r.stderr
    assert "¿Confirma la operación? (Sí: se registra tal como se muestra. No: no se registra nada.) [s/n]:" in r.stderr
    assert "¿Ejecutar registrarPago" not in r.stderr
    assert "Nuevo saldo: $1350.50" in r.stdout and saldo(db, 2) == Decimal("1350.50")
    assert audit_rows(db)[-1].metadatos["confirmacion"] == "confirmada"


def test_a_no_at_the_form_writes_nothing_and_the_model_hears_it_was_not_confirmed(chat, modelo, db) -> None:
    antes = business_state(db)
    modelo.guionar(PAGO, Texto("De acuerdo, no registro el pago."))

    r = chat("-p", PETICION, input="n\n")

    assert r.exit_code == 0, r.stderr
    assert r.stdout == "De acuerdo, no registro el pago.\n"
    assert business_state(db) == antes
    (rechazo,) = modelo.peticiones[1].resultados()
    assert rechazo.startswith("Error: El usuario no confirmó el pago de $500.00 al cliente 2")
    assert audit_rows(db)[-1].metadatos["confirmacion"] == "rechazada"


def test_yes_accepts_the_form_without_asking(chat, modelo, db) -> None:
    modelo.guionar(PAGO, Texto("Hecho."))

    r = chat("-p", PETICION, "--yes")

    assert r.exit_code == 0, r.stderr
    assert "Confirme el pago antes de registrarlo:" in r.stderr and "Aceptado (--yes)." in r.stderr
    assert saldo(db, 2) == Decimal("1350.50")
    assert audit_rows(db)[-1].metadatos["confirmacion"] == "confirmada"


def test_one_shot_with_nobody_to_answer_declines_the_form_and_suggests_yes(chat, modelo, db) -> None:
    antes = business_state(db)
    modelo.guionar(PAGO, Texto("No se registró."))

    r = chat(input=PETICION)  # the request came on stdin: nobody is left to answer

    assert r.exit_code == 0, r.stderr
    assert "se rechaza el formulario. Use --yes para aceptarlo." in r.stderr
    assert business_state(db) == antes
    assert audit_rows(db)[-1].metadatos["confirmacion"] == "rechazada"


def test_a_server_that_claims_to_confirm_and_does_not_ask_loses_the_chats_trust(
    chat, modelo, tmp_path: Path
) -> None:
    config = tmp_path / "servidores.json"
    guion = str(Path(__file__).with_name("servidor_sin_formulario.py"))
    config.write_text(json.dumps({"mcpServers": {"mentiroso": {"command": sys.executable, "args": [guion]}}}))
    pagar = Llamadas([("pagar", {})])
    modelo.guionar(pagar, Texto("Pagado."), pagar, Texto("No pagado."))

    r = chat("--config", str(config), "-i", input="paga\npaga otra vez\nn\n/exit\n")

    assert r.exit_code == 0, r.stderr
    primero, segundo = r.stderr.split("dijo que pediría confirmación para pagar y no la pidió")
    assert "¿Ejecutar pagar" not in primero  # trusted the first time...
    assert "¿Ejecutar pagar (mentiroso)" in segundo  # ...and asks itself from then on
    assert modelo.peticiones[3].resultados()[0].startswith("El usuario no autorizó ejecutar pagar")


FORMULARIO = ElicitRequestFormParams(message="¿Seguro?\x1b[2J", requested_schema={
    "type": "object",
    "properties": {
        "confirmar": {"type": "boolean", "title": "Confirmar", "default": False},
        "veces": {"type": "integer", "title": "Veces", "default": 1},
        "canal": {"type": "string", "title": "Canal", "enum": ["correo", "teléfono"]},
        "nota": {"type": "string", "title": "Nota"},
    },
    "required": ["confirmar", "canal"],
})


def _responder(monkeypatch: pytest.MonkeyPatch, entrada: str, *, aceptar: bool = False):
    monkeypatch.setattr(sys, "stdin", io.StringIO(entrada))
    return responder_en_terminal("demo", FORMULARIO, aceptar=aceptar)


def test_each_field_shows_its_title_options_and_default_and_empty_takes_the_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    resultado = _responder(monkeypatch, "\nx\n3\ncorreo\n\n")

    err = capsys.readouterr().err
    assert "Confirmar [s/N]:" in err and "Veces [1]:" in err and "Canal {correo, teléfono}:" in err
    assert "Escriba un número." in err
    assert "\x1b" not in err  # a server's text cannot drive the terminal
    assert (resultado.action, resultado.content) == ("accept", {"confirmar": False, "veces": 3, "canal": "correo"})


def test_the_end_of_the_input_declines_and_three_wrong_answers_cancel(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _responder(monkeypatch, "s\n").action == "decline"
    assert _responder(monkeypatch, "s\n1\nfax\nfax\nfax\n").action == "cancel"


def test_yes_cannot_make_up_a_required_field_without_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _responder(monkeypatch, "", aceptar=True).action == "decline"
