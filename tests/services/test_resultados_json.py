"""The hot reads' JSON form (buscar_clientes_json, consultar_saldo_json), which the tools send without
validating it at run time, is exactly what their result model gives when validated from it and dumped."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from soporte_mcp.dominio import Llamada
from soporte_mcp.services import clientes as servicio
from soporte_mcp.services.schemas import ResultadoBusqueda, SaldoCliente

LLAMADA = Llamada(herramienta="test")
BUSQUEDAS = ["garcia", "maria garcia", "gonz", "roberto.gonzalez@empresa.ec", "@empresa", "ez", "zzzqqxx", "lópez"]


def _como_lo_escribe_el_modelo(modelo: type[BaseModel], datos: dict[str, Any]) -> None:
    volcado = modelo.model_validate(datos).model_dump(mode="json", by_alias=True)
    assert datos == volcado
    assert json.dumps(datos) == json.dumps(volcado)  # key order included, at every level: the same text block


@pytest.mark.parametrize("query", BUSQUEDAS)
@pytest.mark.parametrize("inactivos", [False, True])
def test_a_searchs_json_is_what_its_model_writes(db, query: str, inactivos: bool) -> None:
    datos = servicio.buscar_clientes_json(db=db, llamada=LLAMADA, query=query, incluir_inactivos=inactivos)
    _como_lo_escribe_el_modelo(ResultadoBusqueda, datos)


def test_a_search_found_something_in_json_form(db) -> None:
    cliente = servicio.buscar_clientes_json(db=db, llamada=LLAMADA, query="garcia")["clientes"][0]
    assert isinstance(cliente["saldo"], str) and cliente["fecha_registro"].endswith("Z")


def test_every_balance_in_json_is_what_its_model_writes(db) -> None:
    """Every demo customer: with and without payments, with a reversal (customer 5), inactive ones."""
    with db.lectura() as conn:
        ids = [fila[0] for fila in conn.exec_driver_sql("SELECT id FROM clientes ORDER BY id")]
    assert len(ids) > 5
    for cliente_id in ids:
        _como_lo_escribe_el_modelo(SaldoCliente, servicio.consultar_saldo_json(db=db, llamada=LLAMADA,
                                                                             cliente_id=cliente_id))


def test_the_models_python_callers_get_are_validated_from_that_json(db) -> None:
    saldo = servicio.consultar_saldo(db=db, llamada=LLAMADA, cliente_id=1)
    assert isinstance(saldo, SaldoCliente) and str(saldo.saldo) == saldo.model_dump(mode="json")["saldo"]
    busqueda = servicio.buscar_clientes(db=db, llamada=LLAMADA, query="garcia")
    assert isinstance(busqueda, ResultadoBusqueda) and busqueda.clientes[0].fecha_registro.tzinfo is not None


@pytest.mark.parametrize(("pagos", "anulaciones", "orden"), [
    # Each list newest first, as their statements give them; merged by instant, not by text.
    (["2026-09-02T15:00:00Z", "2026-09-02T14:59:59.999999Z"], ["2026-09-02T15:00:00.500000Z"], [10, 1, 2]),
    (["2026-09-02T15:00:00.000001Z"], ["2026-09-02T15:00:00Z"], [1, 10]),
])
def test_the_last_movements_are_ordered_by_their_instant_not_by_their_text(
    pagos: list[str], anulaciones: list[str], orden: list[int]
) -> None:
    filas_pagos = [(i + 1, "1.00", "efectivo", f"p{i}", fecha) for i, fecha in enumerate(pagos)]
    filas_anulaciones = [(i + 10, 1, "1.00", f"a{i}", fecha) for i, fecha in enumerate(anulaciones)]
    movimientos = servicio._ultimos_movimientos(filas_pagos, filas_anulaciones)
    assert [m["id"] for m in movimientos] == orden
