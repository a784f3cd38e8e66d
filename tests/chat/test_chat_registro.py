"""One register, usted, in what the chat gives a person or a model to read (and in the server's prompt)."""

from __future__ import annotations

import re

import pytest

from soporte_mcp.chat.conversacion import CANCELADA, RECHAZO
from soporte_mcp.chat.interactivo import AYUDA
from soporte_mcp.recursos import atender_cliente
from tests.chat.modelo_falso import Texto

# Forms that only "tú" uses: a text in "usted" has none of them.
TUTEO = re.compile(
    r"\b(eres|trabajas|accedes|vas|búscalo|asegúrate|explícalo|pregúntalo|inventes|supongas|digas|repitas|"
    r"vuelvas|puedes|tienes|quieres|dime|tú|te|ti|tu|tus|contigo)\b",
    re.IGNORECASE,
)


def test_the_model_gets_a_system_prompt_in_usted_asking_for_usted(chat_http, modelo) -> None:
    modelo.guionar(Texto("Hola."))

    chat_http("-p", "Hola")

    sistema = modelo.peticiones[0].mensajes[0]
    assert sistema["role"] == "system"
    assert sistema["content"].startswith("Usted es el asistente")
    assert "Trate al usuario de usted" in sistema["content"]
    assert TUTEO.findall(sistema["content"]) == []  # the server's instructions are part of it


def test_help_in_the_chat_is_in_usted(chat_http) -> None:
    r = chat_http("-i", input="/help\n/exit\n")

    assert AYUDA in r.stdout and TUTEO.findall(r.stdout) == []


@pytest.mark.parametrize(
    "texto",
    [RECHAZO.format(nombre="registrarPago"), CANCELADA, atender_cliente("María García")],
    ids=["refusal", "cancelled", "atender_cliente"],
)
def test_what_the_model_reads_from_the_chat_and_the_prompt_is_in_usted(texto: str) -> None:
    assert TUTEO.findall(texto) == []
