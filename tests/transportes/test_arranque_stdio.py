"""The stdio cold start (issue 13): the host's handshake and tools/list come before SQLAlchemy and the database.

A host spawns ``soporte-mcp serve`` and waits for ``initialize`` and ``tools/list``; the
list comes from the published catalogue (tools/catalogo.py), and the tools and the
database are built and opened after that answer, in the background, or by the first
call (soporte_mcp/db/perezosa.py). A database that cannot be opened then is a retryable
refusal of each call, not a server that never answers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests._procesos import cli, comando, entorno
from tests.conftest import CLIENT_INFO, error_code, ok

pytestmark = pytest.mark.anyio

HERRAMIENTAS = 9
# `soporte-mcp serve`, run in-process by `python -c` with one spy: when the first tools/list has been
# answered (the moment the server starts opening the database), it writes every imported module to stderr.
SERVIDOR_ESPIADO = """
import json, sys
from soporte_mcp.db.perezosa import BasePerezosa

abrir_en_segundo_plano = BasePerezosa.en_segundo_plano

def espiar(self, *args, **kwargs):
    print("IMPORTADOS " + json.dumps(sorted(sys.modules)), file=sys.stderr, flush=True)
    abrir_en_segundo_plano(self, *args, **kwargs)

BasePerezosa.en_segundo_plano = espiar
from soporte_mcp.cli import main
main(["serve"], prog_name="soporte-mcp")
"""
# What the handshake and tools/list must not wait for: the database layer, the services, the tools'
# own modules (their models and the result models), the HTTP server's metrics and trace exporters, and
# rich (the SDK's logging handler, which our own logging makes useless: server.py).
LIGEROS = {"soporte_mcp.db.perezosa", "soporte_mcp.tools._comun", "soporte_mcp.tools._errores",
           "soporte_mcp.tools.catalogo"}


def pesado(modulo: str) -> bool:
    if modulo in LIGEROS:
        return False
    return (modulo.split(".")[0] in ("sqlalchemy", "alembic", "prometheus_client", "rich")
            or modulo.startswith(("opentelemetry.sdk", "soporte_mcp.services", "soporte_mcp.db.",
                                  "soporte_mcp.tools.")))


def servidor(url: str) -> StdioServerParameters:
    return StdioServerParameters(command=comando(), args=["serve"], env=entorno(url))


async def test_a_stdio_cold_start_answers_tools_list_before_importing_sqlalchemy_and_then_serves(
    db, db_url: str, tmp_path: Path
) -> None:
    parametros = StdioServerParameters(command=sys.executable, args=["-c", SERVIDOR_ESPIADO], env=entorno(db_url))
    registro = tmp_path / "stderr.log"
    with registro.open("w") as errlog:
        async with Client(stdio_client(parametros, errlog=errlog), client_info=CLIENT_INFO) as client:
            assert len((await client.list_tools()).tools) == HERRAMIENTAS
            busqueda = ok(await client.call_tool("buscarCliente", {"query": "maria garcia"}))
    assert [c["nombre"] for c in busqueda["clientes"]] == ["María García López"]
    lineas = [x for x in registro.read_text().splitlines() if x.startswith("IMPORTADOS ")]
    assert lineas, registro.read_text()
    importados = json.loads(lineas[0].removeprefix("IMPORTADOS "))
    assert "soporte_mcp.server" in importados  # the snapshot is the running server's
    assert [m for m in importados if pesado(m)] == []


async def test_a_database_that_cannot_be_opened_lets_the_host_list_the_tools_and_each_call_says_why_until_fixed(
    tmp_path: Path,
) -> None:
    estorbo = tmp_path / "datos"
    estorbo.write_text("un archivo donde debería estar la carpeta de la base")
    url = f"sqlite:///{estorbo / 'soporte.db'}"
    registro = tmp_path / "stderr.log"
    with registro.open("w") as errlog:
        async with Client(stdio_client(servidor(url), errlog=errlog), client_info=CLIENT_INFO) as client:
            assert len((await client.list_tools()).tools) == HERRAMIENTAS
            rechazo = await client.call_tool("buscarCliente", {"query": "maria garcia"})
            assert error_code(rechazo) == "base_de_datos_no_disponible"
            assert rechazo.meta["soporte/reintentable"] is True and str(estorbo) in rechazo.content[0].text

            estorbo.unlink()  # the operator puts the folder where it belongs and loads the data
            estorbo.mkdir()
            sembrado = cli(url, "seed")
            assert sembrado.returncode == 0, sembrado.stderr

            busqueda = ok(await client.call_tool("buscarCliente", {"query": "maria garcia"}))
    assert [c["nombre"] for c in busqueda["clientes"]] == ["María García López"]
    errores = [x for x in registro.read_text().splitlines() if " ERROR " in x]
    assert errores and all(str(estorbo) in x for x in errores), registro.read_text()


@pytest.mark.parametrize("listar", [True, False], ids=["tras-tools-list", "sin-tools-list"])
async def test_the_first_call_right_after_the_handshake_waits_for_the_database_and_succeeds(
    db, db_url: str, listar: bool
) -> None:
    async with Client(stdio_client(servidor(db_url)), client_info=CLIENT_INFO) as client:
        if listar:  # the open has just started in the background: the call waits for it
            await client.list_tools()
        saldo = ok(await client.call_tool("consultarSaldo", {"clienteId": 1}))
    assert (saldo["cliente"]["nombre"], saldo["saldo"]) == ("María García López", "1250.00")
