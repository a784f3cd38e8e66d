"""Safety and the tool loop: approvals, --yes, --read-only, tool errors, refusals, parallel calls, the round limit."""

from __future__ import annotations

import json

from tests.chat.modelo_falso import Llamadas, Texto
from tests.conftest import business_state

PAGO = Llamadas([("registrarPago", {"clienteId": 2, "monto": 500})])
PETICION = "Registra un pago de $500 para el cliente 2"
TICKET = Llamadas([("crearTicket", {"clienteId": 2, "titulo": "Sin servicio", "descripcion": "No tiene internet"})])
PETICION_TICKET = "Abre un ticket para el cliente 2: no tiene internet"


def eco_del_resultado(p) -> str:
    return "Resultado: " + p.resultados()[-1]


def test_a_yes_typed_at_the_confirmation_runs_the_tool(chat, modelo, db) -> None:
    # crearTicket: its server does not ask for it (registrarPago's form is in test_chat_formulario.py).
    tickets = business_state(db)[2]
    modelo.guionar(TICKET, Texto(lambda p: f"Ticket {p.resultado()['numero']} creado."))

    r = chat("-i", input=f"{PETICION_TICKET}\ns\n/exit\n")

    assert r.exit_code == 0, r.stderr
    assert "¿Ejecutar crearTicket (soporte)" in r.stderr and '"titulo": "Sin servicio"' in r.stderr
    assert "creado." in r.stdout
    assert business_state(db)[2] == tickets + 1


def test_a_no_goes_back_to_the_model_as_a_refusal_and_changes_nothing(chat, modelo, db) -> None:
    antes = business_state(db)
    modelo.guionar(TICKET, Texto("De acuerdo, no abro el ticket."))

    r = chat("-p", PETICION_TICKET, input="n\n")

    assert r.exit_code == 0, r.stderr
    assert r.stdout == "De acuerdo, no abro el ticket.\n"
    assert business_state(db) == antes
    (rechazo,) = modelo.peticiones[1].resultados()
    assert rechazo.startswith("El usuario no autorizó ejecutar crearTicket")


def test_without_a_terminal_to_ask_a_writing_tool_is_refused_and_yes_is_suggested(chat, modelo, db) -> None:
    antes = business_state(db)
    modelo.guionar(TICKET, Texto("No se abrió el ticket."))

    r = chat(input=PETICION_TICKET)  # the request itself comes on stdin, so nobody is left to answer

    assert r.exit_code == 0, r.stderr
    assert "--yes" in r.stderr
    assert business_state(db) == antes
    assert modelo.peticiones[1].resultados()[0].startswith("El usuario no autorizó")


def test_read_only_offers_the_model_only_the_read_only_tools(chat, modelo, db) -> None:
    antes = business_state(db)
    modelo.guionar(PAGO, Texto(eco_del_resultado))  # a model that calls a tool it was not offered

    r = chat("-p", PETICION, "--read-only", "--yes")

    assert r.exit_code == 0, r.stderr
    assert modelo.peticiones[0].herramientas == [
        "buscarCliente", "consultarSaldo", "listarTickets", "listarPagos", "estadisticas"]
    assert r.stdout.startswith("Resultado: Error: no hay ninguna herramienta 'registrarPago'")
    assert business_state(db) == antes


def test_all_nine_tools_are_offered_by_default(chat_http, modelo) -> None:
    modelo.guionar(Texto("Hola."))

    chat_http("-p", "Hola")

    assert modelo.peticiones[0].herramientas == [
        "buscarCliente", "consultarSaldo", "crearTicket", "listarTickets", "actualizarTicket", "registrarPago",
        "listarPagos", "anularPago", "estadisticas"]


def test_a_tool_error_goes_back_to_the_model_as_the_result_and_the_chat_goes_on(chat_http, modelo) -> None:
    modelo.guionar(
        Llamadas([("consultarSaldo", {"clienteId": 99})]), Texto("No existe el cliente 99."),
        Llamadas([("consultarSaldo", {"clienteId": 2})]), Texto(lambda p: f"Saldo: ${p.resultado()['saldo']}"),
    )

    r = chat_http("-i", input="Saldo del cliente 99\nY del cliente 2\n/exit\n")

    assert r.exit_code == 0, r.stderr
    (error,) = modelo.peticiones[1].resultados()
    assert error.startswith("Error: No existe un cliente con id 99. Use buscarCliente")
    assert "✗ Error: No existe un cliente con id 99" in r.stderr
    assert "No existe el cliente 99." in r.stdout and "Saldo: $850.50" in r.stdout


def test_parallel_tool_calls_each_get_their_result_in_order(chat_http, modelo) -> None:
    modelo.guionar(
        Llamadas([("consultarSaldo", {"clienteId": 1}), ("consultarSaldo", {"clienteId": 2})]),
        Texto("Listo."),
    )

    r = chat_http("-p", "Saldos de los clientes 1 y 2")

    assert r.exit_code == 0, r.stderr
    llamada, *resultados = modelo.peticiones[1].mensajes[-3:]
    assert [tc["id"] for tc in llamada["tool_calls"]] == [m["tool_call_id"] for m in resultados]
    assert [json.loads(m["content"])["saldo"] for m in resultados] == ["1250.00", "850.50"]


def test_arguments_that_are_not_a_json_object_are_an_error_result(chat_http, modelo) -> None:
    modelo.guionar(Llamadas([("consultarSaldo", [1, 2])]), Texto(eco_del_resultado))  # type: ignore[list-item]

    r = chat_http("-p", "Saldo")

    assert r.stdout.startswith("Resultado: Error: los argumentos de consultarSaldo no son un objeto JSON")


def test_the_tool_round_limit_stops_the_turn_with_a_clear_message(chat_http, modelo) -> None:
    estadisticas = Llamadas([("estadisticas", {})])
    modelo.guionar(estadisticas, estadisticas, estadisticas, Texto("nunca llega"))

    r = chat_http("-p", "Estadísticas, muchas veces", "--max-tool-rounds", "2")

    assert r.exit_code == 1
    assert "límite de 2 rondas de herramientas" in r.stderr
    assert len(modelo.peticiones) == 3  # two rounds of tools, then the model's third request for tools is refused
    assert r.stdout == ""
