"""Database.lectura on the event loop's own SQLite connection: begun and ended on the driver (issue 13),
one snapshot for the whole read, Core statements inside it included, and nothing left open after it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from soporte_mcp.db.models import Cliente
from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.services import clientes as servicio

pytestmark = pytest.mark.sqlite_only

clientes = Cliente.__table__


def _escribir_desde_otra_conexion(db, nombre: str) -> None:
    with db.escritura() as conn:  # a pooled connection of its own, not the loop's reader
        conn.execute(update(clientes).where(clientes.c.id == 1).values(nombre=nombre))


def test_a_read_sees_one_snapshot_across_driver_and_core_statements(db) -> None:
    with db.lectura() as conn:
        antes = servicio.POR_ID.filas(conn, id=1)[0][1]
        _escribir_desde_otra_conexion(db, "Otro Nombre")
        por_core = conn.execute(select(clientes.c.nombre).where(clientes.c.id == 1)).scalar_one()
        por_driver = servicio.POR_ID.filas(conn, id=1)[0][1]
    assert por_core == por_driver == antes != "Otro Nombre"
    with db.lectura() as conn:  # the next read sees the write
        assert servicio.POR_ID.filas(conn, id=1)[0][1] == "Otro Nombre"


@pytest.mark.parametrize("con_core", [False, True], ids=["driver", "core"])
def test_after_a_read_no_transaction_is_left_open_and_the_next_read_keeps_the_fast_path(db, con_core: bool) -> None:
    with db.lectura() as conn:
        if con_core:
            conn.execute(select(func.count()).select_from(clientes)).scalar_one()
        servicio.POR_ID.filas(conn, id=1)
    propia = db._lector_propio()
    assert not propia.in_transaction() and not propia.connection.driver_connection.in_transaction
    with db.lectura() as otra:
        assert otra is propia


@pytest.mark.parametrize("con_core", [False, True], ids=["driver", "core"])
def test_a_read_that_raises_ends_its_transaction_and_the_error_comes_out(db, con_core: bool) -> None:
    with pytest.raises(RuntimeError), db.lectura() as conn:
        if con_core:
            conn.execute(select(func.count()).select_from(clientes)).scalar_one()
        raise RuntimeError("fallo")
    assert not db._lector_propio().connection.driver_connection.in_transaction
    with db.lectura() as conn:
        assert servicio.POR_ID.filas(conn, id=1)[0][0] == 1


def test_a_read_whose_connection_broke_underneath_says_the_database_is_unavailable_and_the_next_works(db) -> None:
    with db.lectura():
        pass
    db._lector_propio().connection.driver_connection.close()  # the driver's connection is gone
    with pytest.raises(BaseDeDatosNoDisponible), db.lectura():
        pass
    with db.lectura() as conn:
        assert servicio.POR_ID.filas(conn, id=1)[0][0] == 1
