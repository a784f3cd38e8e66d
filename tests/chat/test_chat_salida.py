"""What reaches stdout: the final answer only in one-shot, one JSON object with --json, Markdown on a terminal."""

from __future__ import annotations

import io
import json

from rich.console import Console

from soporte_mcp.chat.salida import Pantalla, UnaVez
from tests.chat.modelo_falso import Llamadas, Texto

SALDO = Llamadas([("consultarSaldo", {"clienteId": 1})], texto="Voy a consultar el saldo.")


def test_one_shot_prints_only_the_final_answer_and_shows_the_tools_on_stderr(chat_http, modelo) -> None:
    modelo.guionar(SALDO, Texto(lambda p: f"Saldo: **${p.resultado()['saldo']}**"))

    r = chat_http("-p", "Saldo del cliente 1")

    assert (r.exit_code, r.stdout) == (0, "Saldo: **$1250.00**\n")
    assert r.stderr.splitlines()[:2] == ["Voy a consultar el saldo.", '→ consultarSaldo {"clienteId": 1}']
    assert r.stderr.splitlines()[2].startswith('  ← {"cliente": {"id": 1, "nombre": "María García López"')


def test_a_request_piped_on_stdin_is_answered_once(chat_http, modelo) -> None:
    modelo.guionar(Texto("Hay 6 clientes."))

    r = chat_http(input="¿Cuántos clientes hay en total?\n")

    assert (r.exit_code, r.stdout) == (0, "Hay 6 clientes.\n")
    assert modelo.peticiones[0].mensajes[-1] == {"role": "user", "content": "¿Cuántos clientes hay en total?"}


def test_json_prints_the_answer_and_every_tool_call_with_its_result(chat_http, modelo) -> None:
    modelo.guionar(SALDO, Llamadas([("consultarSaldo", {"clienteId": 99})]), Texto("Listo."))

    r = chat_http("-p", "Saldos", "--json")

    assert r.exit_code == 0, r.stderr
    salida = json.loads(r.stdout)
    assert salida["respuesta"] == "Listo." and salida["modelo"] == "gpt-4o" and salida["limite_alcanzado"] is False
    assert salida["error"] is None
    assert salida["uso"] == {"prompt_tokens": 300, "completion_tokens": 60, "total_tokens": 360}
    bien, mal = salida["llamadas"]
    assert (bien["herramienta"], bien["argumentos"], bien["es_error"], bien["aprobada"]) == (
        "consultarSaldo", {"clienteId": 1}, False, True)
    assert bien["resultado"]["saldo"] == "1250.00"
    assert (mal["es_error"], mal["codigo"]) == (True, "cliente_no_encontrado") and bien["codigo"] is None
    assert mal["resultado"].startswith("Error: No existe un cliente con id 99")


def test_json_needs_a_one_shot_request(chat_http) -> None:
    r = chat_http("-i", "--json")

    assert (r.exit_code, r.stdout) == (2, "")
    assert "--json necesita una petición única" in r.stderr


def test_an_empty_request_is_a_usage_error(chat_http) -> None:
    for r in (chat_http(input="  \n"), chat_http("-p", "")):
        assert r.exit_code == 2
        assert r.stderr.strip().splitlines()[-1].startswith("Error: La petición está vacía")


def terminal() -> tuple[Console, io.StringIO]:
    destino = io.StringIO()
    return Console(file=destino, force_terminal=True, width=60, color_system="standard"), destino


def test_the_answer_is_rendered_as_markdown_on_a_terminal() -> None:
    consola, destino = terminal()
    pantalla = Pantalla(consola)

    for trozo in ["El saldo es **$1", "250.00**.\n\n- uno\n", "- dos"]:
        pantalla.texto(trozo)
    pantalla.fin_ronda(con_llamadas=False)

    visto = destino.getvalue()
    assert "**" not in visto and "\x1b[1m" in visto  # bold, not asterisks
    assert " • \x1b[0muno" in visto and " • \x1b[0mdos" in visto  # a list, not dashes


def test_a_one_shot_answer_is_rendered_as_markdown_on_a_terminal() -> None:
    consola, destino = terminal()
    salida = UnaVez(consola)

    salida.texto("# Saldo\n\n**$1250.00**")
    salida.fin_ronda(con_llamadas=False)
    salida.imprimir(None, modelo="gpt-4o")  # type: ignore[arg-type]

    assert "#" not in destino.getvalue() and "$1250.00" in destino.getvalue()


def test_piped_output_is_the_plain_markdown_text(chat_http, modelo) -> None:
    modelo.guionar(Texto("El saldo es **$1250.00**.\n\n- uno", trozos=5))

    r = chat_http("-i", input="saldo\n/exit\n")

    assert "El saldo es **$1250.00**.\n\n- uno\n" in r.stdout
