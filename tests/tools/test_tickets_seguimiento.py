"""actualizarTicket and listarTickets: the state table, the history, optimistic concurrency, stable cursors."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select, update

from soporte_mcp.db.models import TRANSICIONES, HistorialTicket, Ticket
from soporte_mcp.dominio import ESTADOS_TICKET
from tests.conftest import audit_rows, call, error_code, ok

pytestmark = pytest.mark.anyio

PERMITIDAS = [(a, b) for a, siguientes in TRANSICIONES.items() for b in siguientes]
PROHIBIDAS = [(a, b) for a in ESTADOS_TICKET for b in ESTADOS_TICKET
              if a != b and a != "cerrado" and b not in TRANSICIONES[a]]


def poner_estado(db, ticket_id: int, estado: str) -> None:
    with db.escritura() as conn:
        conn.execute(update(Ticket.__table__).where(Ticket.id == ticket_id).values(estado=estado))


def fila(db, ticket_id: int):
    with db.lectura() as conn:
        return conn.execute(select(Ticket.__table__).where(Ticket.id == ticket_id)).one()


def historial(db, ticket_id: int) -> list:
    with db.lectura() as conn:
        t = HistorialTicket.__table__
        return list(conn.execute(select(t).where(t.c.ticket_id == ticket_id).order_by(t.c.id)).all())


def test_the_state_table_is_the_one_the_issue_asks_for() -> None:
    assert len(PERMITIDAS) == 9 and len(PROHIBIDAS) == 7
    assert TRANSICIONES["cerrado"] == ()
    assert set(TRANSICIONES["resuelto"]) == {"cerrado", "abierto"}


@pytest.mark.parametrize(("desde", "hasta"), PERMITIDAS)
async def test_every_move_the_state_table_allows_is_made_and_recorded(client, db, desde, hasta) -> None:
    poner_estado(db, 3, desde)
    antes = fila(db, 3)
    r = ok(await call(client, "actualizarTicket", {"ticketId": 3, "estado": hasta}))
    assert (r["ticket"]["estado"], r["ticket"]["version"]) == (hasta, antes.version + 1)
    assert r["estados_siguientes"] == list(TRANSICIONES[hasta])
    (entrada,) = historial(db, 3)
    assert (entrada.campo, entrada.anterior, entrada.nuevo) == ("estado", desde, hasta)
    assert entrada.usuario == "pytest-client 1.0"
    assert fila(db, 3).estado == hasta


@pytest.mark.parametrize(("desde", "hasta"), PROHIBIDAS)
async def test_every_move_it_does_not_allow_is_refused_naming_the_allowed_states(client, db, desde, hasta) -> None:
    poner_estado(db, 3, desde)
    antes = fila(db, 3)
    resultado = await call(client, "actualizarTicket", {"ticketId": 3, "estado": hasta, "comentario": "x"})
    assert error_code(resultado) == "transicion_invalida"
    assert all(s in resultado.content[0].text for s in TRANSICIONES[desde])
    assert fila(db, 3) == antes and historial(db, 3) == []
    auditoria = audit_rows(db)[-1]
    assert (auditoria.tipo, auditoria.resultado, auditoria.metadatos["codigo"]) == (
        "actualizacion", "rechazado", "transicion_invalida")


@pytest.mark.parametrize("cambio", [{"estado": s} for s in ESTADOS_TICKET if s != "cerrado"]
                         + [{"prioridad": "alta"}, {"asignadoA": "Ana"}, {"comentario": "hola"}])
async def test_a_closed_ticket_is_final(client, db, cambio) -> None:
    antes = fila(db, 6)
    assert antes.estado == "cerrado"
    assert error_code(await call(client, "actualizarTicket", {"ticketId": 6, **cambio})) == "ticket_cerrado"
    assert fila(db, 6) == antes


async def test_resolving_stamps_the_resolution_date_closing_keeps_it_and_reopening_clears_it(client, db) -> None:
    ok(await call(client, "actualizarTicket", {"ticketId": 3, "estado": "resuelto"}))
    resuelto = fila(db, 3).fecha_resolucion
    assert resuelto is not None
    ok(await call(client, "actualizarTicket", {"ticketId": 3, "estado": "abierto"}))
    assert fila(db, 3).fecha_resolucion is None
    ok(await call(client, "actualizarTicket", {"ticketId": 3, "estado": "resuelto"}))
    ok(await call(client, "actualizarTicket", {"ticketId": 3, "estado": "cerrado"}))
    assert fila(db, 3).fecha_resolucion is not None


async def test_one_call_appends_one_entry_per_change_each_with_the_comment(client, db) -> None:
    r = ok(await call(client, "actualizarTicket", {
        "ticketId": "#000003", "estado": "en_proceso", "asignadoA": "Ana", "prioridad": "critica",
        "comentario": "Se llamó al cliente"}))
    assert {(c["campo"], c["anterior"], c["nuevo"]) for c in r["cambios"]} == {
        ("estado", "abierto", "en_proceso"), ("asignado_a", None, "Ana"), ("prioridad", "alta", "critica")}
    entradas = historial(db, 3)
    assert len(entradas) == 3 and {e.comentario for e in entradas} == {"Se llamó al cliente"}
    assert fila(db, 3).version == 2  # one change, one version


async def test_a_comment_alone_is_one_entry_and_an_unchanged_value_is_none(client, db) -> None:
    r = ok(await call(client, "actualizarTicket", {"ticketId": 3, "estado": "abierto", "comentario": "Sigue igual"}))
    assert [(c["campo"], c["comentario"]) for c in r["cambios"]] == [("comentario", "Sigue igual")]
    assert [(e.campo, e.anterior, e.nuevo) for e in historial(db, 3)] == [("comentario", None, None)]


async def test_an_empty_assignee_unassigns(client, db) -> None:
    ok(await call(client, "actualizarTicket", {"ticketId": 2, "asignadoA": ""}))
    assert fila(db, 2).asignado_a is None
    assert historial(db, 2)[-1].nuevo is None


@pytest.mark.parametrize(
    ("argumentos", "codigo"),
    [
        ({"ticketId": 3}, "sin_cambios"),
        ({"ticketId": 3, "comentario": "   "}, "sin_cambios"),
        ({"ticketId": 3, "estado": "olvidado"}, "estado_invalido"),
        ({"ticketId": 3, "prioridad": "altísima"}, "prioridad_invalida"),
        ({"ticketId": 999, "estado": "en_proceso"}, "ticket_no_encontrado"),
        ({"ticketId": "tres", "estado": "en_proceso"}, "dato_invalido"),
        ({"ticketId": 3, "asignadoA": "x" * 101}, "dato_invalido"),
        ({"estado": "en_proceso"}, "argumento_invalido"),
    ],
)
async def test_refused_updates_change_nothing(client, db, argumentos, codigo) -> None:
    antes = fila(db, 3)
    assert error_code(await call(client, "actualizarTicket", argumentos)) == codigo
    assert fila(db, 3) == antes and historial(db, 3) == []


async def test_a_change_on_a_stale_version_is_refused_with_the_current_state(client, db) -> None:
    leido = ok(await call(client, "listarTickets", {"clienteId": 4}))["tickets"][0]
    assert leido["id"] == 3
    ok(await call(client, "actualizarTicket", {"ticketId": 3, "asignadoA": "Luis", "version": leido["version"]}))
    tarde = await call(client, "actualizarTicket", {"ticketId": 3, "asignadoA": "Ana", "version": leido["version"]})
    assert error_code(tarde) == "version_desactualizada"
    assert "Luis" in tarde.content[0].text and fila(db, 3).asignado_a == "Luis"
    ok(await call(client, "actualizarTicket", {"ticketId": 3, "asignadoA": "Ana", "version": leido["version"] + 1}))
    assert fila(db, 3).asignado_a == "Ana"


async def test_the_ticket_resource_carries_its_history(client, db) -> None:
    ok(await call(client, "actualizarTicket", {"ticketId": 3, "estado": "en_proceso", "comentario": "Revisando"}))
    ficha = json.loads((await client.read_resource("ticket://3")).contents[0].text)
    assert (ficha["estado"], ficha["version"]) == ("en_proceso", 2)
    assert [(h["campo"], h["nuevo"], h["comentario"]) for h in ficha["historial"]] == [
        ("estado", "en_proceso", "Revisando")]
    assert "busqueda" not in ficha


# --- listarTickets ---------------------------------------------------------------------------


async def test_tickets_are_listed_newest_first_with_number_customer_and_state(client) -> None:
    r = ok(await call(client, "listarTickets"))
    fechas = [t["fecha_creacion"] for t in r["tickets"]]
    assert r["total"] == 6 and fechas == sorted(fechas, reverse=True) and r["siguiente"] is None
    tres = next(t for t in r["tickets"] if t["id"] == 3)
    assert (tres["numero"], tres["cliente_nombre"], tres["estado"]) == ("#000003", "Carlos Alberto Mendoza", "abierto")


@pytest.mark.parametrize(
    ("filtro", "ids"),
    [
        ({"estado": "abierto"}, {1, 3}),
        ({"estado": ["en_proceso", "Pendiente"]}, {2, 5}),
        ({"clienteId": 1, "estado": ["abierto", "en_proceso", "pendiente"]}, {1}),
        ({"prioridad": "alta"}, {2, 3, 6}),
        ({"texto": "FACTURA"}, {1, 6}),
        ({"texto": "línea"}, {3}),
        ({"texto": "linea portal"}, {3}),
        ({"texto": "teléfono"}, {4}),
        ({"texto": "100%_"}, set()),
        ({"clienteId": 3}, {4}),
    ],
)
async def test_tickets_can_be_filtered(client, filtro, ids) -> None:
    assert {t["id"] for t in ok(await call(client, "listarTickets", filtro))["tickets"]} == ids


@pytest.mark.parametrize(
    ("argumentos", "codigo"),
    [
        ({"estado": "olvidado"}, "estado_invalido"),
        ({"prioridad": "urgente"}, "prioridad_invalida"),
        ({"limite": 0}, "limite_invalido"),
        ({"limite": 51}, "limite_invalido"),
        ({"clienteId": 999}, "cliente_no_encontrado"),
        ({"cursor": "no-es-un-cursor"}, "cursor_invalido"),
        ({"cursor": "A" * 201}, "argumento_invalido"),
        ({"texto": "a b c d e f g h i"}, "consulta_demasiado_larga"),
    ],
)
async def test_bad_list_arguments_are_refused_with_their_code(client, argumentos, codigo) -> None:
    assert error_code(await call(client, "listarTickets", argumentos)) == codigo


async def test_pages_follow_each_other_and_new_tickets_do_not_shift_them(client) -> None:
    primera = ok(await call(client, "listarTickets", {"limite": 4}))
    assert primera["total"] == 4 and primera["siguiente"]
    ok(await call(client, "crearTicket", {"clienteId": 1, "titulo": "Nuevo", "descripcion": "Llega entre páginas"}))
    segunda = ok(await call(client, "listarTickets", {"limite": 4, "cursor": primera["siguiente"]}))
    assert segunda["siguiente"] is None
    vistos = [t["id"] for t in primera["tickets"] + segunda["tickets"]]
    assert sorted(vistos) == [1, 2, 3, 4, 5, 6]  # each old ticket once, the new one not slipped in


def _manipular(cursor: str, cambio) -> str:
    datos = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return base64.urlsafe_b64encode(json.dumps(cambio(datos)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cambio",
    [lambda d: ["pagos", d[1], d[2]], lambda d: [d[0], "ayer", d[2]], lambda d: [d[0], d[1], "7"],
     lambda d: [d[0], d[1], -1], lambda d: [d[0], d[1]], lambda d: {"a": 1}],
)
async def test_a_tampered_cursor_is_refused_not_guessed(client, cambio) -> None:
    siguiente = ok(await call(client, "listarTickets", {"limite": 2}))["siguiente"]
    manipulado = _manipular(siguiente, cambio)
    assert error_code(await call(client, "listarTickets", {"limite": 2, "cursor": manipulado})) == "cursor_invalido"
