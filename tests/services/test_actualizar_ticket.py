"""services.tickets.actualizar_ticket without MCP or the panel: state, priority, assignee, resolution date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Ticket
from soporte_mcp.errors import DatoInvalido, PermisoDenegado, PrioridadInvalida, TicketNoEncontrado
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.tickets import actualizar_ticket, fecha_resolucion
from tests.conftest import audit_rows

OPERADORA = Llamada(herramienta="prueba", usuario="operadora")
AYER = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def fila(db: Database, ticket_id: int):  # noqa: ANN201
    with db.lectura() as conn:
        return conn.execute(select(Ticket.__table__).where(Ticket.id == ticket_id)).one()


def primero(db: Database, estado: str) -> int:
    with db.lectura() as conn:
        return conn.execute(select(func.min(Ticket.id)).where(Ticket.estado == estado)).scalar_one()


@pytest.mark.parametrize(
    ("antes", "fecha_antes", "despues", "esperada"),
    [("abierto", None, "resuelto", "ahora"), ("en_proceso", None, "cerrado", "ahora"),
     ("resuelto", AYER, "cerrado", AYER), ("cerrado", AYER, "resuelto", AYER),
     ("resuelto", AYER, "resuelto", AYER), ("resuelto", None, "cerrado", "ahora"),
     ("resuelto", AYER, "abierto", None), ("cerrado", AYER, "pendiente", None),
     ("abierto", None, "en_proceso", None)],
)
def test_the_resolution_date_is_stamped_on_resolving_kept_while_resolved_and_cleared_on_reopening(
    antes: str, fecha_antes: datetime | None, despues: str, esperada: object
) -> None:
    desde = datetime.now(UTC)
    fecha = fecha_resolucion(antes, fecha_antes, despues)
    if esperada == "ahora":
        assert fecha is not None and desde <= fecha <= datetime.now(UTC)
    else:
        assert fecha == esperada


def test_resolving_a_ticket_stamps_the_date_and_reopening_clears_it(db: Database) -> None:
    numero = primero(db, "abierto")

    resuelto = actualizar_ticket(db=db, llamada=OPERADORA, ticket_id=numero, estado="Resuelto",
                                 asignado_a=" Carla ")
    cerrado = actualizar_ticket(db=db, llamada=OPERADORA, ticket_id=numero, estado="cerrado")
    reabierto = actualizar_ticket(db=db, llamada=OPERADORA, ticket_id=numero, estado="en proceso")

    assert (resuelto.estado, resuelto.asignado_a) == ("resuelto", "Carla")
    assert resuelto.prioridad == fila(db, numero).prioridad  # not given: kept
    assert resuelto.fecha_resolucion is not None and cerrado.fecha_resolucion == resuelto.fecha_resolucion
    assert (reabierto.estado, reabierto.fecha_resolucion) == ("en_proceso", None)
    assert fila(db, numero).fecha_resolucion is None
    ultimas = audit_rows(db)[-3:]
    cliente_id = fila(db, numero).cliente_id
    assert [(r.tipo, r.resultado, r.cliente_id) for r in ultimas] == [("actualizacion", "ok", cliente_id)] * 3
    assert ultimas[0].metadatos["cambios"] == {"estado": ["abierto", "resuelto"],
                                                "asignado_a": [None, "Carla"]}
    assert ultimas[2].descripcion.endswith("estado cerrado -> en_proceso")


def test_nothing_given_changes_nothing_and_an_empty_assignee_unassigns(db: Database) -> None:
    numero = primero(db, "en_proceso")
    antes = fila(db, numero)

    actualizar_ticket(db=db, llamada=OPERADORA, ticket_id=numero)
    assert fila(db, numero) == antes and audit_rows(db)[-1].descripcion.endswith("sin cambios")

    actualizar_ticket(db=db, llamada=OPERADORA, ticket_id=numero, asignado_a="")
    assert fila(db, numero).asignado_a is None
    assert fila(db, numero)._asdict() == antes._asdict() | {"asignado_a": None}


@pytest.mark.parametrize(
    ("cambio", "error", "codigo"),
    [({"estado": "olvidado"}, DatoInvalido, "dato_invalido"),
     ({"prioridad": "urgentísima"}, PrioridadInvalida, "prioridad_invalida"),
     ({"asignado_a": "x" * 101}, DatoInvalido, "dato_invalido")],
    ids=["state", "priority", "long-assignee"],
)
def test_a_value_outside_its_list_is_refused_and_changes_nothing(
    db: Database, cambio: dict[str, str], error: type[DatoInvalido], codigo: str
) -> None:
    numero = primero(db, "abierto")
    antes = fila(db, numero)

    with pytest.raises(error) as rechazo:
        actualizar_ticket(db=db, llamada=OPERADORA, ticket_id=numero, **({"estado": "resuelto"} | cambio))

    assert rechazo.value.codigo == codigo
    assert fila(db, numero) == antes
    assert (audit_rows(db)[-1].resultado, audit_rows(db)[-1].metadatos["codigo"]) == ("rechazado", codigo)


def test_an_unknown_ticket_is_refused(db: Database) -> None:
    with pytest.raises(TicketNoEncontrado) as error:
        actualizar_ticket(db=db, llamada=OPERADORA, ticket_id=999, estado="cerrado")

    assert error.value.codigo == "ticket_no_encontrado"


def test_a_caller_that_may_only_read_cannot_change_a_ticket(db: Database) -> None:
    numero = primero(db, "abierto")
    antes = fila(db, numero)

    with pytest.raises(PermisoDenegado):
        actualizar_ticket(db=db, llamada=Llamada(herramienta="prueba", puede_escribir=False),
                          ticket_id=numero, estado="cerrado")

    assert fila(db, numero) == antes
