"""``medir_llamada``: what every tool call reports, wrapped around the one place it passes through.

    with medir_llamada("registrarPago", llamante=usuario, peticion=request, jsonrpc_id=rid) as m:
        ...  # the call; an exception sets m.resultado, or the body sets it itself

On the way out it counts the call and its latency (metricas), puts the outcome
and the caller on the trace span (trazas) and writes one log line (registro).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from soporte_mcp.errors import Rechazo
from soporte_mcp.observabilidad import metricas, trazas
from soporte_mcp.registro import LLAMADAS

log = logging.getLogger(LLAMADAS)
# A load balancer's request id, when it sends one, ties our line to its access log.
CABECERAS_ID = (b"x-request-id", b"x-correlation-id")


@dataclass
class Medicion:
    """One tool call being measured; ``resultado`` is ok, rechazado or error.

    It is the context manager ``medir_llamada`` returns: a class rather than a
    ``@contextmanager`` generator, since every tool call passes through it (issue 13).
    """

    herramienta: str
    llamante: str | None = None
    jsonrpc_id: str | None = None
    resultado: str = "ok"
    peticion: Any = field(default=None, repr=False)
    _inicio: float = field(default=0.0, repr=False)

    def __enter__(self) -> Medicion:
        self._inicio = time.perf_counter()
        return self

    def __exit__(self, _tipo: object, exc: BaseException | None, _traza: object) -> None:
        if exc is not None:  # cancellation too: the caller never got its answer
            self.resultado = clasificar(exc)
        _informar(self, time.perf_counter() - self._inicio)  # the exception, if any, goes on untouched


def medir_llamada(
    herramienta: str, *, llamante: str | None = None, peticion: Any = None, jsonrpc_id: object = None
) -> Medicion:
    """Measure one call of ``herramienta`` (``with medir_llamada(...) as m``): count it, time it, annotate
    its span, log it.

    ``peticion`` is the HTTP request (a Starlette Request; None over stdio), read for
    an ``X-Request-Id``; without one the call gets an id of its own.  An exception
    leaving the block makes the outcome ``rechazado`` when it is (or was raised from)
    a ``Rechazo``, ``error`` otherwise; it is re-raised untouched.
    """
    return Medicion(herramienta, llamante, None if jsonrpc_id is None else str(jsonrpc_id), peticion=peticion)


def clasificar(exc: BaseException) -> str:
    """rechazado for a domain refusal or arguments that do not fit the tool's schema (also when
    wrapped, as in the SDK's ToolError), error for anything else (a database outage, a bug)."""
    visto: BaseException | None = exc
    while visto is not None:
        if isinstance(visto, Rechazo | ValidationError):
            return "rechazado"
        visto = visto.__cause__
    return "error"


def _informar(m: Medicion, segundos: float) -> None:
    metricas.contar_llamada(m.herramienta, m.resultado, segundos)
    trazas.anotar_llamada(herramienta=m.herramienta, resultado=m.resultado, llamante=m.llamante)
    if log.isEnabledFor(logging.INFO):
        log.info(
            "%s %s en %.1f ms", m.herramienta, m.resultado, segundos * 1000,
            extra={"solicitud": _id_de(m.peticion), "jsonrpc_id": m.jsonrpc_id, "herramienta": m.herramienta,
                   "llamante": m.llamante, "resultado": m.resultado, "duracion_ms": round(segundos * 1000, 2),
                   "traza": trazas.id_de_traza()},
        )


def _id_de(peticion: Any) -> str:
    alcance = getattr(peticion, "scope", None) or {}
    for nombre, valor in alcance.get("headers", ()):
        if nombre in CABECERAS_ID and valor:
            return valor.decode("latin-1")[:128]
    return uuid.uuid4().hex[:16]
