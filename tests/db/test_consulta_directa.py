"""db.consulta_directa: the hot reads run on the driver's cursor (SQLite, and psycopg outside a transaction) give what
Core gives, and fail the way Core fails."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, column, event, select, table

from soporte_mcp.db.consulta_directa import ConsultaDirecta
from soporte_mcp.db.models import Cliente
from soporte_mcp.db.types import Dinero
from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.services import clientes as servicio
from tests.conftest import BACKEND


@pytest.mark.parametrize("consulta", [
    servicio.POR_ID, servicio.POR_EMAIL,
    pytest.param(servicio.BUSQUEDA_POR_PALABRAS[False], marks=pytest.mark.sqlite_only),
    servicio.ULTIMOS_PAGOS, servicio.ULTIMOS_MOVIMIENTOS, servicio.RESUMEN,
], ids=["por_id", "por_email", "palabras", "pagos", "movimientos", "resumen"])
def test_the_rows_are_the_rows_core_gives(db, consulta) -> None:
    parametros = {"id": 6, "email": "roberto.gonzalez@empresa.ec", "fts": '"gonz"*', "limite": 5}
    with db.lectura() as conn:
        nombres = {b.key for b in consulta.statement.compile(dialect=conn.dialect).binds.values() if b.required}
        parametros = {k: v for k, v in parametros.items() if k in nombres}
        directas = consulta.filas(conn, **parametros)
        de_core = [tuple(f) for f in conn.execute(consulta.statement, parametros)]
    assert directas == de_core and directas
    assert [type(v) for v in directas[0]] == [type(v) for v in de_core[0]]


def _sin_core(monkeypatch) -> None:
    def core(*_args) -> list:
        raise AssertionError("Connection.execute en el camino rápido")

    monkeypatch.setattr(ConsultaDirecta, "_por_sqlalchemy", core)


def test_a_reads_rows_come_from_the_drivers_cursor_not_from_core(db, monkeypatch) -> None:
    _sin_core(monkeypatch)
    with db.lectura() as conn:
        assert servicio.POR_ID.filas(conn, id=6)[0][0] == 6
        assert servicio.RESUMEN.filas(conn, id=1)[0][0] == 1  # an IN over constants and a LIMIT, expanded
        if BACKEND == "sqlite":
            assert [f[0] for f in servicio.BUSQUEDA_POR_PALABRAS[False].filas(conn, fts='"garc"*', limite=5)] == [1]
        else:  # a batch of the word table's range (a text statement, with an ARRAY parameter), and its end
            rango = {"desde": "garc", "despues_de": 0, "hasta": "gard"}
            lote = servicio._del_lote_pg(1, False).filas(conn, **rango, lote=5, re0="[^[:alnum:]]garc", vistos=[],
                                                         faltan=5)
            assert [f[0] for f in lote] == [1]
            assert servicio.FIN_DEL_LOTE.filas(conn, **rango, salto=0) == [("garcia", 1)]


@pytest.mark.postgresql_only
def test_inside_a_write_transaction_postgresql_rows_come_through_core(db, monkeypatch) -> None:
    # A statement that failed on the driver's cursor there would leave the transaction aborted.
    _sin_core(monkeypatch)
    with pytest.raises(AssertionError, match="camino rápido"), db.escritura() as conn:
        servicio.POR_ID.filas(conn, id=6)


def test_a_driver_error_comes_out_as_core_raises_it(db) -> None:
    inexistente = ConsultaDirecta(select(table("no_existe", column("x"))))
    with pytest.raises(Exception) as por_core, db.lectura() as conn:
        conn.execute(inexistente.statement)
    with pytest.raises(type(por_core.value)), db.lectura() as conn:
        inexistente.filas(conn)
    with db.lectura() as conn:  # and the connection is still good for the next read
        assert servicio.POR_ID.filas(conn, id=1)[0][0] == 1
    if BACKEND == "sqlite":  # SQLite says "no such table" as an OperationalError: translated
        assert isinstance(por_core.value, BaseDeDatosNoDisponible)


def test_a_statement_listener_sees_the_statement(db) -> None:
    vistas: list[str] = []

    def ver(_conn, _cursor, sentencia, *_args) -> None:
        vistas.append(sentencia)

    event.listen(db.engine, "before_cursor_execute", ver)
    try:
        with db.lectura() as conn:
            assert servicio.POR_ID.filas(conn, id=1)[0][0] == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", ver)
    assert any("FROM clientes" in s for s in vistas)


@pytest.mark.sqlite_only
def test_a_parameter_that_needs_converting_is_refused(db) -> None:
    clientes = Cliente.__table__
    por_saldo = ConsultaDirecta(select(clientes.c.id).where(clientes.c.saldo == bindparam("s", type_=Dinero())))
    with pytest.raises(TypeError), db.lectura() as conn:
        por_saldo.filas(conn, s=1)
