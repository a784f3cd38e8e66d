"""MCP servers: --config with several servers (stdio and URL), --server with headers, names OpenAI accepts."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from soporte_mcp.chat.errores import ConfiguracionInvalida
from soporte_mcp.chat.herramientas import Herramienta, nombres_expuestos
from soporte_mcp.chat.servidores import leer_configuracion
from tests._procesos import comando, puerto_libre
from tests.chat.conftest import base_demo, saldo
from tests.chat.modelo_falso import Llamadas, Texto

NOMBRE_OPENAI = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
TOOLS = ["buscarCliente", "consultarSaldo", "crearTicket", "listarTickets", "actualizarTicket", "registrarPago",
         "listarPagos", "anularPago", "estadisticas"]


def stdio(db_url: str) -> dict:
    """A Claude Desktop entry for the soporte-mcp console script on ``db_url``."""
    return {"command": comando(), "args": ["serve"], "env": {"SOPORTE_DATABASE_URL": db_url}}


def test_a_config_with_two_stdio_servers_and_a_url_one_prefixes_the_colliding_names(
    chat, modelo, db, db_url, servidor_compartido, tmp_path
) -> None:
    _, copia = base_demo(tmp_path / "copia")
    config = tmp_path / "claude_desktop_config.json"
    config.write_text(json.dumps({"mcpServers": {
        "soporte": stdio(db_url), "copia": stdio(str(copia.engine.url)), "remoto": {"url": servidor_compartido.url},
    }}))
    modelo.guionar(
        Llamadas([("copia__registrarPago", {"clienteId": 2, "monto": 10}),
                  ("remoto__consultarSaldo", {"clienteId": 1})]),
        Texto("Hecho."),
    )

    r = chat("-p", "Paga 10 al cliente 2 en copia y dime el saldo del 1 en remoto", "--config", str(config), "--yes")

    assert r.exit_code == 0, r.stderr
    nombres = modelo.peticiones[0].herramientas
    assert nombres == [f"{servidor}__{tool}" for servidor in ("soporte", "copia", "remoto") for tool in TOOLS]
    assert all(NOMBRE_OPENAI.match(n) for n in nombres)
    pago, consulta = (json.loads(t) for t in modelo.peticiones[1].resultados())
    assert (pago["saldo_nuevo"], consulta["saldo"]) == ("860.50", "1250.00")
    assert saldo(copia, 2) == Decimal("860.50") and saldo(db, 2) == Decimal("850.50")  # only the copy was paid
    copia.dispose()


def test_server_url_sends_every_header_given_and_keeps_plain_names(chat_http, modelo, servidor_compartido) -> None:
    servidor_compartido.cabeceras.clear()
    modelo.guionar(Llamadas([("consultarSaldo", {"clienteId": 2})]), Texto(lambda p: p.resultado()["saldo"]))

    r = chat_http("-p", "Saldo del 2", "-H", "Authorization: Bearer secreto", "--header", "X-Equipo: soporte")

    assert (r.exit_code, r.stdout) == (0, "850.50\n"), r.stderr
    assert modelo.peticiones[0].herramientas == TOOLS
    assert servidor_compartido.cabeceras
    assert all(c["authorization"] == "Bearer secreto" and c["x-equipo"] == "soporte"
               for c in servidor_compartido.cabeceras)


def test_an_unreachable_server_is_a_one_line_error(chat, modelo) -> None:
    puerto = puerto_libre()
    url = f"http://127.0.0.1:{puerto}/mcp"

    r = chat("-p", "Hola", "--server", url)

    assert r.exit_code == 1
    assert r.stderr == (f"Error: No se pudo usar el servidor MCP '127_0_0_1_{puerto}' ({url}): "
                        "conexión rechazada (no hay nada escuchando en esa dirección)\n")
    assert modelo.peticiones == []


def test_a_server_command_that_does_not_exist_is_a_one_line_error(chat, tmp_path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"mcpServers": {"roto": {"command": str(tmp_path / "no-existe")}}}))

    r = chat("-p", "Hola", "-c", str(config))

    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: No se pudo usar el servidor MCP 'roto' ({tmp_path / 'no-existe'}): "
                               f"no existe el programa {tmp_path / 'no-existe'}")
    assert len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "fragmento"),
    [
        (["-H", "Authorization: Bearer x"], "--header se aplica a los servidores de --server"),
        (["--server", "http://127.0.0.1:1/mcp", "-H", "sin dos puntos"], "se espera 'Nombre: valor'"),
        (["--server", "ftp://servidor/mcp"], "no es una URL http(s)://"),
    ],
)
def test_bad_server_options_are_refused_before_anything_starts(chat, modelo, args, fragmento) -> None:
    r = chat("-p", "Hola", *args)

    assert r.exit_code != 0 and fragmento in r.stderr
    assert modelo.peticiones == []


@pytest.mark.parametrize(
    ("contenido", "fragmento"),
    [
        ("no es json", "No se pudo leer"),
        ({"servers": {}}, "no tiene servidores en \"mcpServers\""),
        ({"mcpServers": {"a": {"command": "x", "url": "http://h/mcp"}}}, "necesita \"command\" o \"url\""),
        ({"mcpServers": {"a": {"args": ["serve"]}}}, "necesita \"command\" o \"url\""),
        ({"mcpServers": {"a": {"url": "http://h/sse", "type": "sse"}}}, "usa SSE"),
        ({"mcpServers": {"a": {"command": "x", "args": "serve"}}}, "'args' debe ser una lista de textos"),
    ],
)
def test_an_unusable_config_file_is_refused_naming_the_problem(tmp_path, contenido, fragmento) -> None:
    ruta = tmp_path / "c.json"
    ruta.write_text(contenido if isinstance(contenido, str) else json.dumps(contenido))

    with pytest.raises(ConfiguracionInvalida, match=re.escape(fragmento)):
        leer_configuracion(ruta)


def test_config_entries_keep_their_settings_and_disabled_ones_are_skipped(tmp_path) -> None:
    ruta = tmp_path / "c.json"
    ruta.write_text(json.dumps({"mcpServers": {
        "local": {"command": "srv", "args": ["serve"], "env": {"A": "1"}, "cwd": "/tmp"},
        "apagado": {"command": "otro", "disabled": True},
        "remoto": {"url": "https://h/mcp", "headers": {"Authorization": "Bearer t"}, "type": "http"},
    }}))

    local, remoto = leer_configuracion(ruta)

    assert (local.nombre, local.comando.command, local.comando.args, local.comando.env) == (
        "local", "srv", ["serve"], {"A": "1"})
    assert (remoto.nombre, remoto.url, dict(remoto.cabeceras)) == (
        "remoto", "https://h/mcp", {"Authorization": "Bearer t"})


def test_tool_names_are_kept_when_unique_and_prefixed_only_on_a_collision() -> None:
    nombres = nombres_expuestos([("a", "buscar"), ("b", "buscar"), ("b", "pagar"), ("c", "estadisticas")])

    assert nombres == ["a__buscar", "b__buscar", "pagar", "estadisticas"]


def test_tool_names_are_made_valid_for_openai_and_stay_unique() -> None:
    largo = "x" * 80
    nombres = nombres_expuestos([
        ("s", "get weather"), ("s", "ver.saldo/cliente"), ("s", largo), ("t", largo + "y"), ("servidor uno", "á"),
        ("servidor.uno", "á"),
    ])

    assert nombres[:2] == ["get_weather", "ver_saldo_cliente"]
    assert all(NOMBRE_OPENAI.match(n) for n in nombres) and len(set(nombres)) == len(nombres)
    assert nombres[4:] == ["servidor_uno___", "servidor_uno____2"]


def test_a_description_longer_than_openai_accepts_is_cut_to_1024() -> None:
    largo = Herramienta("t", "s", "t", "d" * 3000, {"type": "object"}, solo_lectura=True).para_openai()
    corto = Herramienta("t", "s", "t", "Busca.", {"type": "object"}, solo_lectura=True).para_openai()

    assert len(largo["function"]["description"]) == 1024 and largo["function"]["description"].endswith("…")
    assert corto == {"type": "function", "function": {"name": "t", "description": "Busca.",
                                                      "parameters": {"type": "object"}}}
