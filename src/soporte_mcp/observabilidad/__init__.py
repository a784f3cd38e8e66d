"""What an operator sees of a running server: Prometheus metrics, OpenTelemetry traces, JSON logs.

    metricas   counters and histograms, shared by every worker (prometheus_client's multiprocess mode)
    trazas     OpenTelemetry set-up from the standard OTEL_* variables, and spans for database work
    llamadas   ``medir_llamada``: the one context manager a tool call passes through, feeding both and the
               JSON log line (soporte_mcp.registro)

Nothing here is imported by the rest of the package except through these small
functions, so that the tool adapters and services carry one line each, and a
server with observability off pays almost nothing for it.
"""

from soporte_mcp.observabilidad.llamadas import Medicion, medir_llamada
from soporte_mcp.observabilidad.metricas import contar_anulacion, contar_pago

__all__ = ["Medicion", "contar_anulacion", "contar_pago", "medir_llamada"]
