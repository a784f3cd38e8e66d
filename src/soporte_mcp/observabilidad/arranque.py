"""Switching observability on when ``serve`` starts, in the main process and in each worker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soporte_mcp import registro
from soporte_mcp.config import Settings
from soporte_mcp.observabilidad import metricas, trazas

if TYPE_CHECKING:  # not imported at start-up: a stdio server opens its database after the handshake
    from soporte_mcp.db.engine import Database


@dataclass(frozen=True)
class Observacion:
    carpeta_metricas: Path | None

    def terminar(self) -> None:
        metricas.borrar_directorio(self.carpeta_metricas)


def preparar(settings: Settings, db: Database | None, *, http: bool) -> Observacion:
    """Logs in the configured format, traces if OTEL_* asks (with a span per statement on ``db``),
    and (over HTTP) the metrics directory that every worker shares (``terminar()`` removes it when
    it was ours).  Without ``db`` (stdio opens it after the handshake) pass it to ``observar_base``
    once it is open.

    Raises:
        ConfiguracionInvalida: traces are asked for and cannot be sent (see ``trazas.configurar``).
    """
    if settings.log_format != "text":
        registro.configurar(settings.log_format)
    trazas.configurar()
    if db is not None:
        observar_base(db)
    # The workers get the settings whole (http.entorno_trabajador), and this directory from the environment.
    return Observacion(metricas.preparar_directorio() if http else None)


def observar_base(db: Database) -> None:
    """What observability wants of a database: a span per statement, when traces are on."""
    if trazas.activas():
        trazas.instrumentar_motor(db.engine)


def en_trabajador(settings: Settings) -> None:
    """The same in a worker process (a new interpreter, with the settings ``serve`` handed it)."""
    registro.configurar(settings.log_format, settings.log_level.upper())
    trazas.configurar()


def opciones_uvicorn(settings: Settings) -> dict[str, Any]:
    """In JSON mode uvicorn's own loggers go through ours, or its lines would not be JSON."""
    return {"log_config": None} if settings.log_format == "json" else {}
