"""How every refused call reaches a client: a Spanish line, a stable code, an audit row, nothing changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from mcp import Client, MCPError

from soporte_mcp.db.engine import Database
from soporte_mcp.db.perezosa import BasePerezosa
from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.server import build_server
from soporte_mcp.services import clientes as servicio_clientes
from tests.conftest import CLIENT_INFO, audit_rows, business_state, call, error_code, ok

pytestmark = pytest.mark.anyio

INGLES = ("Error executing tool", "pydantic", "Input should", "Field required", "validation error")


@pytest.mark.parametrize(
    ("herramienta", "argumentos", "campo"),
    [
        ("consultarSaldo", {"clienteId": "abc"}, "clienteId"),
        ("consultarSaldo", {}, "clienteId"),
        ("registrarPago", {"clienteId": 2, "monto": float("inf")}, "monto"),
        ("registrarPago", {"monto": 10}, "clienteId"),
        ("registrarPago", {"clienteId": 2, "monto": [1]}, "monto"),
        ("buscarCliente", {"query": "maria", "limite": "muchos"}, "limite"),
        ("buscarCliente", {"query": "x" * 201}, "query"),
        ("crearTicket", {"clienteId": 1, "titulo": 5, "descripcion": "d"}, "titulo"),
        ("buscarCliente", {"query": "maria", "incluirInactivos": "quizas"}, "incluirInactivos"),
    ],
)
async def test_arguments_that_do_not_fit_the_schema_are_refused_in_spanish_and_audited(
    client, db, herramienta, argumentos, campo
) -> None:
    antes = business_state(db)
    resultado = await call(client, herramienta, argumentos)
    assert error_code(resultado) == "argumento_invalido"
    texto = resultado.content[0].text
    assert f"«{campo}»" in texto and not any(palabra in texto for palabra in INGLES), texto
    assert business_state(db) == antes
    fila = audit_rows(db)[-1]
    assert (fila.herramienta, fila.resultado, fila.metadatos["codigo"]) == (
        herramienta, "rechazado", "argumento_invalido")
    assert fila.tipo == (
        "pago" if herramienta == "registrarPago" else "creacion" if herramienta == "crearTicket" else "consulta")


async def test_an_unknown_tool_is_refused_with_its_code_and_audited(client, db) -> None:
    assert error_code(await call(client, "borrarCliente", {"clienteId": 1})) == "herramienta_desconocida"
    fila = audit_rows(db)[-1]
    assert (fila.herramienta, fila.resultado, fila.metadatos["codigo"]) == (
        "borrarCliente", "rechazado", "herramienta_desconocida")


async def test_a_bug_in_a_service_is_an_internal_error_without_its_details(client, db, monkeypatch) -> None:
    def roto(**_kwargs: object) -> None:
        raise RuntimeError("ruta secreta /var/lib/x")

    monkeypatch.setattr(servicio_clientes, "consultar_saldo_json", roto)
    resultado = await call(client, "consultarSaldo", {"clienteId": 1})
    assert error_code(resultado) == "error_interno"
    assert "secreta" not in resultado.content[0].text


@pytest.mark.parametrize(("escrito", "pagado"), [("$500", "500.00"), (" 7 ", "7.00"), ("$ 12.50", "12.50")])
async def test_an_amount_as_a_person_types_it_is_accepted(client, db, escrito, pagado) -> None:
    r = ok(await call(client, "registrarPago", {"clienteId": 2, "monto": escrito}))
    assert r["monto"] == pagado
    assert Decimal(r["saldo_nuevo"]) - Decimal(r["saldo_anterior"]) == Decimal(pagado)


async def test_a_search_with_more_words_than_a_name_has_is_refused(client) -> None:
    query = "uno dos tres cuatro cinco seis siete ocho nueve"
    assert error_code(await call(client, "buscarCliente", {"query": query})) == "consulta_demasiado_larga"


def test_the_search_statement_cache_is_bounded() -> None:
    assert servicio_clientes._consulta_por_subcadena.cache_info().maxsize is not None


async def test_reading_a_resource_is_audited_like_a_tool_call(client, db) -> None:
    await client.read_resource("ticket://1")
    fila = audit_rows(db)[-1]
    assert (fila.herramienta, fila.resultado, fila.tipo) == ("ticket://1", "ok", "consulta")
    with pytest.raises(MCPError) as info:
        await client.read_resource("cliente://999")
    assert info.value.error.data["codigo"] == "cliente_no_encontrado"
    fila = audit_rows(db)[-1]
    assert (fila.herramienta, fila.resultado, fila.metadatos["codigo"]) == (
        "cliente://999", "rechazado", "cliente_no_encontrado")


@pytest.mark.sqlite_only
async def test_a_locked_database_does_not_stop_a_resource_reader_and_its_audit_row_lands_after(
    client, db, settings
) -> None:
    # Issue 13: a read takes no write lock; its audit row is written behind, once the lock is free.
    from soporte_mcp.db.engine import Database

    otro = Database.from_url(settings.database_url)
    antes = len(audit_rows(db))
    try:
        with otro.escritura():
            leido = await client.read_resource("cliente://1")
            assert leido.contents
    finally:
        otro.dispose()
    filas = audit_rows(db)
    assert len(filas) == antes + 1
    assert (filas[-1].herramienta, filas[-1].resultado) == ("cliente://1", "ok")


async def test_while_the_database_cannot_be_opened_the_tools_are_listed_and_every_call_says_why(settings) -> None:
    # stdio opens the database after the handshake (db/perezosa.py): until it can, each call is a retryable refusal.
    motivo = "no se puede usar la base de datos /datos/soporte.db: la carpeta /datos no existe"

    def abrir() -> Database:
        raise BaseDeDatosNoDisponible(motivo)

    async with Client(build_server(settings, BasePerezosa(abrir)), client_info=CLIENT_INFO) as client:
        assert len((await client.list_tools()).tools) == 9
        for herramienta, argumentos in [("buscarCliente", {"query": "maria"}), ("estadisticas", {}),
                                        ("registrarPago", {"clienteId": 2, "monto": 10})]:
            resultado = await call(client, herramienta, argumentos)
            assert error_code(resultado) == "base_de_datos_no_disponible", herramienta
            assert resultado.meta["soporte/reintentable"] is True
            assert motivo in resultado.content[0].text
        with pytest.raises(MCPError) as info:
            await client.read_resource("cliente://1")
        assert (info.value.error.data["codigo"], info.value.error.message) == ("base_de_datos_no_disponible", motivo)
        # Arguments that do not fit are still refused as such (the audit row is what cannot be written).
        assert error_code(await call(client, "consultarSaldo", {"clienteId": "abc"})) == "argumento_invalido"
