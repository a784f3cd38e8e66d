"""The Claude Desktop extension (mcpb/): its manifest lists the server's real tools, passes the
database the user chooses, and the official mcpb CLI (npm, installed by `make test`) validates it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest
from mcp import Client

from soporte_mcp import __version__
from soporte_mcp.config import Settings

RAIZ = Path(__file__).resolve().parents[2]
MANIFIESTO = RAIZ / "mcpb" / "manifest.json"
MCPB = RAIZ / ".tools" / "mcpb" / "node_modules" / ".bin" / "mcpb"


def manifiesto() -> dict:
    return json.loads(MANIFIESTO.read_text())


def entrada():
    spec = importlib.util.spec_from_file_location("mcpb_main", RAIZ / "mcpb" / "server" / "main.py")
    modulo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(modulo)
    return modulo


@pytest.mark.anyio
async def test_the_manifest_lists_exactly_the_tools_the_server_has(server) -> None:
    async with Client(server) as cliente:
        reales = [t.name for t in (await cliente.list_tools()).tools]
    assert [t["name"] for t in manifiesto()["tools"]] == reales
    assert all(t["description"].strip() for t in manifiesto()["tools"])


def test_the_manifest_runs_the_python_entry_with_the_database_the_user_chose() -> None:
    m = manifiesto()
    assert m["version"] == __version__
    servidor = m["server"]
    assert (servidor["type"], servidor["entry_point"]) == ("uv", "server/main.py")
    assert servidor["mcp_config"]["args"] == ["run", "--directory", "${__dirname}", "server/main.py"]
    env = servidor["mcp_config"]["env"]
    assert env["SOPORTE_DATABASE_URL"] == "${user_config.base_de_datos}"
    for variable in env.values():
        clave = variable.removeprefix("${user_config.").removesuffix("}")
        assert clave in m["user_config"], variable
    assert m["user_config"]["zona_horaria"]["default"] == Settings.model_fields["timezone"].default


@pytest.mark.parametrize(
    ("valor", "url"),
    [("", ""), ("  ", ""), ("/datos/soporte.db", "sqlite:////datos/soporte.db"),
     ("postgresql+psycopg://u@db/soporte", "postgresql+psycopg://u@db/soporte"),
     ("sqlite:////ya/es/url.db", "sqlite:////ya/es/url.db")],
)
def test_the_entry_turns_a_file_path_into_a_sqlite_url(valor: str, url: str) -> None:
    assert entrada().url_de_base(valor) == url


def _mcpb() -> Path:
    if not MCPB.exists():
        motivo = f"el CLI mcpb no está en {MCPB}: ejecute `make test` (o `make mcpb`)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{motivo}; en CI no se permite saltar esta prueba")
        pytest.skip(motivo)
    return MCPB


@pytest.mark.interop
def test_the_official_mcpb_cli_validates_the_manifest_and_refuses_a_broken_one(tmp_path: Path) -> None:
    mcpb = _mcpb()
    bueno = subprocess.run([mcpb, "validate", str(MANIFIESTO)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert bueno.returncode == 0, bueno.stdout + bueno.stderr
    roto = manifiesto()
    roto["server"]["type"] = "ruby"
    (tmp_path / "manifest.json").write_text(json.dumps(roto))
    malo = subprocess.run([mcpb, "validate", str(tmp_path / "manifest.json")], capture_output=True, text=True,
                          timeout=60, check=False)
    assert malo.returncode != 0
