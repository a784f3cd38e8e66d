"""services.ficha_cliente without MCP or the panel: create and edit a customer's record."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente
from soporte_mcp.errors import ClienteNoEncontrado, DatoInvalido, PermisoDenegado
from soporte_mcp.services import ficha_cliente
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.clientes import buscar_clientes
from soporte_mcp.services.ficha_cliente import crear_cliente, editar_cliente
from soporte_mcp.services.texto import texto_busqueda
from tests.conftest import audit_rows, business_state

OPERADORA = Llamada(herramienta="prueba", usuario="operadora")
MARIA = "maria.garcia@email.com"


def fila(db: Database, cliente_id: int):
    with db.lectura() as conn:
        return conn.execute(select(Cliente.__table__).where(Cliente.id == cliente_id)).one()


def id_de(db: Database, email: str) -> int:
    with db.lectura() as conn:
        return conn.execute(select(Cliente.id).where(Cliente.email == email)).scalar_one()


def test_a_new_customer_starts_at_zero_and_the_search_finds_them(db: Database) -> None:
    nuevo = crear_cliente(db=db, llamada=OPERADORA, nombre="  Pedro Ñúñez ", email="Pedro@Nunez.EC",
                          telefono="+593 91 000 0000")

    assert (nuevo.nombre, nuevo.email, nuevo.saldo, nuevo.activo) == ("Pedro Ñúñez", "pedro@nunez.ec",
                                                                      Decimal("0.00"), True)
    assert fila(db, nuevo.id).saldo_inicial == Decimal("0.00")
    encontrados = buscar_clientes(db=db, llamada=OPERADORA, query="nunez pedro")
    assert [c.id for c in encontrados.clientes] == [nuevo.id]
    alta = [r for r in audit_rows(db) if r.usuario == "operadora" and r.tipo == "creacion"]
    assert [(r.resultado, r.cliente_id, r.usuario) for r in alta] == [("ok", nuevo.id, "operadora")]


@pytest.mark.parametrize(
    ("nombre", "email", "telefono"),
    [("", "a@b.ec", None), ("x" * 201, "a@b.ec", None), ("Ana", "sin-arroba", None), ("Ana", "a@b", None),
     ("Ana", "a@b.ec", "9" * 41), ("Ana", MARIA, None), ("Ana", MARIA.upper(), None)],
    ids=["blank-name", "long-name", "no-at", "no-domain", "long-phone", "taken-email", "taken-other-case"],
)
def test_an_unusable_record_is_refused_writes_nothing_and_is_audited(
    db: Database, nombre: str, email: str, telefono: str | None
) -> None:
    antes = business_state(db)

    with pytest.raises(DatoInvalido) as error:
        crear_cliente(db=db, llamada=OPERADORA, nombre=nombre, email=email, telefono=telefono)

    codigo = "email_en_uso" if email.lower() == MARIA else "dato_invalido"
    assert error.value.codigo == codigo
    assert business_state(db) == antes
    ultima = audit_rows(db)[-1]
    assert (ultima.tipo, ultima.resultado) == ("creacion", "rechazado")
    assert ultima.metadatos["codigo"] == codigo


def test_editing_changes_only_what_is_given_and_keeps_the_search_in_step(db: Database) -> None:
    maria = id_de(db, MARIA)
    antes = fila(db, maria)

    editado = editar_cliente(db=db, llamada=OPERADORA, cliente_id=maria, nombre="María José García")

    ahora = fila(db, maria)
    assert editado.nombre == ahora.nombre == "María José García"
    assert (ahora.email, ahora.telefono, ahora.activo, ahora.saldo) == (
        antes.email, antes.telefono, antes.activo, antes.saldo)
    assert ahora.busqueda == texto_busqueda("María José García", MARIA)
    ultima = audit_rows(db)[-1]
    assert (ultima.tipo, ultima.resultado, ultima.cliente_id) == ("actualizacion", "ok", maria)
    assert ultima.metadatos["cambios"] == {"nombre": ["María García López", "María José García"]}


def test_a_renamed_customer_is_found_by_the_new_name_and_no_longer_by_the_old(db: Database) -> None:
    maria = id_de(db, MARIA)
    editar_cliente(db=db, llamada=OPERADORA, cliente_id=maria, nombre="María José Benavides")

    def encontrados(query: str) -> list[int]:
        return [c.id for c in buscar_clientes(db=db, llamada=OPERADORA, query=query).clientes]

    assert encontrados("benav jose") == [maria]
    assert encontrados("lopez") == []  # gone from the name, in words and as a substring
    assert encontrados("maria garcia") == [maria]  # still the words of the email
    nuevo = crear_cliente(db=db, llamada=OPERADORA, nombre="Lucía Benavides", email="lb@correo.ec")
    assert sorted(encontrados("benavides")) == [maria, nuevo.id]


def test_an_empty_phone_clears_it_and_a_customer_can_be_deactivated(db: Database) -> None:
    maria = id_de(db, MARIA)

    editar_cliente(db=db, llamada=OPERADORA, cliente_id=maria, telefono="  ", activo=False)

    assert (fila(db, maria).telefono, fila(db, maria).activo) == (None, False)
    assert set(audit_rows(db)[-1].metadatos["cambios"]) == {"telefono", "activo"}


def test_saving_the_same_values_changes_nothing_and_says_so(db: Database) -> None:
    maria = id_de(db, MARIA)
    antes = fila(db, maria)

    editar_cliente(db=db, llamada=OPERADORA, cliente_id=maria, nombre=antes.nombre, email=MARIA.upper())

    assert fila(db, maria) == antes
    ultima = audit_rows(db)[-1]
    assert ultima.metadatos["cambios"] == {} and ultima.descripcion.endswith("sin cambios")


def test_an_email_another_customer_has_is_refused_when_editing(db: Database) -> None:
    juan = id_de(db, "juan.perez@empresa.com")
    antes = fila(db, juan)

    with pytest.raises(DatoInvalido, match=f"cliente {id_de(db, MARIA)}"):
        editar_cliente(db=db, llamada=OPERADORA, cliente_id=juan, email=MARIA)

    assert fila(db, juan) == antes
    assert (audit_rows(db)[-1].resultado, audit_rows(db)[-1].cliente_id) == ("rechazado", juan)


def test_the_unique_index_refuses_a_taken_email_that_got_past_the_check(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two operators saving the same email at once both pass the check on PostgreSQL; the index decides.
    monkeypatch.setattr(ficha_cliente, "_email_libre", lambda *_: None)
    antes = business_state(db)

    with pytest.raises(DatoInvalido) as alta:
        crear_cliente(db=db, llamada=OPERADORA, nombre="Otra María", email=MARIA)
    with pytest.raises(DatoInvalido):
        editar_cliente(db=db, llamada=OPERADORA, cliente_id=id_de(db, "juan.perez@empresa.com"), email=MARIA)

    assert alta.value.codigo == "email_en_uso"
    assert business_state(db) == antes
    assert [r.resultado for r in audit_rows(db)[-2:]] == ["rechazado", "rechazado"]


def test_editing_an_unknown_customer_is_refused(db: Database) -> None:
    with pytest.raises(ClienteNoEncontrado) as error:
        editar_cliente(db=db, llamada=OPERADORA, cliente_id=999, nombre="Nadie")

    assert error.value.codigo == "cliente_no_encontrado"
    assert audit_rows(db)[-1].metadatos["codigo"] == "cliente_no_encontrado"


def test_a_caller_that_may_only_read_can_neither_create_nor_edit(db: Database) -> None:
    lector = Llamada(herramienta="prueba", puede_escribir=False)
    antes = business_state(db), fila(db, id_de(db, MARIA))

    with pytest.raises(PermisoDenegado):
        crear_cliente(db=db, llamada=lector, nombre="Pedro", email="pedro@nunez.ec")
    with pytest.raises(PermisoDenegado):
        editar_cliente(db=db, llamada=lector, cliente_id=id_de(db, MARIA), nombre="Otra")

    assert (business_state(db), fila(db, id_de(db, MARIA))) == antes
