"""The model side without a server: chunks put back together, the key rule, the retry wait."""

from __future__ import annotations

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from soporte_mcp.chat.errores import ConfiguracionInvalida
from soporte_mcp.chat.modelo import CLAVE_SIN_USO, Acumulador, LlamadaPedida, _espera, clave_api


def trozo(delta: dict, fin: str | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate({
        "id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": fin}],
    })


def llamada(indice: int, **campos: object) -> dict:
    return {"tool_calls": [{"index": indice, **campos}]}


def test_interleaved_tool_calls_are_put_back_together_by_index() -> None:
    acumulador = Acumulador()
    for t in [
        trozo(llamada(0, id="a", type="function", function={"name": "uno", "arguments": '{"x"'})),
        trozo(llamada(1, id="b", type="function", function={"name": "dos", "arguments": ""})),
        trozo(llamada(0, function={"arguments": ": 1}"})),
        trozo(llamada(1, function={"arguments": "{}"})),
        trozo({}, "tool_calls"),
    ]:
        acumulador.agregar(t)

    respuesta = acumulador.terminar()

    assert respuesta.llamadas == [LlamadaPedida("a", "uno", '{"x": 1}'), LlamadaPedida("b", "dos", "{}")]
    assert respuesta.fin == "tool_calls"


def test_a_server_that_repeats_id_and_name_in_every_chunk_does_not_double_them() -> None:
    acumulador = Acumulador()
    for parte in ['{"clienteId"', ": 2}"]:
        acumulador.agregar(trozo(llamada(0, id="a", function={"name": "consultarSaldo", "arguments": parte})))

    assert acumulador.terminar().llamadas == [LlamadaPedida("a", "consultarSaldo", '{"clienteId": 2}')]


def test_text_pieces_are_returned_as_they_come_and_kept() -> None:
    acumulador = Acumulador()

    assert [acumulador.agregar(trozo({"content": p})) for p in ["Ho", "la"]] == ["Ho", "la"]
    assert acumulador.terminar().texto == "Hola"


@pytest.mark.parametrize("base_url", [None, "https://api.openai.com/v1"])
def test_openai_itself_needs_a_key(base_url: str | None) -> None:
    with pytest.raises(ConfiguracionInvalida, match="OPENAI_API_KEY"):
        clave_api(None, base_url)


def test_another_endpoint_gets_a_placeholder_key_and_a_given_key_is_kept() -> None:
    assert clave_api("", "http://localhost:11434/v1") == CLAVE_SIN_USO
    assert clave_api("sk-x", None) == "sk-x"


def limite(**cabeceras: str) -> openai.RateLimitError:
    respuesta = httpx2.Response(429, headers=cabeceras, request=httpx2.Request("POST", "http://m/v1/chat/completions"))
    return openai.RateLimitError("429", response=respuesta, body=None)


def test_the_retry_wait_is_what_the_server_asks_for_else_exponential_and_capped() -> None:
    assert _espera(limite(**{"retry-after-ms": "250"}), 0, 1.0) == 0.25
    assert _espera(limite(**{"retry-after": "3"}), 0, 1.0) == 3.0
    assert [_espera(limite(), n, 1.0) for n in range(3)] == [1.0, 2.0, 4.0]
    assert _espera(limite(**{"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}), 1, 0.5) == 1.0
    assert _espera(limite(**{"retry-after": "3600"}), 0, 1.0) == 60.0
