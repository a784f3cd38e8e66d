"""Bearer tokens over HTTP: who may read, who may write, and what the audit trail says."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner

from soporte_mcp.auth import leer_tokens
from soporte_mcp.cli import main
from soporte_mcp.db.engine import Database
from tests._procesos import ServidorHttp, cli, cliente_http, sembrar, servidor_http
from tests.conftest import audit_rows, business_state, error_code, ok

pytestmark = pytest.mark.anyio
GENERACIONES = pytest.mark.parametrize("modo", ["legacy", "auto"])


def crear(tokens: Path, nombre: str, *scopes: str) -> str:
    args = ["token", "crear", nombre, "--tokens-file", str(tokens)]
    for scope in scopes:
        args += ["--scope", scope]
    resultado = CliRunner().invoke(main, args)
    assert resultado.exit_code == 0, resultado.output
    return resultado.stdout.strip()


@pytest.fixture(scope="module")
def tokens(tmp_path_factory) -> tuple[Path, str, str]:
    archivo = tmp_path_factory.mktemp("tokens") / "tokens"
    return archivo, crear(archivo, "lector", "read"), crear(archivo, "cajero", "read", "write")


@pytest.fixture(scope="module")
def url_auth(tmp_path_factory) -> str:
    return sembrar(tmp_path_factory.mktemp("auth"))


@pytest.fixture(scope="module")
def servidor(url_auth, tokens, tmp_path_factory) -> Iterator[ServidorHttp]:
    extra = ("--tokens-file", str(tokens[0]), "--allowed-host", "soporte.example")
    with servidor_http(url_auth, tmp_path_factory.mktemp("logs"), *extra) as s:
        yield s


@pytest.fixture
def base(url_auth) -> Iterator[Database]:
    db = Database.from_url(url_auth)
    yield db
    db.dispose()


def cliente(servidor: ServidorHttp, token: str | None, modo: str):
    return cliente_http(servidor.mcp_url, token, modo)


def test_token_file_keeps_only_hashes_and_is_private(tokens) -> None:
    archivo, lector, cajero = tokens
    contenido = archivo.read_text()
    assert lector not in contenido and cajero not in contenido
    assert stat.S_IMODE(archivo.stat().st_mode) == 0o600
    assert sorted((c.nombre, c.scopes) for c in leer_tokens(archivo).values()) == [
        ("cajero", ("read", "write")), ("lector", ("read",))]


def test_a_token_name_cannot_be_reused(tokens) -> None:
    resultado = CliRunner().invoke(main, ["token", "crear", "lector", "--tokens-file", str(tokens[0])])
    assert resultado.exit_code == 1 and "ya hay un token" in resultado.output


@pytest.mark.parametrize("cabecera", [None, "Bearer sop_no-existe", "Basic dXNlcjpwYXNz"])
def test_requests_without_a_valid_token_get_401_and_write_nothing(servidor, base, cabecera) -> None:
    antes, filas = business_state(base), len(audit_rows(base))
    cuerpo = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
              "params": {"name": "registrarPago", "arguments": {"clienteId": 2, "monto": 5}}}
    headers = {"Accept": "application/json, text/event-stream", **({"Authorization": cabecera} if cabecera else {})}
    r = httpx2.post(servidor.mcp_url, json=cuerpo, headers=headers, timeout=10)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert business_state(base) == antes and len(audit_rows(base)) == filas


@GENERACIONES
async def test_a_read_token_reads_but_cannot_pay(servidor, base, tokens, modo) -> None:
    antes, filas = business_state(base), len(audit_rows(base))
    async with cliente(servidor, tokens[1], modo) as c:
        assert ok(await c.call_tool("consultarSaldo", {"clienteId": 1}))["saldo"] == "1250.00"
        codigo = error_code(await c.call_tool("registrarPago", {"clienteId": 2, "monto": 5}))
    assert codigo == "permiso_denegado"
    assert business_state(base) == antes
    # The read's row is written behind (db/diferido.py): it may land after the refused payment's.
    fila = [f for f in audit_rows(base, al_menos=filas + 2) if f.herramienta == "registrarPago"][-1]
    assert (fila.herramienta, fila.resultado, fila.metadatos["codigo"]) == (
        "registrarPago", "rechazado", "permiso_denegado")
    assert fila.usuario == "lector (pytest-client 1.0)" and fila.ip_address == "127.0.0.1"


@GENERACIONES
async def test_a_write_token_pays_and_the_audit_names_it(servidor, base, tokens, modo) -> None:
    async with cliente(servidor, tokens[2], modo) as c:
        r = ok(await c.call_tool("registrarPago", {"clienteId": 3, "monto": "1.00"}))
    fila = audit_rows(base)[-1]
    assert (fila.tipo, fila.resultado, fila.metadatos["pago_id"]) == ("pago", "ok", r["pago_id"])
    assert fila.usuario == "cajero (pytest-client 1.0)"


@pytest.mark.parametrize(("host", "rechazado"), [("soporte.example", False), ("soporte.example:443", False),
                                                 ("127.0.0.1:8000", False), ("malo.example", True)])
def test_only_the_allowed_host_names_are_answered(servidor, tokens, host, rechazado) -> None:
    headers = {"Host": host, "Accept": "application/json, text/event-stream", "Authorization": f"Bearer {tokens[1]}"}
    r = httpx2.post(servidor.mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers, timeout=10)
    assert (r.status_code == 421) is rechazado, r.status_code


def test_listening_beyond_loopback_needs_tokens_or_insecure(tmp_path) -> None:
    resultado = cli(f"sqlite:///{tmp_path / 'x.db'}", "serve", "--transport", "http", "--host", "0.0.0.0")
    assert resultado.returncode == 2 and "--tokens-file" in resultado.stderr


def test_a_malformed_tokens_file_is_a_one_line_error(tmp_path) -> None:
    malo = tmp_path / "tokens"
    malo.write_text("esto no es un token\n")
    resultado = cli(f"sqlite:///{tmp_path / 'x.db'}", "serve", "--transport", "http", "--tokens-file", str(malo))
    assert resultado.returncode == 1 and "nombre:scopes:sha256" in resultado.stderr
    assert "Traceback" not in resultado.stderr


def test_a_token_over_its_rate_gets_429_with_retry_after(url_auth, tokens, tmp_path) -> None:
    extra = ("--tokens-file", str(tokens[0]), "--rate-limit", "6")  # a burst of one, then one every 10 s
    with servidor_http(url_auth, tmp_path, *extra) as s:
        headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {tokens[1]}"}
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        primera, segunda = (httpx2.post(s.mcp_url, json=ping, headers=headers, timeout=10) for _ in range(2))
        assert primera.status_code != 429
        assert segunda.status_code == 429 and 1 <= int(segunda.headers["retry-after"]) <= 10
        assert httpx2.get(f"{s.base}/health/live", timeout=5).json() == {"status": "ok"}
