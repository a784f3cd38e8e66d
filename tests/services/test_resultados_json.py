"""Results built from their JSON form (schemas.DesdeJson) send exactly what a dump of the model would."""

from __future__ import annotations

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
