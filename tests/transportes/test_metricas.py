"""/metrics and --log-format json on a real `serve --workers 2`: every worker's calls counted once,
who may read /metrics, and log lines a collector can parse; plus the counters' own rules in process."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import anyio
import httpx2
import pytest
from prometheus_client import REGISTRY

from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.errors import BaseDeDatosNoDisponible, ClienteNoEncontrado
from soporte_mcp.http import build_http_app
from soporte_mcp.observabilidad import contar_anulacion, contar_pago, medir_llamada, metricas
from soporte_mcp.server import build_server
from tests._observabilidad import archivo_de_tokens, cabeceras_llamada, cuerpo_llamada, muestras, valor
from tests._procesos import sembrar, servidor_http

pytestmark = pytest.mark.anyio

# What each kind of call is, and the outcome it must be counted under.
LLAMADAS = {
    "saldo": ("consultarSaldo", {"clienteId": 2}, "ok"),
    "saldo_de_nadie": ("consultarSaldo", {"clienteId": 999_999}, "rechazado"),
    "pago": ("registrarPago", {"clienteId": 2, "monto": "1.25", "metodoPago": "efectivo"}, "ok"),
    "busqueda": ("buscarCliente", {"query": "María"}, "ok"),
}
TANDA = ["saldo", "saldo", "saldo_de_nadie", "pago", "busqueda", "saldo"]
MAXIMO_TANDAS = 40


@dataclass
class Observado:
    esperado: Counter
    pagos: int
    centavos: int
    lecturas: list[dict]
    pids: set[str]
    stderr: str
    respuestas_acceso: dict[str, int]


@pytest.fixture(scope="module")
def observado(tmp_path_factory) -> Observado:
    carpeta = tmp_path_factory.mktemp("metricas")
    url = sembrar(carpeta)
    tokens, secreto = archivo_de_tokens(carpeta, agente=("read", "write"), prometeo=("metrics",))
    directorio = carpeta / "prometheus"
    with servidor_http(url, carpeta, "--workers", "2", "--tokens-file", str(tokens), "--log-format", "json",
                       variables={"PROMETHEUS_MULTIPROC_DIR": str(directorio)}) as servidor:
        esperado, pids = anyio.run(_llamar_hasta_que_cuenten_los_dos, servidor.mcp_url, secreto["agente"], directorio)
        pagos_repetidos = anyio.run(_pago_repetido, servidor.mcp_url, secreto["agente"])
        esperado[("registrarPago", "ok")] += pagos_repetidos
        with httpx2.Client(base_url=servidor.base, timeout=30) as http:
            con_token = {"Authorization": f"Bearer {secreto['prometeo']}"}
            # Several scrapes: each lands on either worker, and every one must see all the calls.
            lecturas = [muestras(http.get("/metrics", headers=con_token).text) for _ in range(6)]
            acceso = {
                "sin_token": http.get("/metrics").status_code,
                "token_sin_scope": http.get(
                    "/metrics", headers={"Authorization": f"Bearer {secreto['agente']}"}).status_code,
                "token_metrics_en_mcp": http.post("/mcp", headers=con_token | cabeceras_llamada("consultarSaldo"),
                                                  json=cuerpo_llamada("consultarSaldo", {"clienteId": 2})).status_code,
            }
        stderr = servidor.stderr.read_text()
    pagos = esperado[("registrarPago", "ok")] - pagos_repetidos + 1
    return Observado(esperado, pagos, pagos * 125, lecturas, pids, stderr, acceso)


async def _llamar_hasta_que_cuenten_los_dos(url: str, token: str, directorio: Path) -> tuple[Counter, set[str]]:
    """Concurrent calls on fresh connections, a round at a time, until both workers have counted some."""
    esperado: Counter = Counter()
    for _ in range(MAXIMO_TANDAS):
        async with anyio.create_task_group() as tg:
            for nombre in TANDA:
                tg.start_soon(_una, url, token, nombre)
        for nombre in TANDA:
            herramienta, _, resultado = LLAMADAS[nombre]
            esperado[(herramienta, resultado)] += 1
        pids = {re.sub(r"\D", "", p.stem) for p in directorio.glob("counter_*.db")}
        if len(pids) >= 2:
            return esperado, pids
    raise AssertionError(f"en {MAXIMO_TANDAS} tandas solo contó un proceso: {pids}")


async def _una(url: str, token: str, nombre: str) -> None:
    herramienta, argumentos, resultado = LLAMADAS[nombre]
    async with httpx2.AsyncClient(timeout=30) as http:  # its own connection: any worker may take it
        respuesta = await http.post(url, headers=cabeceras_llamada(herramienta, token),
                                    json=cuerpo_llamada(herramienta, argumentos))
    assert respuesta.status_code == 200, respuesta.text
    assert respuesta.json()["result"].get("isError", False) is (resultado != "ok"), respuesta.text


async def _pago_repetido(url: str, token: str) -> int:
    """The same payment twice with one idempotency key: two calls, one payment."""
    argumentos = {"clienteId": 2, "monto": "1.25", "metodoPago": "efectivo", "idempotencyKey": "repetido-1"}
    async with httpx2.AsyncClient(timeout=30) as http:
        for _ in range(2):
            respuesta = await http.post(url, headers=cabeceras_llamada("registrarPago", token),
                                        json=cuerpo_llamada("registrarPago", argumentos))
            assert not respuesta.json()["result"].get("isError", False), respuesta.text
    return 2


def test_every_scrape_counts_each_call_once_per_tool_and_outcome_across_both_workers(observado: Observado) -> None:
    assert len(observado.pids) == 2
    for lectura in observado.lecturas:
        contadas = {
            (herramienta, resultado): valor(lectura, "soporte_llamadas_total",
                                            herramienta=herramienta, resultado=resultado)
            for herramienta, _, _ in LLAMADAS.values() for resultado in metricas.RESULTADOS
        }
        assert contadas == {clave: float(observado.esperado.get(clave, 0)) for clave in contadas}
        for herramienta in {h for h, _ in observado.esperado}:
            llamadas = sum(n for (h, _), n in observado.esperado.items() if h == herramienta)
            assert valor(lectura, "soporte_llamada_segundos_count", herramienta=herramienta) == llamadas


def test_payments_are_counted_with_their_amount_in_cents_and_a_repeated_one_only_once(observado: Observado) -> None:
    for lectura in observado.lecturas:
        assert valor(lectura, "soporte_pagos_total") == observado.pagos
        assert valor(lectura, "soporte_pagos_centavos_total") == observado.centavos
        assert valor(lectura, "soporte_anulaciones_total") == 0
        assert valor(lectura, "soporte_solicitudes_en_curso") == 0  # all answered; a scrape does not count itself


def test_metrics_need_a_token_with_the_metrics_scope_and_that_token_alone_cannot_call_tools(
    observado: Observado,
) -> None:
    assert observado.respuestas_acceso == {"sin_token": 401, "token_sin_scope": 403, "token_metrics_en_mcp": 403}


def test_json_logs_are_one_object_a_line_with_one_line_per_tool_call(observado: Observado) -> None:
    lineas = [json.loads(linea) for linea in observado.stderr.splitlines() if linea.strip()]
    llamadas = [linea for linea in lineas if linea.get("origen") == "soporte_mcp.llamadas"]
    assert len(llamadas) == sum(observado.esperado.values())
    assert Counter((x["herramienta"], x["resultado"]) for x in llamadas) == observado.esperado
    for linea in llamadas:
        assert set(linea) >= {"fecha", "nivel", "mensaje", "solicitud", "jsonrpc_id", "llamante", "duracion_ms"}
        assert linea["llamante"] == "agente (pytest-crudo 1.0)"
        assert isinstance(linea["duracion_ms"], float) and linea["duracion_ms"] >= 0


# --- in process ----------------------------------------------------------------------------------


def _muestra(nombre: str, **etiquetas: str) -> float:
    return REGISTRY.get_sample_value(nombre, etiquetas) or 0.0


def test_amounts_are_counted_in_exact_cents() -> None:
    metricas.activar()
    antes = (_muestra("soporte_pagos_centavos_total"), _muestra("soporte_anulaciones_centavos_total"))
    for _ in range(10):
        contar_pago(Decimal("0.10"))
    contar_anulacion(Decimal("1250.75"))
    assert _muestra("soporte_pagos_centavos_total") - antes[0] == 100
    assert _muestra("soporte_anulaciones_centavos_total") - antes[1] == 125075


def test_a_refusal_translated_into_a_tool_error_is_counted_as_rechazado_and_anything_else_as_error() -> None:
    metricas.activar()
    antes = {r: _muestra("soporte_llamadas_total", herramienta="prueba", resultado=r) for r in metricas.RESULTADOS}
    with pytest.raises(RuntimeError), medir_llamada("prueba"):
        try:
            raise ClienteNoEncontrado(7)
        except ClienteNoEncontrado as exc:
            raise RuntimeError("traducido") from exc
    with pytest.raises(ZeroDivisionError), medir_llamada("prueba"):
        1 / 0  # noqa: B018
    with medir_llamada("prueba"):
        pass
    despues = {r: _muestra("soporte_llamadas_total", herramienta="prueba", resultado=r) for r in metricas.RESULTADOS}
    assert {r: despues[r] - antes[r] for r in despues} == {"ok": 1, "rechazado": 1, "error": 1}


def test_a_database_error_is_counted(db: Database) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    metricas.activar()
    metricas.contar_errores_de(db.engine)
    antes = _muestra("soporte_bd_errores_total")
    # SQLite's "no such table" is an OperationalError (translated by Database), PostgreSQL's a ProgrammingError.
    with pytest.raises((BaseDeDatosNoDisponible, DBAPIError)), db.lectura() as conn:
        conn.execute(text("SELECT * FROM tabla_que_no_existe"))
    assert _muestra("soporte_bd_errores_total") - antes == 1


@pytest.mark.parametrize(("cliente", "estado"), [("127.0.0.1", 200), ("10.1.2.3", 403)])
async def test_without_authentication_metrics_answer_only_on_loopback(
    settings: Settings, db: Database, cliente: str, estado: int
) -> None:
    app = build_http_app(build_server(settings, db), db)
    transporte = httpx2.ASGITransport(app=app, client=(cliente, 40000))
    async with httpx2.AsyncClient(transport=transporte, base_url="http://127.0.0.1") as http:
        respuesta = await http.get("/metrics")
    assert respuesta.status_code == estado
    if estado == 200:
        assert "soporte_llamadas_total" in respuesta.text
        assert respuesta.headers["content-type"].startswith("text/plain")


async def test_wrong_arguments_and_unknown_tools_count_as_rechazado_and_a_made_up_name_gets_no_label(client) -> None:
    metricas.activar()

    def contadas() -> tuple[float, float]:
        return (_muestra("soporte_llamadas_total", herramienta="consultarSaldo", resultado="rechazado"),
                _muestra("soporte_llamadas_total", herramienta="desconocida", resultado="rechazado"))

    antes = contadas()
    assert (await client.call_tool("consultarSaldo", {"clienteId": "dos"})).is_error
    assert (await client.call_tool("herramientaInventada", {})).is_error
    assert [d - a for a, d in zip(antes, contadas(), strict=True)] == [1, 1]
    assert REGISTRY.get_sample_value("soporte_llamadas_total",
                                     {"herramienta": "herramientaInventada", "resultado": "rechazado"}) is None


def test_serve_removes_the_metrics_directory_a_killed_server_left_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys
    import tempfile

    muerto = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                            check=True)
    huerfana = Path(tempfile.gettempdir()) / f"{metricas.PREFIJO_TEMPORAL}{muerto.stdout.strip()}-prueba"
    huerfana.mkdir()
    monkeypatch.setenv(metricas.ENV_DIRECTORIO, "")  # so that monkeypatch puts back what was there, or nothing
    monkeypatch.delenv(metricas.ENV_DIRECTORIO)
    nueva = metricas.preparar_directorio()
    try:
        assert not huerfana.exists()
        assert nueva is not None and nueva.is_dir() and str(os.getpid()) in nueva.name
    finally:
        metricas.borrar_directorio(nueva)


def test_a_dead_workers_in_flight_gauge_is_dropped_and_its_counters_kept(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    muerto = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                            check=True).stdout.strip()
    from prometheus_client.mmap_dict import MmapedDict, mmap_key

    for archivo, nombre, valor_escrito in (("gauge_livesum", "soporte_solicitudes_en_curso", 3.0),
                                           ("counter", "soporte_pagos_total", 2.0)):
        datos = MmapedDict(str(tmp_path / f"{archivo}_{muerto}.db"))
        datos.write_value(mmap_key(nombre, nombre, [], [], "x"), valor_escrito, 0.0)
        datos.close()
    monkeypatch.setenv(metricas.ENV_DIRECTORIO, str(tmp_path))
    tabla = muestras(metricas.exposicion()[0].decode())
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"counter_{muerto}.db"]
    assert (valor(tabla, "soporte_pagos_total"), valor(tabla, "soporte_solicitudes_en_curso")) == (2.0, 0.0)


async def test_a_reversal_is_counted_with_its_amount_and_a_repeated_one_only_once(client) -> None:
    metricas.activar()
    antes = (_muestra("soporte_anulaciones_total"), _muestra("soporte_anulaciones_centavos_total"))
    argumentos = {"pagoId": 17, "motivo": "Se registró por error", "monto": "100.05", "idempotencyKey": "a-1"}
    for _ in range(2):
        assert not (await client.call_tool("anularPago", argumentos)).is_error
    assert _muestra("soporte_anulaciones_total") - antes[0] == 1
    assert _muestra("soporte_anulaciones_centavos_total") - antes[1] == 10005
