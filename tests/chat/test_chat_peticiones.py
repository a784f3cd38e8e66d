"""Each Spanish request of the system we replace, end to end: scripted model → soporte-chat → real server over stdio.

The scripted model chooses the tool calls a good model would and builds its answer from
the tool results it is sent back, so the data in each answer came through MCP from the
demo database.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from soporte_mcp.db.models import Pago, Ticket
from tests.chat.conftest import saldo
from tests.chat.modelo_falso import Llamadas, ModeloFalso, Peticion, Texto


def ultimo_id(db, tabla) -> int:
    with db.lectura() as conn:
        return conn.execute(select(func.max(tabla.id))).scalar_one()


def pagos_desde(db, pago_id: int) -> list[tuple]:
    with db.lectura() as conn:
        filas = conn.execute(
            select(Pago.cliente_id, Pago.monto, Pago.metodo_pago).where(Pago.id > pago_id).order_by(Pago.id))
        return [tuple(f) for f in filas]


def tickets_desde(db, ticket_id: int) -> list[tuple]:
    with db.lectura() as conn:
        filas = conn.execute(select(Ticket.cliente_id, Ticket.prioridad, Ticket.estado).where(Ticket.id > ticket_id)
                             .order_by(Ticket.id))
        return [tuple(f) for f in filas]


def herramientas_llamadas(modelo: ModeloFalso) -> list[str]:
    """The tools the model called, in order, as the last request's history shows them."""
    mensajes = modelo.peticiones[-1].mensajes
    return [tc["function"]["name"] for m in mensajes if m.get("tool_calls") for tc in m["tool_calls"]]


def id_encontrado(p: Peticion) -> int:
    return p.resultado()["clientes"][0]["id"]


def busqueda(query: str) -> list:
    return [Llamadas([("buscarCliente", {"query": query})]),
            Texto(lambda p: "Encontré a "
                  + ", ".join(f"{c['nombre']} <{c['email']}>" for c in p.resultado()["clientes"]))]


def respuesta_saldo(p: Peticion) -> str:
    r = p.resultado()
    return f"El saldo de {r['cliente']['nombre']} es ${r['saldo']}."


def respuesta_pago(p: Peticion) -> str:
    r = p.resultado()
    return (f"Pago de ${r['monto']} ({r['metodo_pago']}) registrado; "
            f"nuevo saldo de {r['cliente_nombre']}: ${r['saldo_nuevo']}.")


def respuesta_ticket(p: Peticion) -> str:
    r = p.resultado()
    return f"Ticket {r['numero']} creado para {r['cliente_nombre']} (prioridad {r['prioridad']})."


def conversacion(*peticiones: str) -> str:
    return "\n".join(peticiones) + "\n/exit\n"


def test_a_payment_request_in_one_shot_registers_it_and_answers_the_new_balance(chat, modelo, db) -> None:
    antes = ultimo_id(db, Pago)
    modelo.guionar(Llamadas([("registrarPago", {"clienteId": 2, "monto": 500})]), Texto(respuesta_pago))

    r = chat("-p", "Registra un pago de $500 para el cliente 2", "--yes")

    assert r.exit_code == 0, r.stderr
    assert r.stdout == "Pago de $500.00 (transferencia) registrado; nuevo saldo de Juan Carlos Pérez: $1350.50.\n"
    assert "¿Ejecutar" not in r.stderr  # --yes approves without asking
    assert saldo(db, 2) == Decimal("1350.50")
    assert pagos_desde(db, antes) == [(2, Decimal("500.00"), "transferencia")]
    llamada, resultado = modelo.peticiones[1].mensajes[-2:]
    assert resultado["role"] == "tool" and resultado["tool_call_id"] == llamada["tool_calls"][0]["id"]


def test_search_then_balance_chains_buscar_cliente_then_consultar_saldo(chat, modelo) -> None:
    modelo.guionar(
        Llamadas([("buscarCliente", {"query": "María García"})]),
        Llamadas([("consultarSaldo", lambda p: {"clienteId": id_encontrado(p)})]),
        Texto(respuesta_saldo),
    )

    r = chat("-p", "Busca a María García y dime su saldo")

    assert r.exit_code == 0, r.stderr
    assert r.stdout == "El saldo de María García López es $1250.00.\n"
    assert herramientas_llamadas(modelo) == ["buscarCliente", "consultarSaldo"]
    assert modelo.peticiones[2].resultado()["cliente"]["id"] == 1
    assert "¿Ejecutar" not in r.stderr  # read-only tools never ask


def test_search_and_balance_requests_answer_with_the_demo_data(chat, modelo) -> None:
    modelo.guionar(
        *busqueda("María García"), *busqueda("juan.perez@empresa.com"), *busqueda("Ana Rodríguez"),
        Llamadas([("buscarCliente", {"query": "María García López"})]),
        Llamadas([("consultarSaldo", lambda p: {"clienteId": id_encontrado(p)})]), Texto(respuesta_saldo),
        Llamadas([("consultarSaldo", {"clienteId": 1})]), Texto(respuesta_saldo),
        Llamadas([("consultarSaldo", {"clienteId": 2})]), Texto(respuesta_saldo),
    )

    r = chat("-i", input=conversacion(
        "Busca a María García", "¿Puedes encontrar al cliente juan.perez@empresa.com?",
        "Encuentra información de Ana Rodríguez", "¿Cuál es el saldo de María García López?",
        "Consulta el saldo del cliente ID 1", "Muéstrame el balance del cliente 2"))

    assert r.exit_code == 0, r.stderr
    respuestas = [linea.removeprefix("> ") for linea in r.stdout.splitlines() if linea.strip("> ")]
    assert respuestas == [
        "Encontré a María García López <maria.garcia@email.com>",
        "Encontré a Juan Carlos Pérez <juan.perez@empresa.com>",
        "Encontré a Ana Sofía Rodríguez <ana.rodriguez@gmail.com>",
        "El saldo de María García López es $1250.00.",
        "El saldo de María García López es $1250.00.",
        "El saldo de Juan Carlos Pérez es $850.50.",
    ]


def test_ticket_requests_open_tickets_for_the_right_customers(chat, modelo, db) -> None:
    antes = ultimo_id(db, Ticket)
    modelo.guionar(
        Llamadas([("crearTicket", {"clienteId": 1, "titulo": "Problema de facturación",
                                   "descripcion": "El cliente reporta un problema de facturación."})]),
        Texto(respuesta_ticket),
        Llamadas([("crearTicket", {"clienteId": 2, "titulo": "Problemas con su cuenta",
                                   "descripcion": "El cliente tiene problemas con su cuenta.", "prioridad": "alta"})]),
        Texto(respuesta_ticket),
        Llamadas([("buscarCliente", {"query": "María García"})]),
        Llamadas([("crearTicket", lambda p: {"clienteId": id_encontrado(p), "titulo": "No puede acceder a su cuenta",
                                             "descripcion": "La clienta no puede acceder a su cuenta."})]),
        Texto(respuesta_ticket),
    )

    r = chat("-i", "--yes", input=conversacion(
        "Crea un ticket para el cliente ID 1 sobre problema de facturación",
        "El cliente 2 tiene problemas con su cuenta, crea un ticket urgente",
        "Crear ticket para María García: no puede acceder a su cuenta"))

    assert r.exit_code == 0, r.stderr
    assert tickets_desde(db, antes) == [(1, "media", "abierto"), (2, "alta", "abierto"), (1, "media", "abierto")]
    for n, nombre, prioridad in [(antes + 1, "María García López", "media"), (antes + 2, "Juan Carlos Pérez", "alta"),
                                 (antes + 3, "María García López", "media")]:
        assert f"Ticket #{n:06d} creado para {nombre} (prioridad {prioridad})." in r.stdout


def test_payment_requests_raise_the_balance_by_the_amount_with_the_method_said(chat, modelo, db) -> None:
    antes = ultimo_id(db, Pago)
    modelo.guionar(
        Llamadas([("registrarPago", {"clienteId": 1, "monto": 300, "metodoPago": "transferencia"})]),
        Texto(respuesta_pago),
        Llamadas([("buscarCliente", {"query": "María García"})]),
        Llamadas([("registrarPago",
                   lambda p: {"clienteId": id_encontrado(p), "monto": 150, "metodoPago": "efectivo"})]),
        Texto(respuesta_pago),
    )

    r = chat("-i", "--yes", input=conversacion(
        "El cliente ID 1 pagó $300 por transferencia bancaria", "María García hizo un pago de $150 en efectivo"))

    assert r.exit_code == 0, r.stderr
    assert "Pago de $300.00 (transferencia) registrado; nuevo saldo de María García López: $1550.00." in r.stdout
    assert "Pago de $150.00 (efectivo) registrado; nuevo saldo de María García López: $1700.00." in r.stdout
    assert pagos_desde(db, antes) == [(1, Decimal("300.00"), "transferencia"), (1, Decimal("150.00"), "efectivo")]
    assert saldo(db, 1) == Decimal("1700.00")


def test_statistics_requests_answer_with_the_real_counts(chat, modelo) -> None:
    estadisticas = Llamadas([("estadisticas", {})])
    modelo.guionar(
        estadisticas, Texto(lambda p: "Clientes: {c[total]}; tickets abiertos: {t[abiertos]}.".format(
            c=p.resultado()["clientes"], t=p.resultado()["tickets"])),
        estadisticas, Texto(lambda p: f"Hay {p.resultado()['clientes']['total']} clientes en total."),
        estadisticas, Texto(lambda p: f"Hay {p.resultado()['tickets']['abiertos']} tickets abiertos."),
    )

    r = chat("-i", input=conversacion("Muéstrame las estadísticas del sistema", "¿Cuántos clientes hay en total?",
                                      "¿Cuántos tickets están abiertos?"))

    assert r.exit_code == 0, r.stderr
    for respuesta in ["Clientes: 6; tickets abiertos: 2.", "Hay 6 clientes en total.", "Hay 2 tickets abiertos."]:
        assert respuesta in r.stdout
