"""OpenTelemetry traces: off unless the standard ``OTEL_*`` variables ask for them.

The MCP SDK already opens a SERVER span for every inbound message
(``mcp.server._otel.OpenTelemetryMiddleware``, named ``tools/call <tool>``) and
parents it on the ``traceparent`` a 2026-07-28 client sends in ``_meta``; it is
a no-op until a TracerProvider is installed.  So this module only installs the
provider with the OTLP exporter, adds to that span what the SDK cannot know (our
outcome: ok / rechazado / error, and the caller), and opens a child span per
database statement.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

if TYPE_CHECKING:  # SQLAlchemy is not imported at start-up: a stdio server opens its database after the handshake
    from sqlalchemy import Engine

from soporte_mcp import __version__
from soporte_mcp.errors import ConfiguracionInvalida

_tracer = trace.get_tracer("soporte_mcp")
# Long statements are cut: a span is for finding the slow query, not for storing it.
TEXTO_MAXIMO = 2000
FALTA_EXTRA = "las trazas OpenTelemetry (OTEL_*) necesitan el extra de trazas: pip install 'soporte-mcp[trazas]'"


def pedidas() -> bool:
    """Whether the OTEL_* variables ask for traces: an exporter or an OTLP endpoint is named and
    the SDK is not disabled (OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exportadores = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exportadores == "none":
        return False
    return bool(exportadores or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


_activas = False


def activas() -> bool:
    return _activas


def configurar(exportador: Any = None) -> bool:
    """Install the tracer provider the OTEL_* variables describe; True when traces are on.

    ``exportador`` (a SpanExporter) replaces the configured ones: the tests pass an
    in-memory one.  The provider reads OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    and OTEL_TRACES_SAMPLER itself; the OTLP exporter reads OTEL_EXPORTER_OTLP_*.

    Raises:
        ConfiguracionInvalida: traces are asked for but the ``trazas`` extra is not installed,
            or OTEL_TRACES_EXPORTER names an exporter we do not ship.
    """
    global _activas
    if _activas:
        return True
    if exportador is None and not pedidas():
        return False
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise ConfiguracionInvalida(FALTA_EXTRA) from None
    atributos = {"service.version": __version__}
    if (not os.environ.get("OTEL_SERVICE_NAME")
            and "service.name=" not in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")):
        atributos["service.name"] = "soporte-mcp"
    proveedor = TracerProvider(resource=Resource.create(atributos))
    if exportador is not None:
        proveedor.add_span_processor(SimpleSpanProcessor(exportador))
    else:
        for configurado in _exportadores():
            proveedor.add_span_processor(BatchSpanProcessor(configurado))
    trace.set_tracer_provider(proveedor)
    _activas = True
    return True


def _exportadores() -> list[Any]:
    nombres = [n.strip() for n in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(",") if n.strip()]
    exportadores = []
    for nombre in nombres:
        if nombre == "otlp":
            exportadores.append(_otlp())
        elif nombre == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            # stderr: stdout carries the stdio protocol.
            exportadores.append(ConsoleSpanExporter(out=sys.stderr))
        else:
            raise ConfiguracionInvalida(f"OTEL_TRACES_EXPORTER={nombre!r} no está disponible: use otlp o console")
    return exportadores


def _otlp() -> Any:
    protocolo = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                 or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf").strip()
    if protocolo == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ConfiguracionInvalida(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc necesita pip install opentelemetry-exporter-otlp-proto-grpc "
                "(o use http/protobuf, el predeterminado)"
            ) from None
        return OTLPSpanExporter()
    if protocolo != "http/protobuf":
        raise ConfiguracionInvalida(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocolo!r} no está disponible: use "
                                    "http/protobuf o grpc")
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise ConfiguracionInvalida(FALTA_EXTRA) from None
    return OTLPSpanExporter()


def anotar_llamada(*, herramienta: str, resultado: str, llamante: str | None) -> None:
    """Put our outcome and the caller on the SDK's span of this tool call (when one is recording)."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attributes({"soporte.herramienta": herramienta, "soporte.resultado": resultado})
    if llamante:
        span.set_attribute("enduser.id", llamante)


def id_de_traza() -> str | None:
    """The current trace id in hex (for the JSON log line), None outside a recorded trace."""
    contexto = trace.get_current_span().get_span_context()
    return format(contexto.trace_id, "032x") if contexto.is_valid else None


def instrumentar_motor(engine: Engine) -> None:
    """A child span for every statement ``engine`` runs, under whatever span is current.

    Only the SQL text goes on the span, never its parameters (customers' data, amounts).
    """
    from sqlalchemy import event

    if getattr(engine, "_soporte_trazas", False):
        return
    engine._soporte_trazas = True  # type: ignore[attr-defined]
    sistema = engine.dialect.name
    event.listen(engine, "before_cursor_execute", _antes(sistema))
    event.listen(engine, "after_cursor_execute", _despues)
    event.listen(engine, "handle_error", _error)


def _antes(sistema: str):  # noqa: ANN202
    def antes(conn, _cursor, sentencia: str, _parametros, contexto, _varios) -> None:  # noqa: ANN001
        # "sin_trazas": work of no call (reads' audit rows committed behind, db/diferido.py).
        if contexto is None or conn.get_execution_options().get("sin_trazas", False):
            return
        operacion = sentencia.lstrip().split(None, 1)[0].upper() if sentencia.strip() else "SQL"
        span = _tracer.start_span(
            f"{operacion} {sistema}", kind=trace.SpanKind.CLIENT,
            attributes={"db.system.name": sistema, "db.operation.name": operacion,
                        "db.query.text": sentencia[:TEXTO_MAXIMO]},
        )
        contexto._soporte_span = span

    return antes


def _despues(_conn, _cursor, _sentencia, _parametros, contexto, _varios) -> None:  # noqa: ANN001
    span = getattr(contexto, "_soporte_span", None)
    if span is not None:
        span.end()
        contexto._soporte_span = None


def _error(contexto_excepcion) -> None:  # noqa: ANN001
    contexto = contexto_excepcion.execution_context
    span = getattr(contexto, "_soporte_span", None)
    if span is not None:
        error = contexto_excepcion.original_exception
        span.record_exception(error)
        span.set_status(trace.StatusCode.ERROR, type(error).__name__)
        span.end()
        contexto._soporte_span = None
