"""The support desk's day through soporte-chat: scripted model → soporte-chat → real server over stdio.

Tickets worked through the state table and payments listed and reversed, each
writing call confirmed at the prompt like every other tool that modifies data.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from soporte_mcp.db.models import Anulacion, HistorialTicket, Pago, Ticket
from soporte_mcp.services.conciliacion import verificar_anulaciones, verificar_saldos
from tests.chat.conftest import saldo
from tests.chat.modelo_falso import Llamadas, Peticion, Texto
from tests.chat.test_chat_peticiones import conversacion, herramientas_llamadas, id_encontrado

ABIERTOS = ["abierto", "en_proceso", "pendiente"]


def tickets_de(p: Peticion) -> str:
    r = p.resultado()
    return "Tickets: " + ", ".join(f"{t['numero']} {t['titulo']} ({t['estado']})" for t in r["tickets"])


def ticket_cambiado(p: Peticion) -> str:
    t = p.resultado()["ticket"]
    return f"Ticket {t['numero']}: {t['estado']}, asignado a {t['asignado_a']}."


def anulacion_hecha(p: Peticion) -> str:
    r = p.resultado()
    return (f"Anulados ${r['monto']} del pago {r['pago_id']} de {r['cliente_nombre']}; "
            f"saldo ${r['saldo_anterior']} → ${r['saldo_nuevo']}; quedan ${r['reversible']} por anular.")


def pagos_listados(p: Peticion) -> str:
    r = p.resultado()
    return f"{r['cliente_nombre']}: " + (", ".join(f"pago {x['id']} ${x['monto']}" for x in r["pagos"]) or "sin pagos")


def de_carlos_mendoza(p: Peticion) -> dict:
    (carlos,) = [c for c in p.resultado()["clientes"] if c["nombre"].startswith("Carlos")]
    return {"clienteId": carlos["id"]}


def primero_del_mes() -> str:
    return datetime.now(ZoneInfo("America/Guayaquil")).date().replace(day=1).isoformat()


def test_the_desk_requests_work_through_the_chat_and_each_change_is_confirmed(chat, modelo, db) -> None:
    modelo.guionar(
        # ¿Qué tickets abiertos tiene María García?
        Llamadas([("buscarCliente", {"query": "María García"})]),
        Llamadas([("listarTickets", lambda p: {"clienteId": id_encontrado(p), "estado": ABIERTOS})]),
        Texto(tickets_de),
        # Pasa el ticket #000003 a en proceso y asígnalo a Ana
        Llamadas([("actualizarTicket", {"ticketId": "#000003", "estado": "en_proceso", "asignadoA": "Ana"})]),
        Texto(ticket_cambiado),
        # Marca el ticket 3 como resuelto: se reinició el router
        Llamadas([("actualizarTicket", {"ticketId": 3, "estado": "resuelto", "comentario": "Se reinició el router"})]),
        Texto(ticket_cambiado),
        # Anula el pago 17, se registró por error
        Llamadas([("anularPago", {"pagoId": 17, "motivo": "Se registró por error"})]),
        Texto(anulacion_hecha),
        # Devuélvele 50 dólares del pago 12 a Carlos: the payment is checked to be Carlos's first
        Llamadas([("buscarCliente", {"query": "Carlos"})]),
        Llamadas([("listarPagos", de_carlos_mendoza)]),
        Llamadas([("anularPago", {"pagoId": 12, "monto": 50, "motivo": "Devolución al cliente"})]),
        Texto(anulacion_hecha),
        # Muéstrame los pagos de Juan Pérez de este mes
        Llamadas([("buscarCliente", {"query": "Juan Pérez"})]),
        Llamadas([("listarPagos", lambda p: {"clienteId": id_encontrado(p), "desde": primero_del_mes()})]),
        Texto(pagos_listados),
        # Reabre el ticket 3, el cliente dice que sigue sin internet
        Llamadas([("actualizarTicket", {"ticketId": 3, "estado": "abierto",
                                        "comentario": "El cliente dice que sigue sin internet"})]),
        Texto(ticket_cambiado),
    )

    r = chat("-i", input=conversacion(
        "¿Qué tickets abiertos tiene María García?", "Pasa el ticket #000003 a en proceso y asígnalo a Ana", "s",
        "Marca el ticket 3 como resuelto: se reinició el router", "s",
        "Anula el pago 17, se registró por error", "s",
        "Devuélvele 50 dólares del pago 12 a Carlos", "s",
        "Muéstrame los pagos de Juan Pérez de este mes",
        "Reabre el ticket 3, el cliente dice que sigue sin internet", "s"))

    assert r.exit_code == 0, r.stderr
    respuestas = [linea.removeprefix("> ") for linea in r.stdout.splitlines() if linea.strip("> ")]
    assert respuestas[:5] == [
        "Tickets: #000001 Problema con factura del mes anterior (abierto)",
        "Ticket #000003: en_proceso, asignado a Ana.",
        "Ticket #000003: resuelto, asignado a Ana.",
        "Anulados $250.00 del pago 17 de Roberto González Vega; saldo $3200.00 → $2950.00; quedan $0.00 por anular.",
        "Anulados $50.00 del pago 12 de Carlos Alberto Mendoza; saldo $2100.75 → $2050.75; quedan $200.00 por anular.",
    ]
    assert respuestas[5] == "Juan Carlos Pérez: " + (
        ", ".join(f"pago {i} ${m:.2f}" for i, m in pagos_del_mes(db, 2)) or "sin pagos")
    assert respuestas[6] == "Ticket #000003: abierto, asignado a Ana."
    # Every writing call asked first, once: the chat for actualizarTicket, the server's own form
    # (MCP elicitation) for anularPago, which the chat then does not ask again; the listings did not.
    assert r.stderr.count("¿Ejecutar actualizarTicket") == 3 and r.stderr.count("¿Ejecutar anularPago") == 0
    assert r.stderr.count("Confirme la anulación") == 2
    assert "¿Ejecutar listar" not in r.stderr and "¿Ejecutar buscar" not in r.stderr
    assert herramientas_llamadas(modelo).count("listarPagos") == 2

    ticket, historial = ticket_y_historial(db, 3)
    assert (ticket.estado, ticket.asignado_a, ticket.fecha_resolucion, ticket.version) == ("abierto", "Ana", None, 4)
    assert historial == [("estado", "abierto", "en_proceso", None), ("asignado_a", None, "Ana", None),
                         ("estado", "en_proceso", "resuelto", "Se reinició el router"),
                         ("estado", "resuelto", "abierto", "El cliente dice que sigue sin internet")]
    assert (saldo(db, 6), saldo(db, 4)) == (Decimal("2950.00"), Decimal("2050.75"))
    assert anulado(db, 17) == Decimal("250.00") and anulado(db, 12) == Decimal("50.00")
    assert verificar_saldos(db=db) == [] and verificar_anulaciones(db=db) == []


def test_a_reversal_refused_at_the_prompt_reverses_nothing(chat, modelo, db) -> None:
    modelo.guionar(Llamadas([("anularPago", {"pagoId": 17, "motivo": "Se registró por error"})]),
                   Texto("De acuerdo, no anulo el pago."))

    r = chat("-p", "Anula el pago 17, se registró por error", input="n\n")

    assert r.exit_code == 0, r.stderr
    # The server asks itself (its form, declined), so the chat does not ask a second time.
    assert "Confirme la anulación" in r.stderr and "¿Ejecutar anularPago" not in r.stderr
    assert r.stdout == "De acuerdo, no anulo el pago.\n"
    assert anulado(db, 17) == Decimal("0.00") and saldo(db, 6) == Decimal("3200.00")


def test_read_only_chat_offers_the_lists_but_not_the_changes(chat, modelo) -> None:
    modelo.guionar(Texto("Solo puedo consultar."))

    r = chat("-p", "Anula el pago 17", "--read-only")

    assert r.exit_code == 0, r.stderr
    ofrecidas = modelo.peticiones[0].herramientas
    assert {"listarTickets", "listarPagos"} <= set(ofrecidas)
    assert not {"actualizarTicket", "anularPago"} & set(ofrecidas)


def test_the_system_prompt_says_when_to_list_before_acting_and_what_today_is(chat, modelo) -> None:
    modelo.guionar(Texto("Hola."))

    chat("-p", "Hola")

    sistema = modelo.peticiones[0].mensajes[0]["content"]
    assert "listarTickets" in sistema and "listarPagos" in sistema
    assert f"Hoy es {datetime.now().astimezone().date().isoformat()}" in sistema


def pagos_del_mes(db, cliente_id: int) -> list[tuple[int, Decimal]]:
    zona = ZoneInfo("America/Guayaquil")
    inicio = datetime.now(zona).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with db.lectura() as conn:
        filas = conn.execute(select(Pago.id, Pago.monto).where(Pago.cliente_id == cliente_id, Pago.fecha >= inicio)
                             .order_by(Pago.fecha.desc(), Pago.id.desc()))
        return [tuple(f) for f in filas]


def ticket_y_historial(db, ticket_id: int):
    with db.lectura() as conn:
        ticket = conn.execute(select(Ticket.__table__).where(Ticket.id == ticket_id)).one()
        t = HistorialTicket.__table__
        filas = conn.execute(select(t.c.campo, t.c.anterior, t.c.nuevo, t.c.comentario)
                             .where(t.c.ticket_id == ticket_id).order_by(t.c.id))
        return ticket, [tuple(f) for f in filas]


def anulado(db, pago_id: int) -> Decimal:
    with db.lectura() as conn:
        return sum(conn.execute(select(Anulacion.monto).where(Anulacion.pago_id == pago_id)).scalars(), Decimal("0.00"))
