"""OAuth 2.1 resource-server mode: JWT access tokens checked against the issuer's JWKS, metadata published."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from soporte_mcp.db.engine import Database
from tests._procesos import HOST, ServidorHttp, cliente_http, sembrar, servidor_http
from tests.conftest import audit_rows, business_state, error_code, ok

KID = "clave-1"


@pytest.fixture(scope="module")
def claves():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048), rsa.generate_private_key(
        public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def emisor(claves) -> Iterator[str]:
    """An identity provider on loopback that publishes its JWKS."""
    publica = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(claves[0].public_key()))
    jwks = json.dumps({"keys": [{**publica, "kid": KID, "use": "sig", "alg": "RS256"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args) -> None:
            pass

    servidor = ThreadingHTTPServer((HOST, 0), Jwks)
    hilo = threading.Thread(target=servidor.serve_forever, daemon=True)
    hilo.start()
    yield f"http://{HOST}:{servidor.server_port}"
    servidor.shutdown()
    servidor.server_close()


@pytest.fixture(scope="module")
def url_oauth(tmp_path_factory) -> str:
    return sembrar(tmp_path_factory.mktemp("oauth"))


@pytest.fixture(scope="module")
def servidor(url_oauth, emisor, tmp_path_factory) -> Iterator[ServidorHttp]:
    carpeta = tmp_path_factory.mktemp("logs")
    # The public URL is only the tokens' audience here; the port is whatever servidor_http picks.
    extra = ("--oauth-issuer", emisor, "--oauth-jwks-url", f"{emisor}/jwks.json",
             "--public-url", "https://soporte.example/mcp")
    with servidor_http(url_oauth, carpeta, *extra) as s:
        yield s


def token(clave, emisor: str, scope: str = "read write", **cambios) -> str:
    ahora = int(time.time())
    claims = {"iss": emisor, "aud": "https://soporte.example/mcp", "sub": "ana@soporte.example",
              "client_id": "agente-web", "scope": scope, "iat": ahora, "exp": ahora + 300, **cambios}
    return jwt.encode(claims, clave, algorithm="RS256", headers={"kid": KID})


def llamar(servidor: ServidorHttp, bearer: str, nombre: str, argumentos: dict) -> httpx2.Response:
    cuerpo = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": nombre, "arguments": argumentos}}
    cabeceras = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {bearer}",
                 "MCP-Protocol-Version": "2025-11-25"}
    return httpx2.post(servidor.mcp_url, json=cuerpo, headers=cabeceras, timeout=30)


def test_protected_resource_metadata_names_the_issuer(servidor, emisor) -> None:
    r = httpx2.get(f"{servidor.base}/.well-known/oauth-protected-resource/mcp", timeout=10)
    assert r.status_code == 200
    assert [s.rstrip("/") for s in r.json()["authorization_servers"]] == [emisor]
    sin = httpx2.post(servidor.mcp_url, json={}, timeout=10)
    assert sin.status_code == 401 and "resource_metadata" in sin.headers["www-authenticate"]


@pytest.mark.parametrize(
    "cambio",
    [{"exp": int(time.time()) - 120}, {"iss": "http://otro-emisor.example"}, {"aud": "https://otro.example/mcp"}],
    ids=["caducado", "otro-emisor", "otra-audiencia"],
)
def test_invalid_jwts_are_refused_with_401(servidor, emisor, claves, url_oauth, cambio) -> None:
    db = Database.from_url(url_oauth)
    antes = business_state(db)
    r = llamar(servidor, token(claves[0], emisor, **cambio), "registrarPago", {"clienteId": 2, "monto": 5})
    assert r.status_code == 401
    assert business_state(db) == antes
    db.dispose()


def test_a_jwt_signed_by_another_key_is_refused(servidor, emisor, claves) -> None:
    assert llamar(servidor, token(claves[1], emisor), "consultarSaldo", {"clienteId": 1}).status_code == 401


@pytest.mark.anyio
async def test_a_read_scope_jwt_reads_but_cannot_pay(servidor, emisor, claves, url_oauth) -> None:
    async with cliente_http(servidor.mcp_url, token(claves[0], emisor, scope="read")) as c:
        assert ok(await c.call_tool("consultarSaldo", {"clienteId": 1}))["saldo"] == "1250.00"
        assert error_code(await c.call_tool("registrarPago", {"clienteId": 2, "monto": 5})) == "permiso_denegado"


@pytest.mark.anyio
async def test_a_write_scope_jwt_pays_and_the_audit_names_its_subject(servidor, emisor, claves, url_oauth) -> None:
    async with cliente_http(servidor.mcp_url, token(claves[0], emisor)) as c:
        r = ok(await c.call_tool("registrarPago", {"clienteId": 3, "monto": "2.00"}))
    assert r["saldo_nuevo"] == "2.00"
    db = Database.from_url(url_oauth)
    fila = audit_rows(db)[-1]
    db.dispose()
    assert fila.usuario == "ana@soporte.example (pytest-client 1.0)" and fila.resultado == "ok"


def test_a_jwt_without_the_read_scope_gets_403(servidor, emisor, claves) -> None:
    assert llamar(
        servidor, token(claves[0], emisor, scope="perfil"), "consultarSaldo", {"clienteId": 1}
    ).status_code == 403
