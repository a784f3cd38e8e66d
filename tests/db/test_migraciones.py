"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from soporte_mcp.db import migrate
from soporte_mcp.db.engine import Database
from soporte_mcp.db.migrate import include_object
from soporte_mcp.db.models import Base


def test_upgrading_an_empty_database_gives_the_schema_of_the_models(db_url) -> None:
    db = Database.from_url(db_url)
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        diferencias = compare_metadata(
            MigrationContext.configure(conn, opts={"include_object": include_object}), Base.metadata)
    assert diferencias == []
    assert migrate.current_revision(db) == migrate.head_revision(db)
    db.dispose()


@pytest.mark.sqlite_only
def test_server_start_creates_the_schema_on_a_fresh_sqlite_file(db_url) -> None:
    db = Database.from_url(db_url)
    migrate.ensure_schema(db)
    tablas = set(inspect(db.engine).get_table_names())
    assert {"clientes", "tickets", "pagos", "historial_acciones", "clientes_fts"} <= tablas
    db.dispose()


@pytest.mark.sqlite_only
def test_sqlite_is_configured_for_a_server(db_url) -> None:
    db = Database.from_url(db_url)
    with db.engine.connect() as conn:
        pragmas = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                   for p in ("journal_mode", "foreign_keys", "busy_timeout")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10_000}
    db.dispose()


def test_the_head_constant_names_the_newest_migration(db_url) -> None:
    db = Database.from_url(db_url)
    assert migrate.head_revision(db) == migrate.HEAD
    db.dispose()


def test_an_empty_database_has_no_revision_and_an_unreachable_one_is_an_error(db_url) -> None:
    from soporte_mcp.errors import BaseDeDatosNoDisponible

    db = Database.from_url(db_url)
    assert migrate.current_revision(db) is None
    db.dispose()
    caida = Database.from_url("postgresql+psycopg://postgres@127.0.0.1:1/nada")
    with pytest.raises(BaseDeDatosNoDisponible):
        migrate.current_revision(caida)
    caida.dispose()


def _sembrar_en_0001(db: Database) -> None:
    """Rows as a database of revision 0001 holds them (its columns only: the models have moved on).
    Ids come from the database, so that PostgreSQL's sequences stay in step."""
    from datetime import UTC, datetime

    from sqlalchemy import JSON, column, insert, table

    ahora = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    clientes = table("clientes", *map(column, ("id", "nombre", "email", "telefono", "saldo_centavos",
                                                "saldo_inicial_centavos", "fecha_registro", "activo", "busqueda")))
    tickets = table("tickets", *map(column, ("id", "cliente_id", "titulo", "descripcion", "estado", "prioridad",
                                              "asignado_a", "fecha_creacion", "fecha_resolucion")))
    pagos = table("pagos", *map(column, ("id", "cliente_id", "monto_centavos", "descripcion", "metodo_pago", "fecha",
                                          "procesado_por", "saldo_anterior_centavos", "saldo_posterior_centavos",
                                          "clave_idempotencia", "huella")))
    historial = table("historial_acciones", *map(column, ("id", "tipo", "herramienta", "resultado", "descripcion",
                                                           "cliente_id", "usuario", "ip_address", "fecha")),
                      column("metadata", JSON))
    fecha = ahora.replace(tzinfo=None) if db.is_sqlite else ahora
    with db.escritura() as conn:
        conn.execute(insert(clientes), [
            {"nombre": "María García López", "email": "maria@x.ec", "telefono": None, "saldo_centavos": 125000,
             "saldo_inicial_centavos": 75000, "fecha_registro": fecha, "activo": True,
             "busqueda": "maria garcia lopez maria@x.ec"},
        ])
        conn.execute(insert(tickets), [
            {"cliente_id": 1, "titulo": "Sin conexión a INTERNET", "descripcion": "El módem parpadea",
             "estado": "en_proceso", "prioridad": "alta", "asignado_a": "soporte", "fecha_creacion": fecha,
             "fecha_resolucion": None},
        ])
        conn.execute(insert(pagos), [
            {"cliente_id": 1, "monto_centavos": 50000, "descripcion": "Pago", "metodo_pago": "efectivo",
             "fecha": fecha, "procesado_por": "demo", "saldo_anterior_centavos": 75000,
             "saldo_posterior_centavos": 125000, "clave_idempotencia": "k-1", "huella": "h"},
        ])
        conn.execute(insert(historial), [
            {"tipo": "pago", "herramienta": "registrarPago", "resultado": "ok", "descripcion": "Pago",
             "cliente_id": 1, "usuario": "demo", "ip_address": None, "metadata": {"pago_id": 1}, "fecha": fecha},
        ])


def test_upgrading_a_database_of_revision_0001_keeps_its_data_and_can_work_it(db_url) -> None:
    from decimal import Decimal

    from sqlalchemy import select

    from soporte_mcp.db.models import Cliente, HistorialAccion, Pago, Ticket
    from soporte_mcp.services.anulaciones import anular_pago
    from soporte_mcp.services.auditoria import Llamada
    from soporte_mcp.services.conciliacion import verificar_anulaciones, verificar_saldos
    from soporte_mcp.services.seguimiento import actualizar_ticket, listar_tickets

    db = Database.from_url(db_url)
    migrate.upgrade(db, "0001")
    _sembrar_en_0001(db)
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.HEAD == "0003"
    with db.lectura() as conn:
        cliente = conn.execute(select(Cliente.__table__)).one()
        ticket = conn.execute(select(Ticket.__table__)).one()
        pago = conn.execute(select(Pago.__table__)).one()
        auditoria = conn.execute(select(HistorialAccion.__table__)).one()
    assert (cliente.nombre, cliente.saldo, cliente.saldo_inicial) == (
        "María García López", Decimal("1250.00"), Decimal("750.00"))
    assert (ticket.estado, ticket.asignado_a, ticket.version, ticket.busqueda) == (
        "en_proceso", "soporte", 1, "sin conexion a internet el modem parpadea")
    assert (pago.monto, pago.clave_idempotencia, pago.saldo_posterior) == (Decimal("500.00"), "k-1", Decimal("1250.00"))
    assert auditoria.metadatos == {"pago_id": 1}
    assert verificar_saldos(db=db) == [] and verificar_anulaciones(db=db) == []

    # The migrated rows take part in the new operations.
    llamada = Llamada("prueba")
    assert [t.id for t in listar_tickets(db=db, llamada=llamada, texto="módem").tickets] == [1]
    assert actualizar_ticket(db=db, llamada=llamada, ticket_id=1, estado="resuelto", version=1).ticket.version == 2
    assert anular_pago(db=db, llamada=llamada, pago_id=1, motivo="error", monto="100").saldo_nuevo == Decimal("1150.00")
    assert verificar_saldos(db=db) == [] and verificar_anulaciones(db=db) == []
    db.dispose()


def _palabras(db: Database, expresion: str) -> list[int]:
    """The customers the word index (migration 0003) gives for an FTS5 expression."""
    from sqlalchemy import text

    with db.lectura() as conn:
        return list(conn.execute(
            text("SELECT rowid FROM clientes_palabras WHERE clientes_palabras MATCH :e ORDER BY rowid"),
            {"e": expresion}).scalars())


def _indice_en_regla(db: Database) -> None:
    """FTS5's own check of the word index against clientes.busqueda: it raises on any difference."""
    from sqlalchemy import text

    with db.escritura() as conn:
        conn.execute(text("INSERT INTO clientes_palabras(clientes_palabras, rank) VALUES ('integrity-check', 1)"))


def _objetos_del_indice(db: Database) -> set[str]:
    from sqlalchemy import text

    with db.lectura() as conn:
        return set(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE name LIKE 'clientes\\_palabras%' ESCAPE '\\'")).scalars())


@pytest.mark.sqlite_only
def test_the_word_index_is_built_for_existing_customers_dropped_on_downgrade_and_rebuilt(db_url) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from alembic import command
    from click.testing import CliRunner
    from sqlalchemy import insert

    from soporte_mcp.cli import main
    from soporte_mcp.db.models import Cliente
    from soporte_mcp.seed.demo import cargar_demo
    from soporte_mcp.services.texto import texto_busqueda

    db = Database.from_url(db_url)
    migrate.upgrade(db, "0002")
    cargar_demo(db=db, zona=ZoneInfo("America/Guayaquil"), ahora=datetime.now(UTC))
    migrate.upgrade(db)
    assert _palabras(db, '"garc"*') == [1] and _palabras(db, '"perez empresa"*') == [2]
    assert _palabras(db, '"rodriguez"') == [3] and _palabras(db, '"odriguez"') == []  # words, not substrings

    command.downgrade(migrate.alembic_config(db), "0002")
    assert _objetos_del_indice(db) == set()  # table, shadow tables and triggers
    with db.escritura() as conn:  # no trigger is left pointing at the dropped table
        conn.execute(insert(Cliente.__table__).values(
            nombre="Pedro Núñez", email="pedro@nunez.ec", saldo=0, saldo_inicial=0, activo=True,
            fecha_registro=datetime.now(UTC), busqueda=texto_busqueda("Pedro Núñez", "pedro@nunez.ec")))

    migrate.upgrade(db)
    assert _palabras(db, '"nunez"') == [7]  # the customer added while it was gone is indexed too
    _indice_en_regla(db)
    db.dispose()
    check = CliRunner().invoke(main, ["db", "check"], env={"SOPORTE_DATABASE_URL": db_url})
    assert check.exit_code == 0, check.output


@pytest.mark.sqlite_only
def test_the_word_index_follows_inserted_and_renamed_customers(db) -> None:
    from sqlalchemy import update

    from soporte_mcp.db.models import Cliente
    from soporte_mcp.services.texto import texto_busqueda

    with db.escritura() as conn:
        conn.execute(update(Cliente.__table__).where(Cliente.id == 3).values(
            nombre="Ana Sofía Benavides", busqueda=texto_busqueda("Ana Sofía Benavides", "ana.rodriguez@gmail.com")))
    assert _palabras(db, '"benavides"') == [3]
    assert _palabras(db, '"rodriguez"') == [3]  # still in the email
    assert _palabras(db, '"rodriguez" AND "sofia"') == [3]
    with db.escritura() as conn:
        conn.execute(update(Cliente.__table__).where(Cliente.id == 3).values(
            nombre="Ana Benavides", email="ana@b.ec", busqueda=texto_busqueda("Ana Benavides", "ana@b.ec")))
    assert _palabras(db, '"rodriguez"') == [] and _palabras(db, '"sofia"') == []
    _indice_en_regla(db)


@pytest.mark.postgresql_only
def test_postgresql_word_table_follows_each_customer(db) -> None:
    """Migration 0003's trigger keeps clientes_palabras in step with busqueda: insert, rename, delete."""
    from sqlalchemy import delete, insert, update

    from soporte_mcp.db.models import Cliente
    from soporte_mcp.services.texto import texto_busqueda

    clientes = Cliente.__table__

    def palabras(cliente_id: int) -> set[str]:
        with db.lectura() as conn:
            return {fila[0] for fila in conn.execute(
                text("SELECT palabra FROM clientes_palabras WHERE cliente_id = :id"), {"id": cliente_id})}

    with db.escritura() as conn:
        nuevo = conn.execute(insert(clientes).values(
            nombre="Rosa Garciano", email="rosa.g@correo.ec", saldo=0, saldo_inicial=0, activo=True,
            busqueda=texto_busqueda("Rosa Garciano", "rosa.g@correo.ec")).returning(clientes.c.id)).scalar_one()
    assert palabras(nuevo) == {"rosa", "garciano", "g", "correo", "ec"}
    with db.escritura() as conn:
        conn.execute(update(clientes).where(clientes.c.id == nuevo).values(
            nombre="Rosa Paz", busqueda=texto_busqueda("Rosa Paz", "rosa.g@correo.ec")))
    assert palabras(nuevo) == {"rosa", "paz", "g", "correo", "ec"}
    with db.escritura() as conn:
        conn.execute(delete(clientes).where(clientes.c.id == nuevo))
    assert palabras(nuevo) == set()
