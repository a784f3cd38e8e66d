"""buscarCliente through the in-memory MCP client, against the demo data."""

from __future__ import annotations

import pytest

from tests.conftest import audit_rows, business_state, call, error_code, ok

pytestmark = pytest.mark.anyio


def nombres(resultado: dict) -> list[str]:
    return [c["nombre"] for c in resultado["clientes"]]


@pytest.mark.parametrize(
    "query",
    ["maria garcia", "María García", "García", "GARCIA LOPEZ", "lopez maria", "maria.garcia@email.com", "MARIA.GARCIA"],
)
async def test_search_ignores_case_accents_and_word_order(client, query) -> None:
    assert "María García López" in nombres(ok(await call(client, "buscarCliente", {"query": query})))


async def test_search_by_exact_email_finds_that_customer_first(client) -> None:
    resultado = ok(await call(client, "buscarCliente", {"query": "juan.perez@empresa.com"}))
    assert resultado["clientes"][0]["email"] == "juan.perez@empresa.com"
    assert resultado["clientes"][0]["id"] == 2


async def test_exact_email_ranks_before_other_matches(client, db) -> None:
    from sqlalchemy import insert

    from soporte_mcp.db.models import Cliente
    from soporte_mcp.services.texto import texto_busqueda

    with db.escritura() as conn:  # "Aaron" sorts before "Juan" by name, yet the exact email must win
        conn.execute(insert(Cliente.__table__).values(
            nombre="Aaron Pérez Juan", email="juan.perez@empresa.com.ec", saldo=0, saldo_inicial=0, activo=True,
            busqueda=texto_busqueda("Aaron Pérez Juan", "juan.perez@empresa.com.ec")))
    resultado = ok(await call(client, "buscarCliente", {"query": "juan.perez@empresa.com"}))
    assert [c["email"] for c in resultado["clientes"]] == ["juan.perez@empresa.com", "juan.perez@empresa.com.ec"]


async def test_results_are_ordered_by_name_and_bounded_by_limite(client) -> None:
    todos = ok(await call(client, "buscarCliente", {"query": "com"}))  # five emails end in .com
    assert len(nombres(todos)) == 5 and nombres(todos) == sorted(nombres(todos))
    dos = ok(await call(client, "buscarCliente", {"query": "com", "limite": 2}))
    assert dos["total"] == 2 and dos["hay_mas"] is True and dos["sugerencia"]


async def test_short_words_combine_with_indexed_words(client) -> None:
    assert nombres(ok(await call(client, "buscarCliente", {"query": "ana so"}))) == ["Ana Sofía Rodríguez"]


async def test_no_match_gives_empty_list_with_a_suggestion_and_is_audited(client, db) -> None:
    resultado = ok(await call(client, "buscarCliente", {"query": "Zacarías Inexistente"}))
    assert resultado["clientes"] == [] and resultado["total"] == 0
    assert "Pruebe" in resultado["sugerencia"]
    fila = audit_rows(db)[-1]
    assert (fila.herramienta, fila.resultado, fila.tipo) == ("buscarCliente", "ok", "consulta")
    assert fila.metadatos["argumentos"]["query"] == "Zacarías Inexistente"


async def test_inactive_customers_only_when_asked(client, db) -> None:
    from sqlalchemy import update

    from soporte_mcp.db.models import Cliente

    with db.escritura() as conn:
        conn.execute(update(Cliente.__table__).where(Cliente.__table__.c.id == 3).values(activo=False))
    assert ok(await call(client, "buscarCliente", {"query": "ana rodriguez"}))["clientes"] == []
    con = ok(await call(client, "buscarCliente", {"query": "ana rodriguez", "incluirInactivos": True}))
    assert [(c["id"], c["activo"]) for c in con["clientes"]] == [(3, False)]


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
async def test_blank_query_is_refused_in_spanish_and_audited(client, db, query) -> None:
    antes = business_state(db)
    assert error_code(await call(client, "buscarCliente", {"query": query})) == "consulta_vacia"
    assert business_state(db) == antes
    fila = audit_rows(db)[-1]
    assert (fila.resultado, fila.metadatos["codigo"]) == ("rechazado", "consulta_vacia")


@pytest.mark.parametrize("limite", [0, 51, -3])
async def test_limite_out_of_bounds_is_refused(client, limite) -> None:
    assert error_code(await call(client, "buscarCliente", {"query": "maria", "limite": limite})) == "limite_invalido"


async def test_fts_special_characters_are_searched_literally(client) -> None:
    for query in ['"maria', "garcia*", "OR AND NOT", "100%", "a_b", "(juan)"]:
        assert not (await call(client, "buscarCliente", {"query": query})).is_error, query


@pytest.mark.parametrize("query", ["%", "_", "%_", "%%"])
async def test_like_wildcards_in_short_words_match_only_themselves(client, query) -> None:
    # No word in them: they reach the substring search, where a bare LIKE would match everyone.
    assert ok(await call(client, "buscarCliente", {"query": query}))["clientes"] == []


async def test_a_word_finds_the_names_and_emails_with_a_word_that_starts_with_it(client) -> None:
    assert nombres(ok(await call(client, "buscarCliente", {"query": "garc"}))) == ["María García López"]
    assert nombres(ok(await call(client, "buscarCliente", {"query": "ROD ana"}))) == ["Ana Sofía Rodríguez"]
    assert nombres(ok(await call(client, "buscarCliente", {"query": "fernÁndez lu"}))) == ["Lucía Fernández Silva"]


@pytest.mark.parametrize(("query", "nombre"), [
    ("perez@empresa", "Juan Carlos Pérez"),  # a piece of an email, across its punctuation
    ("roberto.gonz", "Roberto González Vega"),
    ("empresa.ec", "Roberto González Vega"),
    ("@yahoo", "Carlos Alberto Mendoza"),
])
async def test_a_piece_of_an_email_finds_its_customer(client, query, nombre) -> None:
    assert nombres(ok(await call(client, "buscarCliente", {"query": query}))) == [nombre]


async def test_a_whole_email_that_is_nobodys_is_still_looked_for_as_text(client) -> None:
    # "perez@empresa.com" is the end of juan.perez@empresa.com, not an email of its own.
    resultado = ok(await call(client, "buscarCliente", {"query": "perez@empresa.com"}))
    assert [c["email"] for c in resultado["clientes"]] == ["juan.perez@empresa.com"]


async def test_a_whole_email_finds_an_inactive_customer_only_when_asked(client, db) -> None:
    from sqlalchemy import update

    from soporte_mcp.db.models import Cliente

    with db.escritura() as conn:
        conn.execute(update(Cliente.__table__).where(Cliente.id == 2).values(activo=False))
    assert ok(await call(client, "buscarCliente", {"query": "juan.perez@empresa.com"}))["clientes"] == []
    con = ok(await call(client, "buscarCliente", {"query": "juan.perez@empresa.com", "incluirInactivos": True}))
    assert [c["id"] for c in con["clientes"]] == [2]


async def test_a_word_that_begins_no_word_is_looked_for_inside_words(client) -> None:
    assert nombres(ok(await call(client, "buscarCliente", {"query": "arcia"}))) == ["María García López"]
    assert nombres(ok(await call(client, "buscarCliente", {"query": "ANDEZ silv"}))) == ["Lucía Fernández Silva"]


def _nuevo_cliente(db, nombre: str, email: str) -> None:
    from sqlalchemy import insert

    from soporte_mcp.db.models import Cliente
    from soporte_mcp.services.texto import texto_busqueda

    with db.escritura() as conn:
        conn.execute(insert(Cliente.__table__).values(
            nombre=nombre, email=email, saldo=0, saldo_inicial=0, activo=True, busqueda=texto_busqueda(nombre, email)))


async def test_a_word_also_finds_longer_words_that_start_with_it(client, db) -> None:
    _nuevo_cliente(db, "Rosa Garciano Paz", "rosa.paz@correo.ec")
    assert nombres(ok(await call(client, "buscarCliente", {"query": "garcia"}))) == [
        "María García López", "Rosa Garciano Paz"]


async def test_the_substring_search_runs_only_when_no_word_matches(client, db) -> None:
    _nuevo_cliente(db, "Juliana Torres", "jtorres@correo.ec")
    # "ana" begins a word of Ana Sofía Rodríguez: Juliana, where it is only inside a word, is not added.
    assert nombres(ok(await call(client, "buscarCliente", {"query": "ana"}))) == ["Ana Sofía Rodríguez"]
    assert nombres(ok(await call(client, "buscarCliente", {"query": "liana"}))) == ["Juliana Torres"]


async def test_a_piece_of_an_email_with_its_at_sign_is_looked_for_as_written(client) -> None:
    assert nombres(ok(await call(client, "buscarCliente", {"query": "ez@empresa.c"}))) == ["Juan Carlos Pérez"]
    assert ok(await call(client, "buscarCliente", {"query": "perez@gmail"}))["clientes"] == []


async def test_a_customer_met_again_in_a_later_batch_takes_no_place_of_a_new_one(client, db) -> None:
    """On PostgreSQL the first batch (8 words for limite 3) finds the two A's by their names; the second
    meets them again by their emails, next to the three B's: the missing places go to B's."""
    _insertar_clientes(db, [("Zetaword Tres", f"zetaword{i}@correo.ec") for i in range(2)]
                       + [("Zetaword Uno", f"u{i}@correo.ec") for i in range(20)]
                       + [("Zetaword Tres", f"b{i}@correo.ec") for i in range(3)])
    resultado = ok(await call(client, "buscarCliente", {"query": "zetaword tres", "limite": 3}))
    assert resultado["total"] == 3 and resultado["hay_mas"] is True
    assert len({c["id"] for c in resultado["clientes"]}) == 3


async def test_the_parts_of_a_word_with_punctuation_keep_their_order(client) -> None:
    assert nombres(ok(await call(client, "buscarCliente", {"query": "maria.garcia"}))) == ["María García López"]
    assert ok(await call(client, "buscarCliente", {"query": "garcia.maria"}))["clientes"] == []


def _insertar_clientes(db, filas: list[tuple[str, str]]) -> None:
    from sqlalchemy import insert

    from soporte_mcp.db.models import Cliente
    from soporte_mcp.services.texto import texto_busqueda

    with db.escritura() as conn:
        conn.execute(insert(Cliente.__table__), [
            {"nombre": n, "email": e, "saldo": 0, "saldo_inicial": 0, "activo": True,
             "busqueda": texto_busqueda(n, e)} for n, e in filas])


async def test_a_rare_pair_is_found_behind_many_customers_with_one_of_its_words(client, db) -> None:
    """PostgreSQL walks the longest word's range in growing batches (22, 88 …): the one match sits
    after the first batch, and must still be found."""
    _insertar_clientes(db, [("Zetaword Uno", f"uno{i}@correo.ec") for i in range(100)] + [("Zetaword Dos",
                                                                                           "dos@correo.ec")])
    # "d" starts a word of Zetaword Dos only; as a substring it is in every "zetaword": if the walk stopped
    # at its first batch, the substring fallback would answer all of them.
    assert nombres(ok(await call(client, "buscarCliente", {"query": "zetaword d"}))) == ["Zetaword Dos"]
    todos = ok(await call(client, "buscarCliente", {"query": "zetaword", "limite": 50}))
    assert todos["total"] == 50 and todos["hay_mas"] is True
