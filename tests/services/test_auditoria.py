"""The unit of work (services/auditoria.py), without MCP."""

from __future__ import annotations

import pytest

from soporte_mcp.errors import PermisoDenegado
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from tests.conftest import audit_rows, business_state


def test_a_misspelt_operation_kind_fails_instead_of_skipping_the_permission_check(db) -> None:
    with pytest.raises(ValueError), operacion(db, Llamada("x", puede_escribir=False), "pagos"):  # type: ignore[arg-type]
        pass


@pytest.mark.parametrize("tipo", [t for t in Tipo if t.escribe])
def test_every_writing_kind_refuses_a_read_only_caller_and_audits_it(db, tipo) -> None:
    antes = business_state(db)
    with pytest.raises(PermisoDenegado), operacion(db, Llamada("prueba", puede_escribir=False), tipo):
        raise AssertionError("the body must not run")
    assert business_state(db) == antes
    fila = audit_rows(db)[-1]
    assert (fila.tipo, fila.resultado, fila.metadatos["codigo"]) == (str(tipo), "rechazado", "permiso_denegado")


def test_only_consulta_reads() -> None:
    assert [t for t in Tipo if not t.escribe] == [Tipo.CONSULTA]
