"""Switching observability on when ``serve`` starts, in the main process and in each worker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soporte_mcp import registro
from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.observabilidad import metricas, trazas


@dataclass(frozen=True)
class Observacion:
    carpeta_metricas: Path | None

    def terminar(self) -> None:
        metricas.borrar_directorio(self.carpeta_metricas)


def preparar(settings: Settings, db: Database, *, http: bool) -> Observacion:
    """Logs in the configured format, traces if OTEL_* asks (with a span per statement on ``db``),
    and (over HTTP) the metrics directory that every worker shares (``terminar()`` removes it when
    it was ours).

    Raises:
        ConfiguracionInvalida: traces are asked for and cannot be sent (see ``trazas.configurar``).
    """
    if settings.log_format != "text":
        registro.configurar(settings.log_format)
    if trazas.configurar():
        trazas.instrumentar_motor(db.engine)
    # The workers get the settings whole (http.entorno_trabajador), and this directory from the environment.
    return Observacion(metricas.preparar_directorio() if http else None)


def en_trabajador(settings: Settings) -> None:
    """The same in a worker process (a new interpreter, with the settings ``serve`` handed it)."""
    registro.configurar(settings.log_format, settings.log_level.upper())
    trazas.configurar()


def opciones_uvicorn(settings: Settings) -> dict[str, Any]:
    """In JSON mode uvicorn's own loggers go through ours, or its lines would not be JSON."""
    return {"log_config": None} if settings.log_format == "json" else {}
