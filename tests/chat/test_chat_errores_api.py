"""Model endpoint failures: a clear line each, retries for 429/5xx, and the interactive chat goes on."""

from __future__ import annotations

import json

import pytest

from tests._procesos import puerto_libre
from tests.chat.modelo_falso import Colgar, Fallo, Llamadas, Texto

NO_AUTORIZADO = Fallo(401, "Incorrect API key provided: sk-prueba.", "invalid_api_key")
LIMITE = Fallo(429, "Rate limit reached for gpt-4o.", "rate_limit_exceeded")


def test_a_missing_key_for_openai_itself_is_one_line_before_anything_starts(chat_http, modelo) -> None:
    r = chat_http("-p", "Hola", OPENAI_API_KEY=None, OPENAI_BASE_URL=None)

    assert r.exit_code == 1
    assert r.stderr.startswith("Error: Falta la clave del modelo: defina OPENAI_API_KEY")
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.output
    assert modelo.peticiones == []


def test_a_custom_endpoint_works_without_a_key(chat_http, modelo) -> None:
    modelo.guionar(Texto("Hola."))

    r = chat_http("-p", "Hola", OPENAI_API_KEY=None)

    assert (r.exit_code, r.stdout) == (0, "Hola.\n")
    assert modelo.peticiones[0].cabeceras["authorization"] == "Bearer sk-no-key"


def test_model_and_key_reach_the_endpoint(chat_http, modelo) -> None:
    modelo.guionar(Texto("Hola."))

    chat_http("-p", "Hola", OPENAI_MODEL="qwen2.5:7b")

    assert modelo.peticiones[0].cuerpo["model"] == "qwen2.5:7b"
    assert modelo.peticiones[0].cabeceras["authorization"] == "Bearer sk-prueba"
    assert modelo.peticiones[0].cuerpo["stream"] is True


def test_api_errors_in_the_chat_give_a_clear_line_and_the_chat_goes_on(chat_http, modelo) -> None:
    retry_ms = Fallo(429, "Rate limit reached.", "rate_limit_exceeded", {"retry-after-ms": "10"})
    modelo.guionar(NO_AUTORIZADO, retry_ms, LIMITE, Texto("Tras dos reintentos."), Colgar(), Texto("Sigo aquí."))

    r = chat_http("-i", input="uno\ndos\ntres\ncuatro\n/exit\n", SOPORTE_CHAT_TIMEOUT="0.5")

    assert r.exit_code == 0, r.stderr
    errores = [linea for linea in r.stderr.splitlines() if linea.startswith(("Error:", "El modelo respondió"))]
    assert errores[0] == ("Error: El modelo rechazó la clave (401): Incorrect API key provided: sk-prueba. "
                          "Revise OPENAI_API_KEY.")
    assert errores[1:3] == ["El modelo respondió 429; reintento 1 de 3 en 0.0 s…",
                            "El modelo respondió 429; reintento 2 de 3 en 0.0 s…"]
    assert errores[3].startswith("Error: El modelo no respondió a tiempo (") and "--timeout" in errores[3]
    assert "Tras dos reintentos." in r.stdout and "Sigo aquí." in r.stdout
    # A request that got no answer leaves no trace in the history: the user can just try again.
    assert [m["content"] for m in modelo.peticiones[-1].mensajes if m["role"] == "user"] == ["dos", "cuatro"]


def test_a_401_in_one_shot_exits_1_with_the_reason(chat_http, modelo) -> None:
    modelo.guionar(NO_AUTORIZADO)

    r = chat_http("-p", "Hola")

    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr.strip().splitlines()[-1].startswith("Error: El modelo rechazó la clave (401)")


def test_a_429_that_outlasts_the_retries_is_a_clear_error(chat_http, modelo) -> None:
    modelo.guionar(LIMITE, LIMITE)

    r = chat_http("-p", "Hola", "--retries", "1")

    assert r.exit_code == 1
    assert "Error: Límite de peticiones del modelo (429) tras 1 reintentos: Rate limit reached for gpt-4o." in r.stderr
    assert len(modelo.peticiones) == 2


def test_a_server_error_is_retried_like_a_429(chat_http, modelo) -> None:
    modelo.guionar(Fallo(503, "Overloaded."), Texto("Ya."))

    r = chat_http("-p", "Hola")

    assert (r.exit_code, r.stdout) == (0, "Ya.\n")
    assert "El modelo respondió 503; reintento 1 de 3" in r.stderr


def test_a_refused_connection_is_a_clear_line_and_the_chat_goes_on(chat_http) -> None:
    nadie = f"http://127.0.0.1:{puerto_libre()}/v1"

    r = chat_http("-i", input="uno\ndos\n/exit\n", OPENAI_BASE_URL=nadie)

    assert r.exit_code == 0
    lineas = [linea for linea in r.stderr.splitlines() if linea.startswith("Error:")]
    assert lineas == [f"Error: No se pudo conectar con el modelo en {nadie}: conexión rechazada (no hay "
                      "nada escuchando en esa dirección). Compruebe la dirección (--base-url) y que el "
                      "servidor del modelo esté en marcha."] * 2


def test_a_refused_connection_in_one_shot_exits_1(chat_http) -> None:
    r = chat_http("-p", "Hola", OPENAI_BASE_URL=f"http://127.0.0.1:{puerto_libre()}/v1")

    assert r.exit_code == 1 and "Error: No se pudo conectar con el modelo" in r.stderr


# --- --json: a program reads stdout, so a failure is an object there too ---------------------------


def objeto(r) -> dict:
    """The --json object of a failed run (exit 1, the same error as one line on stderr)."""
    assert r.exit_code == 1, r.output
    salida = json.loads(r.stdout)
    assert r.stderr.strip().splitlines()[-1] == f"Error: {salida['error']['mensaje']}"
    return salida


@pytest.mark.parametrize(
    ("entorno", "codigo", "comienzo"),
    [({}, "credenciales_rechazadas", "El modelo rechazó la clave (401)"),
     ({"SOPORTE_CHAT_TIMEOUT": "0.5"}, "tiempo_agotado", "El modelo no respondió a tiempo"),
     ({"OPENAI_BASE_URL": "nadie"}, "sin_conexion", "No se pudo conectar con el modelo")],
    ids=["401", "timeout", "refused"],
)
def test_json_prints_the_error_with_its_code_when_the_model_fails(
    chat_http, modelo, entorno: dict[str, str], codigo: str, comienzo: str
) -> None:
    modelo.guionar(Colgar() if codigo == "tiempo_agotado" else NO_AUTORIZADO)
    if entorno.get("OPENAI_BASE_URL") == "nadie":
        entorno = {"OPENAI_BASE_URL": f"http://127.0.0.1:{puerto_libre()}/v1"}

    salida = objeto(chat_http("-p", "Hola", "--json", **entorno))

    assert salida["error"]["codigo"] == codigo and salida["error"]["mensaje"].startswith(comienzo)
    assert (salida["respuesta"], salida["llamadas"], salida["modelo"]) == ("", [], "gpt-4o")


def test_json_after_a_failure_lists_the_tools_that_ran_before_it(chat_http, modelo) -> None:
    modelo.guionar(Llamadas([("consultarSaldo", {"clienteId": 1})]), NO_AUTORIZADO)

    salida = objeto(chat_http("-p", "Saldo del cliente 1", "--json"))

    assert salida["error"]["codigo"] == "credenciales_rechazadas"
    (llamada,) = salida["llamadas"]
    assert (llamada["herramienta"], llamada["es_error"]) == ("consultarSaldo", False)
    assert llamada["resultado"]["saldo"] == "1250.00"
    assert salida["uso"]["total_tokens"] == 120


def test_json_prints_the_error_when_nothing_could_start(chat_http, modelo) -> None:
    sin_clave = objeto(chat_http("-p", "Hola", "--json", OPENAI_API_KEY=None, OPENAI_BASE_URL=None))
    nadie = f"http://127.0.0.1:{puerto_libre()}/mcp"
    sin_servidor = objeto(chat_http("--server", nadie, "-p", "Hola", "--json"))

    assert sin_clave["error"]["codigo"] == "configuracion_invalida"
    assert sin_servidor["error"]["codigo"] == "servidor_no_disponible"
    assert modelo.peticiones == []
