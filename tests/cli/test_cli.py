"""The soporte-mcp command: seed, db check, info, one-line errors (its help: tests/cli/test_clic.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from soporte_mcp.cli import main
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, Cliente, HistorialAccion, HistorialTicket, Pago, Ticket
from tests.conftest import nueva_url


def run(*args: str, url: str | None = None):
    env = {"SOPORTE_DATABASE_URL": url} if url else {}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_seed_loads_the_demo_data_once_and_db_check_passes(db_url) -> None:
    assert "cargados" in run("seed", url=db_url).output
    assert "ya estaban" in run("seed", url=db_url).output
    db = Database.from_url(db_url)
    with db.lectura() as conn:
        clientes = conn.execute(select(Cliente.nombre, Cliente.saldo).order_by(Cliente.id)).all()
        cuentas = [conn.execute(select(t.id)).all()
                   for t in (Ticket, Pago, HistorialAccion, Anulacion, HistorialTicket)]
        estados = conn.execute(select(Ticket.estado).order_by(Ticket.id)).scalars().all()
    db.dispose()
    assert [(n, f"{s:.2f}") for n, s in clientes] == [
        ("María García López", "1250.00"), ("Juan Carlos Pérez", "850.50"), ("Ana Sofía Rodríguez", "0.00"),
        ("Carlos Alberto Mendoza", "2100.75"), ("Lucía Fernández Silva", "450.25"),
        ("Roberto González Vega", "3200.00")]
    assert [len(c) for c in cuentas] == [6, 17, 3, 1, 10]
    assert estados == ["abierto", "en_proceso", "abierto", "resuelto", "pendiente", "cerrado"]
    result = run("db", "check", url=db_url)
    assert result.exit_code == 0 and "cuadran" in result.output


def test_seed_limpiar_wipes_everything_and_starts_ids_at_one(db_url) -> None:
    run("seed", "--clientes", "50", url=db_url)
    assert run("seed", "--limpiar", url=db_url).exit_code == 0
    db = Database.from_url(db_url)
    with db.lectura() as conn:
        assert conn.execute(select(Cliente.id).order_by(Cliente.id)).scalars().all() == [1, 2, 3, 4, 5, 6]
    db.dispose()


def test_synthetic_customers_are_deterministic_for_a_seed_and_reconciled(tmp_path) -> None:
    def cargar(nombre: str, semilla: str) -> list:
        carpeta = tmp_path / nombre
        carpeta.mkdir()
        url = nueva_url(carpeta)
        assert run("seed", "--clientes", "300", "--semilla", semilla, url=url).exit_code == 0
        assert run("db", "check", url=url).exit_code == 0
        db = Database.from_url(url)
        with db.lectura() as conn:
            filas = conn.execute(select(Cliente.nombre, Cliente.email, Cliente.saldo).order_by(Cliente.id)).all()
            # Synthetic tickets are searchable by listarTickets' texto like any other.
            assert conn.execute(select(Ticket.id).where(Ticket.id > 6, Ticket.busqueda == "")).first() is None
            assert conn.execute(select(Ticket.id).where(Ticket.id > 6)).first() is not None
        db.dispose()
        return filas

    a, b, c = cargar("a.db", "7"), cargar("b.db", "7"), cargar("c.db", "8")
    assert len(a) == 306 and a == b and a != c
    assert any(ch in "áéíóúñÁÉÍÓÚÑ" for n, _, _ in a[6:] for ch in n)  # Spanish names keep their accents
    assert len({e for _, e, _ in a}) == 306


@pytest.mark.sqlite_only
def test_synthetic_customers_are_in_both_search_indexes(db_url) -> None:
    from sqlalchemy import text

    assert run("seed", "--clientes", "300", url=db_url).exit_code == 0
    db = Database.from_url(db_url)
    with db.escritura() as conn:
        # FTS5 checks each index against clientes.busqueda; it raises on any difference.
        for indice in ("clientes_fts", "clientes_palabras"):
            conn.execute(text(f"INSERT INTO {indice}({indice}, rank) VALUES ('integrity-check', 1)"))
        palabras = conn.execute(text(
            "SELECT count(*) FROM clientes_palabras WHERE clientes_palabras MATCH 'com* OR ec'"))
        assert palabras.scalar_one() == 306  # every email ends in .com or .ec
    db.dispose()


def test_db_check_names_customers_whose_balance_does_not_reconcile(db_url) -> None:
    run("seed", url=db_url)
    db = Database.from_url(db_url)
    with db.escritura() as conn:
        conn.execute(update(Cliente.__table__).where(Cliente.__table__.c.id == 2).values(saldo=1))
    db.dispose()
    result = CliRunner().invoke(main, ["db", "check"], env={"SOPORTE_DATABASE_URL": db_url})
    assert result.exit_code == 1
    assert "Cliente 2 (Juan Carlos Pérez): saldo 1.00, esperado 850.50" in result.output
    assert "1 cliente(s)" in result.output


def test_db_check_catches_a_tampered_reversal(db_url) -> None:
    run("seed", url=db_url)
    db = Database.from_url(db_url)
    anulaciones = Anulacion.__table__
    with db.escritura() as conn:  # the demo's one reversal (50.25 of Lucía's payment 9) made larger by hand
        conn.execute(update(anulaciones).where(anulaciones.c.pago_id == 9).values(monto=Decimal("150.26")))
    db.dispose()
    result = CliRunner().invoke(main, ["db", "check"], env={"SOPORTE_DATABASE_URL": db_url})
    assert result.exit_code == 1
    assert "Cliente 5 (Lucía Fernández Silva): saldo 450.25, esperado 350.24" in result.output
    assert "Pago 9 (cliente 5) de 150.25: anulado por encima de su monto (anulado 150.26)" in result.output
    assert "1 cliente(s) con el saldo descuadrado y 1 pago(s) anulados de más" in result.output


def test_db_check_catches_a_reversal_booked_to_another_customer(db_url) -> None:
    run("seed", url=db_url)
    db = Database.from_url(db_url)
    anulaciones = Anulacion.__table__
    with db.escritura() as conn:
        conn.execute(update(anulaciones).where(anulaciones.c.pago_id == 9).values(cliente_id=4))
    db.dispose()
    result = CliRunner().invoke(main, ["db", "check"], env={"SOPORTE_DATABASE_URL": db_url})
    assert result.exit_code == 1
    assert "Pago 9 (cliente 5) de 150.25: anulación de 50.25 asentada a otro cliente" in result.output


@pytest.mark.parametrize(
    ("url", "fragmento"),
    [("postgresql+nodriver://u@127.0.0.1:1/x", "no es válida"), ("notaurl", "no es válida"),
     ("sqlite:////proc/no/existe/x.db", "no es válida")],
)
def test_bad_database_urls_give_a_one_line_error(url, fragmento) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"SOPORTE_DATABASE_URL": url})
    assert result.exit_code in (1, 2)  # 2: unusable option value, 1: the database cannot be opened
    assert fragmento in result.output and "Traceback" not in result.output


def test_unknown_timezone_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["--timezone", "Marte/Base", "info"])
    assert result.exit_code == 2 and "zona horaria desconocida" in result.output


def test_info_says_where_the_database_is(db_url) -> None:
    result = run("info", url=db_url)
    assert result.exit_code == 0
    if db_url.startswith("sqlite"):
        assert f"archivo: {db_url.removeprefix('sqlite:///')}" in result.output
    else:
        assert make_url(db_url).database in result.output
    assert "esquema: vacío" in result.output
    run("db", "upgrade", url=db_url)
    assert "esquema: 0003" in run("info", url=db_url).output


def test_default_database_lives_in_the_user_data_directory(monkeypatch, tmp_path) -> None:
    from soporte_mcp.config import Settings

    monkeypatch.delenv("SOPORTE_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert Settings().database_url == f"sqlite:///{tmp_path / 'soporte-mcp' / 'soporte.db'}"


def test_settings_read_their_soporte_variables_in_any_case_and_keyword_arguments_win(monkeypatch) -> None:
    from soporte_mcp.config import Settings

    monkeypatch.setenv("soporte_timezone", "Europe/Madrid")
    monkeypatch.setenv("SOPORTE_RATE_LIMIT", "5")
    monkeypatch.setenv("SOPORTE_NO_EXISTE", "x")  # not a setting: ignored
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")  # without the prefix: not ours
    ajustes = Settings(database_url="sqlite:////tmp/x.db", rate_limit=7)
    assert (ajustes.timezone, ajustes.rate_limit, ajustes.log_level) == ("Europe/Madrid", 7, "WARNING")
