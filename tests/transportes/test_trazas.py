"""OpenTelemetry: a 2026-07-28 call that brings a ``traceparent`` in ``_meta`` continues that trace,
with our outcome and caller on the tool's span and a child span per database statement."""

from __future__ import annotations

import secrets

import httpx2
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.errors import ConfiguracionInvalida
from soporte_mcp.observabilidad import trazas
from tests._observabilidad import llamar
from tests.chat.servidor_hilo import servidor_en_hilo


class Memoria(InMemorySpanExporter):
    """Keeps spans only while a test listens: the provider, once installed, stays for the whole run."""

    escuchando = False

    def export(self, spans):
        return super().export(spans) if self.escuchando else super().export([])


_memoria = Memoria()


@pytest.fixture
def memoria():
    trazas.configurar(exportador=_memoria)
    _memoria.clear()
    _memoria.escuchando = True
    yield _memoria
    _memoria.escuchando = False
    _memoria.clear()


def test_a_call_with_an_incoming_traceparent_continues_that_trace_down_to_the_database(
    memoria: Memoria, settings: Settings, db: Database
) -> None:
    traza, padre = secrets.token_hex(16), secrets.token_hex(8)
    with servidor_en_hilo(settings, db) as servidor, httpx2.Client(timeout=30) as http:
        respuesta = llamar(http, servidor.url, "consultarSaldo", {"clienteId": 2},
                           meta={"traceparent": f"00-{traza}-{padre}-01"})
    assert respuesta.status_code == 200 and not respuesta.json()["result"].get("isError")

    spans = memoria.get_finished_spans()
    assert spans and {format(s.context.trace_id, "032x") for s in spans} == {traza}
    (llamada,) = [s for s in spans if s.kind == SpanKind.SERVER]
    assert llamada.name == "tools/call consultarSaldo"
    assert format(llamada.parent.span_id, "016x") == padre and llamada.parent.is_remote
    assert llamada.attributes["soporte.resultado"] == "ok"
    assert llamada.attributes["enduser.id"] == "pytest-crudo 1.0"
    consultas = [s for s in spans if "db.query.text" in s.attributes]
    assert consultas, "ninguna sentencia SQL con span"
    assert all(s.parent.span_id == llamada.context.span_id for s in consultas)
    # A read's audit INSERT is committed behind, in a batch that belongs to no call (db/diferido.py).
    assert {s.attributes["db.operation.name"] for s in consultas} == {"SELECT"}


def test_a_refused_call_says_rechazado_on_its_span(memoria: Memoria, settings: Settings, db: Database) -> None:
    with servidor_en_hilo(settings, db) as servidor, httpx2.Client(timeout=30) as http:
        llamar(http, servidor.url, "consultarSaldo", {"clienteId": 999_999},
               meta={"traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"})
    (llamada,) = [s for s in memoria.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert llamada.attributes["soporte.resultado"] == "rechazado"


def test_traces_are_off_unless_otel_variables_ask_for_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                     "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(variable, raising=False)
    assert not trazas.pedidas()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert trazas.pedidas()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not trazas.pedidas()


def test_an_exporter_we_do_not_ship_is_a_clear_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ConfiguracionInvalida, match="zipkin"):
        trazas._exportadores()
