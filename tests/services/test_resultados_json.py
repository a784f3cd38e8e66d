"""Results built from their JSON form (schemas.DesdeJson) send exactly what a dump of the model would."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from soporte_mcp.dominio import Llamada
from soporte_mcp.services import clientes as servicio

LLAMADA = Llamada(herramienta="test")
BUSQUEDAS = ["garcia", "maria garcia", "gonz", "roberto.gonzalez@empresa.ec", "@empresa", "ez", "zzzqqxx", "lópez"]


@pytest.mark.parametrize("query", BUSQUEDAS)
@pytest.mark.parametrize("inactivos", [False, True])
def test_a_searchs_json_is_the_dump_of_its_model(db, query: str, inactivos: bool) -> None:
    resultado = servicio.buscar_clientes(db=db, llamada=LLAMADA, query=query, incluir_inactivos=inactivos)
    volcado = resultado.model_dump(mode="json", by_alias=True)
    assert resultado.en_json() == volcado
    assert list(resultado.en_json()) == list(volcado)  # the same order of keys, so the same text block
    assert [list(c) for c in resultado.en_json()["clientes"]] == [list(c) for c in volcado["clientes"]]


def test_a_search_found_something_in_json_form(db) -> None:
    resultado = servicio.buscar_clientes(db=db, llamada=LLAMADA, query="garcia")
    cliente = resultado.en_json()["clientes"][0]
    assert isinstance(cliente["saldo"], str) and cliente["fecha_registro"].endswith("Z")


def test_a_result_built_from_json_cannot_be_changed_behind_its_json(db) -> None:
    resultado = servicio.buscar_clientes(db=db, llamada=LLAMADA, query="garcia")
    with pytest.raises(ValidationError):
        resultado.total = 0


def test_every_balance_in_json_is_the_dump_of_its_model(db) -> None:
    """Every demo customer: with and without payments, with a reversal (customer 5), inactive ones."""
    with db.lectura() as conn:
        ids = [fila[0] for fila in conn.exec_driver_sql("SELECT id FROM clientes ORDER BY id")]
    assert len(ids) > 5
    for cliente_id in ids:
        saldo = servicio.consultar_saldo(db=db, llamada=LLAMADA, cliente_id=cliente_id)
        volcado = saldo.model_dump(mode="json", by_alias=True)
        assert saldo.en_json() == volcado
        assert json.dumps(saldo.en_json()) == json.dumps(volcado)  # key order included, at every level


@pytest.mark.parametrize(("fechas", "orden"), [
    (["2026-09-02T15:00:00Z", "2026-09-02T15:00:00.500000Z", "2026-09-02T14:59:59.999999Z"], [1, 0, 2]),
    (["2026-09-02T15:00:00.000001Z", "2026-09-02T15:00:00Z"], [0, 1]),
])
def test_the_last_movements_are_ordered_by_their_instant_not_by_their_text(fechas: list[str], orden: list[int]) -> None:
    pagos = [(i + 1, "1.00", "efectivo", f"p{i}", fecha) for i, fecha in enumerate(fechas)]
    movimientos = servicio._ultimos_movimientos(pagos, [])
    assert [m["id"] for m in movimientos] == [i + 1 for i in orden]
