"""db.consulta_directa: the hot reads (and a payment's statements) run on the driver's cursor (SQLite, and
psycopg outside a transaction), give what Core gives, and fail the way Core fails."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import bindparam, column, event, select, table
from sqlalchemy.exc import IntegrityError

from soporte_mcp.db.consulta_directa import ConsultaDirecta
from soporte_mcp.db.models import Cliente, HistorialAccion, ahora
from soporte_mcp.db.types import Dinero, FechaUTC
from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.money import centavos_en_texto, en_texto, from_cents
from soporte_mcp.services import auditoria, pagos
from soporte_mcp.services import clientes as servicio
from tests.conftest import BACKEND

# The services' prebuilt reads, each test run on every one.
LAS_LECTURAS = pytest.mark.parametrize("consulta", [
    servicio.POR_ID, servicio.POR_EMAIL,
    pytest.param(servicio.BUSQUEDA_POR_PALABRAS[False], marks=pytest.mark.sqlite_only),
    servicio.ULTIMOS_PAGOS, servicio.ULTIMAS_ANULACIONES, servicio.RESUMEN,
], ids=["por_id", "por_email", "palabras", "pagos", "anulaciones", "resumen"])


def _parametros(conn, consulta: ConsultaDirecta) -> dict[str, Any]:
    """The demo's values for the parameters ``consulta`` takes (customer 5 has the demo's reversal)."""
    cliente = 5 if consulta is servicio.ULTIMAS_ANULACIONES else 6
    todos = {"id": cliente, "email": "roberto.gonzalez@empresa.ec", "fts": '"gonz"*', "limite": 5}
    nombres = {b.key for b in consulta.statement.compile(dialect=conn.dialect).binds.values() if b.required}
    return {k: v for k, v in todos.items() if k in nombres}


@LAS_LECTURAS
def test_the_rows_are_the_rows_core_gives(db, consulta) -> None:
    with db.lectura() as conn:
        parametros = _parametros(conn, consulta)
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


def test_a_parameter_is_converted_as_core_converts_it(db) -> None:
    clientes = Cliente.__table__
    por_saldo = ConsultaDirecta(select(clientes.c.id).where(clientes.c.saldo >= bindparam("s", type_=Dinero())))
    with db.lectura() as conn:
        directas = por_saldo.filas(conn, s=Decimal("850.50"))
        assert directas == [tuple(f) for f in conn.execute(por_saldo.statement, {"s": Decimal("850.50")})]
    assert directas


def _pago(**cambios: Any) -> dict[str, Any]:
    return {"cliente_id": 2, "monto": Decimal("12.34"), "descripcion": "x", "metodo_pago": "tarjeta",
            "fecha": ahora(), "procesado_por": None, "saldo_anterior": Decimal("1.00"),
            "saldo_posterior": Decimal("13.34"), "clave_idempotencia": None, "huella": "h"} | cambios


def test_a_payments_insert_and_update_give_what_core_gives(db) -> None:
    with db.escritura() as conn:
        directa = pagos.INSERTAR_PAGO.primera(conn, **_pago())
        de_core = conn.execute(pagos.INSERTAR_PAGO.statement, _pago(fecha=directa.fecha)).one()
        assert directa._replace(id=de_core.id) == tuple(de_core)
        assert (directa.monto, directa.fecha.tzinfo) == (Decimal("12.34"), UTC)
        (saldo,) = pagos.SUMAR_AL_SALDO.filas(conn, cliente=2, importe=Decimal("0.01"))[0]
        assert saldo == conn.execute(pagos.SUMAR_AL_SALDO.statement, {"cliente": 2, "importe": Decimal("0")}).scalar()
        conn.rollback()


@pytest.mark.sqlite_only
def test_a_payment_on_sqlite_runs_its_statements_on_the_driver_not_core(db, monkeypatch) -> None:
    _sin_core(monkeypatch)
    with db.escritura() as conn:
        assert pagos.CLIENTE_PARA_PAGO.primera(conn, id=2).activo
        assert pagos.INSERTAR_PAGO.primera(conn, **_pago()).cliente_id == 2
        auditoria.INSERTAR_DIRECTA.filas(conn, **_fila_de_auditoria())
        conn.rollback()


def _fila_de_auditoria() -> dict[str, Any]:
    return {"tipo": "pago", "herramienta": "t", "resultado": "ok", "descripcion": "d", "cliente_id": None,
            "usuario": None, "ip_address": None, "metadatos": {"a": [1]}, "fecha": ahora()}


def test_an_insert_that_leaves_a_default_out_gets_it_as_core_does(db) -> None:
    sin_fecha = {k: v for k, v in _fila_de_auditoria().items() if k != "fecha"}
    with db.escritura() as conn:
        auditoria.INSERTAR_DIRECTA.filas(conn, **sin_fecha)
        h = HistorialAccion.__table__.c
        fila = conn.execute(select(h.herramienta, h.metadatos, h.fecha).order_by(h.id.desc()).limit(1)).one()
        assert (fila[0], fila[1], fila[2] is not None) == ("t", {"a": [1]}, True)
        conn.rollback()


def test_a_refused_write_comes_out_as_core_raises_it(db) -> None:
    with db.escritura() as conn:
        pagos.INSERTAR_PAGO.primera(conn, **_pago(clave_idempotencia="k"))
        with pytest.raises(IntegrityError):
            pagos.INSERTAR_PAGO.primera(conn, **_pago(clave_idempotencia="k"))
        if BACKEND == "sqlite":  # the failed statement changed nothing; the transaction goes on
            assert pagos.CLIENTE_PARA_PAGO.primera(conn, id=2).nombre
        conn.rollback()


@pytest.mark.sqlite_only
def test_a_write_that_fails_after_sqlite_dropped_the_transaction_is_not_repeated_alone(db) -> None:
    with db.escritura() as conn:
        pagos.INSERTAR_PAGO.primera(conn, **_pago(clave_idempotencia="k"))
        conn.connection.driver_connection.execute("COMMIT")  # as SQLite does on some errors: no transaction
        antes = conn.connection.driver_connection.execute("SELECT count(*) FROM pagos").fetchone()
        with pytest.raises(BaseDeDatosNoDisponible):
            pagos.INSERTAR_PAGO.primera(conn, **_pago(clave_idempotencia="k"))
        assert conn.connection.driver_connection.execute("SELECT count(*) FROM pagos").fetchone() == antes
        conn.connection.driver_connection.execute("BEGIN")  # for the context manager's own COMMIT


@LAS_LECTURAS
def test_rows_in_json_form_are_what_the_result_models_write_for_the_rows(db, consulta) -> None:
    """filas_json: each value as the models' serializers write it (money text, dates ISO with Z)."""
    with db.lectura() as conn:
        parametros = _parametros(conn, consulta)
        en_json = consulta.filas_json(conn, **parametros)
        leidas = consulta.filas(conn, **parametros)
    tipos = [c.type for c in consulta.statement.exported_columns]
    assert en_json and len(en_json) == len(leidas)
    for fila_json, fila in zip(en_json, leidas, strict=True):
        assert list(fila_json) == [_como_lo_escribe_un_modelo(t, v) for t, v in zip(tipos, fila, strict=True)]


def _como_lo_escribe_un_modelo(tipo: Any, valor: Any) -> Any:
    if valor is None:
        return None
    if isinstance(tipo, FechaUTC):
        return TypeAdapter(datetime).dump_python(valor, mode="json")
    return f"{valor:.2f}" if isinstance(tipo, Dinero) else valor


@pytest.mark.sqlite_only
@pytest.mark.parametrize("guardada", [
    "2026-09-02 15:00:00.000000", "2026-09-02 15:00:00.123000", "2024-02-29 23:59:59.000001",
    "2026-09-02 15:00:00", "2026-09-02T15:00:00.5",  # not SQLAlchemy's own form: read, then written
])
def test_a_stored_date_in_json_form_is_what_pydantic_writes_for_it(db, guardada: str) -> None:
    consulta = ConsultaDirecta(select(Cliente.__table__.c.fecha_registro).where(Cliente.__table__.c.id == 1))
    with db.escritura() as conn:
        conn.connection.driver_connection.execute("UPDATE clientes SET fecha_registro = ? WHERE id = 1", (guardada,))
        (leida,), = consulta.filas(conn)
        (en_json,), = consulta.filas_json(conn)
        conn.rollback()
    assert leida.tzinfo is UTC
    assert en_json == TypeAdapter(datetime).dump_python(leida, mode="json")


@pytest.mark.parametrize("centavos", [0, 1, 5, 99, 100, 101, 125000, -1, -5, -99, -100, -12345, 10**15 + 7])
def test_an_amount_in_json_form_from_its_cents_is_the_models_text(centavos: int) -> None:
    assert centavos_en_texto(centavos) == en_texto(from_cents(centavos)) == f"{from_cents(centavos):.2f}"


def _filas_de_historial(db) -> list[tuple]:
    """Every audit row as stored (on SQLite with each value's storage type), without its id."""
    historial = HistorialAccion.__table__
    with db.lectura() as conn:
        if not db.is_sqlite:
            return [tuple(f) for f in conn.execute(
                select(*[c for c in historial.c if c.key != "id"]).order_by(historial.c.id))]
        return conn.connection.driver_connection.execute(
            "SELECT tipo, herramienta, resultado, descripcion, cliente_id, usuario, ip_address, metadata, fecha, "
            "typeof(cliente_id), typeof(metadata), typeof(fecha) FROM historial_acciones ORDER BY id"
        ).fetchall()


def _filas_para_el_lote() -> list[dict[str, Any]]:
    llamada = auditoria.Llamada(herramienta="buscarCliente", argumentos={"query": "Núñez \"ñ\" \\ 🙂"},
                                usuario="bench 1", ip="127.0.0.1")
    return [
        auditoria.fila(llamada, auditoria.Tipo.CONSULTA, "ok", "Búsqueda 'núñez': 1 resultado(s)", 3,
                       {"resultados": [3], "x": 1.5, "nada": None}),
        auditoria.fila(llamada, auditoria.Tipo.CONSULTA, "rechazado", "", None, {"motivo": "vacía"}),
        {**auditoria.fila(llamada, auditoria.Tipo.CONSULTA, "ok", "x"), "usuario": None, "ip_address": None},
    ]


def _historial_vacio(db) -> None:
    with db.escritura() as conn:
        conn.execute(HistorialAccion.__table__.delete())


def test_a_batch_of_rows_is_stored_as_core_stores_the_same_rows(db) -> None:
    filas = _filas_para_el_lote()
    _historial_vacio(db)
    with db.escritura() as conn:
        conn.execute(auditoria.INSERTAR, filas)
    de_core = _filas_de_historial(db)
    _historial_vacio(db)
    with db.escritura() as conn:
        auditoria.INSERTAR_EN_LOTE.insertar(conn, filas)
    assert _filas_de_historial(db) == de_core and len(de_core) == 3


@pytest.mark.sqlite_only
def test_a_batch_on_sqlite_is_one_statement_on_the_driver_not_core(db, monkeypatch) -> None:
    def core(*_args, **_kwargs) -> None:
        raise AssertionError("Connection.execute en el camino del lote")

    filas = _filas_para_el_lote()
    _historial_vacio(db)
    with db.escritura() as conn:
        monkeypatch.setattr(type(conn), "execute", core)
        auditoria.INSERTAR_EN_LOTE.insertar(conn, filas)
        monkeypatch.undo()
    assert len(_filas_de_historial(db)) == 3


@pytest.mark.parametrize("cambio", ["otro_orden", "no_json"])
def test_a_batch_json_cannot_carry_goes_through_core(db, cambio: str) -> None:
    filas = _filas_para_el_lote()
    if cambio == "otro_orden":
        filas[1] = dict(reversed(filas[1].items()))  # the same columns in another order
    else:
        filas[0]["usuario"] = b"bytes"  # no JSON: Core stores them (a blob)
    _historial_vacio(db)
    with db.escritura() as conn:
        auditoria.INSERTAR_EN_LOTE.insertar(conn, filas)
    assert len(_filas_de_historial(db)) == 3
