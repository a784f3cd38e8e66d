"""The interactive chat: help, /commands, end of input, and Ctrl-C during an answer."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from click.testing import CliRunner

from soporte_mcp.chat.cli import main
from tests.chat.conftest import CLAVE
from tests.chat.modelo_falso import Colgar, Texto

ESPERA_MAXIMA_S = 30.0


def test_the_command_and_every_option_have_help_text() -> None:
    assert (main.help or "").strip()
    opciones = [p for p in main.params if isinstance(p, click.Option) and not p.hidden]
    assert all((p.help or "").strip() for p in opciones), [p.name for p in opciones if not p.help]

    r = CliRunner().invoke(main, ["--help"], prog_name="soporte-chat")

    assert r.exit_code == 0 and r.output.startswith("Uso: soporte-chat [OPCIONES]")
    for p in opciones:
        assert max(p.opts, key=len) in r.output
    assert "Ejemplos:" in r.output and "Ollama" in r.output


def test_slash_commands_list_tools_clear_the_history_and_leave(chat_http, modelo) -> None:
    modelo.guionar(Texto("Hola."), Texto("Adiós."))

    r = chat_http("-i", input="/help\n/tools\nhola\n/clear\nadiós\n/nada\n/exit\nesto no se lee\n")

    assert r.exit_code == 0, r.stderr
    assert "/clear   empezar una conversación nueva" in r.stdout
    assert "  buscarCliente [127_0_0_1_" in r.stdout and "\n✎ registrarPago [127_0_0_1_" in r.stdout
    assert "Conversación nueva." in r.stdout
    assert [m["role"] for m in modelo.peticiones[1].mensajes] == ["system", "user"]  # /clear forgot "hola"
    assert "Comando desconocido: /nada" in r.stderr
    assert "9 herramientas" in r.stderr.splitlines()[0]
    assert len(modelo.peticiones) == 2


def test_the_chat_ends_at_the_end_of_input(chat_http, modelo) -> None:
    modelo.guionar(Texto("Hola."))

    r = chat_http("-i", input="hola\n")

    assert r.exit_code == 0 and "Hola." in r.stdout


def leer_hasta(fd: int, esperado: bytes) -> bytes:
    """Read ``fd`` until ``esperado`` shows up (bounded by ESPERA_MAXIMA_S)."""
    visto, limite = b"", time.monotonic() + ESPERA_MAXIMA_S
    while esperado not in visto:
        restante = limite - time.monotonic()
        assert restante > 0, visto
        listos, _, _ = select.select([fd], [], [], restante)
        if listos:
            trozo = os.read(fd, 4096)
            assert trozo, visto  # the process closed its stdout
            visto += trozo
    return visto


def test_ctrl_c_stops_the_answer_and_keeps_the_conversation(modelo, servidor_compartido) -> None:
    modelo.guionar(Colgar(texto="Empiezo a responder"), Texto("Segunda respuesta."))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPORTE_", "OPENAI_"))}
    env |= {"OPENAI_API_KEY": CLAVE, "OPENAI_BASE_URL": modelo.url}
    chat = Path(sys.executable).parent / "soporte-chat"
    proceso = subprocess.Popen([str(chat), "-i", "--server", servidor_compartido.url], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proceso.stdin.write(b"primera\n")
        proceso.stdin.flush()
        leer_hasta(proceso.stdout.fileno(), b"Empiezo a responder")

        proceso.send_signal(signal.SIGINT)
        salida, errores = proceso.communicate(b"segunda\n/exit\n", timeout=ESPERA_MAXIMA_S)
    finally:
        proceso.kill()
        proceso.wait()

    assert proceso.returncode == 0, errores.decode()
    assert "[respuesta interrumpida; la conversación sigue]" in errores.decode()
    assert "Segunda respuesta." in salida.decode()
    historia = [(m["role"], m["content"]) for m in modelo.peticiones[1].mensajes[1:]]
    assert historia == [("user", "primera"), ("assistant", "Empiezo a responder"), ("user", "segunda")]
