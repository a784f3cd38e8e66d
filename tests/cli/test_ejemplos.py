"""examples/ stays true to the code: the config parses, the script calls every tool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_claude_desktop_config_starts_the_stdio_server() -> None:
    config = json.loads((EXAMPLES / "claude_desktop_config.json").read_text())
    entrada = config["mcpServers"]["soporte"]
    assert Path(entrada["command"]).name == "soporte-mcp" and entrada["args"] == ["serve"]


def test_stdio_example_script_calls_each_tool(db, db_url) -> None:
    env = {**os.environ, "SOPORTE_DATABASE_URL": db_url}
    salida = subprocess.run(
        [sys.executable, str(EXAMPLES / "cliente_stdio.py")], env=env, capture_output=True, text=True, timeout=60
    )
    assert salida.returncode == 0, salida.stderr
    encabezados = [linea for linea in salida.stdout.splitlines() if linea.startswith("## ")]
    assert [linea.split()[1] for linea in encabezados] == [
        "buscarCliente", "consultarSaldo", "crearTicket", "registrarPago", "estadisticas",
        "listarTickets", "actualizarTicket", "listarPagos", "anularPago"]
    assert all(linea.endswith("-> ok") for linea in encabezados), encabezados
    # Each call's answer is printed whole: the text after each header parses as one JSON document.
    respuestas = [json.loads(bloque.split("\n", 1)[1]) for bloque in salida.stdout.split("\n## ")[1:]]
    assert len(respuestas) == 9  # one answer per tool
    assert respuestas[0]["clientes"][0]["nombre"] == "María García López"
    assert respuestas[1]["cliente"]["id"] == 1 and respuestas[1]["ultimos_pagos"]
