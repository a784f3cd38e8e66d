"""Prometheus metrics for /metrics, counted in every worker process.

With ``serve --workers N`` each request lands on one of N processes, so each
process writes its counts to files in a directory they share
(``PROMETHEUS_MULTIPROC_DIR``, prometheus_client's multiprocess mode) and
/metrics adds them up, whichever worker answers the scrape.  prometheus_client
decides on that mode when it is first imported, so ``serve`` calls
``preparar_directorio`` before anything imports it.

Until ``activar()`` (the HTTP app calls it) every function here does nothing:
the stdio server has nobody to show metrics to.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # SQLAlchemy is not imported at start-up: a stdio server opens its database after the handshake
    from sqlalchemy import Engine

ENV_DIRECTORIO = "PROMETHEUS_MULTIPROC_DIR"
PREFIJO_TEMPORAL = "soporte-mcp-metricas-"
RESULTADOS = ("ok", "rechazado", "error")
# Tool calls take from a fraction of a millisecond (an indexed read on SQLite) to seconds (a full scan).
CUBOS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class _Metricas:
    llamadas: Any
    duracion: Any
    pagos: Any
    pagos_centavos: Any
    anulaciones: Any
    anulaciones_centavos: Any
    limitadas: Any
    sin_redis: Any
    errores_bd: Any
    en_curso: Any


_m: _Metricas | None = None


def activar(herramientas: tuple[str, ...] = ()) -> None:
    """Create the metrics (once per process); ``herramientas`` start at 0 for every outcome, so that
    a rate over a tool that has not been called yet is 0 rather than missing."""
    global _m
    if _m is None:
        _m = _crear()
    for herramienta in herramientas:
        _m.duracion.labels(herramienta)
        for resultado in RESULTADOS:
            _m.llamadas.labels(herramienta, resultado)


def _crear() -> _Metricas:
    from prometheus_client import Counter, Gauge, Histogram

    # Money is counted in cents: a float counter adds whole numbers exactly up to 2**53, not 0.1s.
    return _Metricas(
        llamadas=Counter("soporte_llamadas", "Llamadas a herramientas por resultado.", ["herramienta", "resultado"]),
        duracion=Histogram("soporte_llamada_segundos", "Duración de las llamadas a herramientas.", ["herramienta"],
                           buckets=CUBOS_S),
        pagos=Counter("soporte_pagos", "Pagos registrados (sin contar los reintentos con la misma clave)."),
        pagos_centavos=Counter("soporte_pagos_centavos", "Suma de los pagos registrados, en centavos."),
        anulaciones=Counter("soporte_anulaciones", "Pagos anulados."),
        anulaciones_centavos=Counter("soporte_anulaciones_centavos", "Suma de los pagos anulados, en centavos."),
        limitadas=Counter("soporte_limite_rechazos", "Solicitudes rechazadas por el límite de tasa (429)."),
        sin_redis=Counter("soporte_limite_sin_redis",
                          "Solicitudes decididas sin Redis porque no respondía (ver SOPORTE_REDIS_FAILURE_MODE)."),
        errores_bd=Counter("soporte_bd_errores", "Errores de la base de datos (bloqueos, conexiones perdidas...)."),
        en_curso=Gauge("soporte_solicitudes_en_curso", "Solicitudes HTTP en curso.", multiprocess_mode="livesum"),
    )


def activas() -> bool:
    return _m is not None


# The labelled children, looked up once: ``labels()`` takes a lock and builds a key on every call.
_hijos: dict[tuple[str, str], tuple[Any, Any]] = {}


def contar_llamada(herramienta: str, resultado: str, segundos: float) -> None:
    if _m is None:
        return
    hijos = _hijos.get((herramienta, resultado))
    if hijos is None:
        hijos = _hijos[(herramienta, resultado)] = (_m.llamadas.labels(herramienta, resultado),
                                                    _m.duracion.labels(herramienta))
    hijos[0].inc()
    hijos[1].observe(segundos)


def contar_pago(monto: Decimal) -> None:
    """A payment committed (call it after the commit, never for a repeated idempotent payment)."""
    if _m is not None:
        _m.pagos.inc()
        _m.pagos_centavos.inc(_centavos(monto))


def contar_anulacion(monto: Decimal) -> None:
    """A payment reversed (call it after the commit), with the amount that went back."""
    if _m is not None:
        _m.anulaciones.inc()
        _m.anulaciones_centavos.inc(_centavos(monto))


def _centavos(monto: Decimal) -> int:
    return int(Decimal(monto).scaleb(2).to_integral_value())


def contar_limitada() -> None:
    if _m is not None:
        _m.limitadas.inc()


def contar_sin_redis() -> None:
    if _m is not None:
        _m.sin_redis.inc()


def contar_errores_de(engine: Engine) -> None:
    """Count every error the database driver raises on ``engine``, wherever the statement came from."""
    from sqlalchemy import event

    if not getattr(engine, "_soporte_metricas", False):
        engine._soporte_metricas = True  # type: ignore[attr-defined]
        event.listen(engine, "handle_error", _error_bd)


def _error_bd(_contexto) -> None:  # noqa: ANN001
    if _m is not None:
        _m.errores_bd.inc()


@contextmanager
def en_curso() -> Iterator[None]:
    if _m is None:
        yield
        return
    _m.en_curso.inc()
    try:
        yield
    finally:
        _m.en_curso.dec()


def exposicion() -> tuple[bytes, str]:
    """The text a Prometheus scrape gets, and its content type: every worker's counts when the
    server runs in multiprocess mode, this process's otherwise (the app built in a test)."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    if not os.environ.get(ENV_DIRECTORIO):
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    from prometheus_client import multiprocess

    _olvidar_muertos(Path(os.environ[ENV_DIRECTORIO]), multiprocess)
    registro = CollectorRegistry()
    multiprocess.MultiProcessCollector(registro)
    return generate_latest(registro), CONTENT_TYPE_LATEST


def _olvidar_muertos(carpeta: Path, multiprocess: Any) -> None:
    """A worker that died (and was replaced) leaves its in-flight gauge behind: drop it, so that
    ``soporte_solicitudes_en_curso`` adds up live processes only.  Its counters stay: they happened."""
    for archivo in carpeta.glob("gauge_livesum_*.db"):
        pid = archivo.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _vive(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(carpeta))


def preparar_directorio() -> Path | None:
    """Point prometheus_client at an empty directory shared by this process and its workers.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is used (and emptied of the last run's files, which
    would otherwise add up with this one's); without one, a private temporary directory is made,
    and returned so that the caller removes it at exit.  None when the operator gave the directory.
    """
    propio = os.environ.get(ENV_DIRECTORIO)
    if propio:
        carpeta = Path(propio)
        carpeta.mkdir(parents=True, exist_ok=True)
        for viejo in carpeta.glob("*.db"):
            viejo.unlink(missing_ok=True)
        return None
    _borrar_huerfanos()
    carpeta = Path(tempfile.mkdtemp(prefix=f"{PREFIJO_TEMPORAL}{os.getpid()}-"))
    os.environ[ENV_DIRECTORIO] = str(carpeta)
    return carpeta


def _borrar_huerfanos() -> None:
    """Remove the directories of servers that are gone: a signal ends ``serve`` before its cleanup
    runs (uvicorn re-raises SIGTERM once it has shut down), and SIGKILL always does."""
    for carpeta in Path(tempfile.gettempdir()).glob(f"{PREFIJO_TEMPORAL}*-*"):
        pid = carpeta.name.removeprefix(PREFIJO_TEMPORAL).split("-", 1)[0]
        if pid.isdigit() and not _vive(int(pid)):
            shutil.rmtree(carpeta, ignore_errors=True)


def _vive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def borrar_directorio(carpeta: Path | None) -> None:
    if carpeta is not None:
        shutil.rmtree(carpeta, ignore_errors=True)
