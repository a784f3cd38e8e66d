"""Logging set-up shared by the command and the worker processes of ``serve --workers N``.

Logs go to stderr: stdout carries the stdio protocol and the commands' own output.
Standard library only: every command configures logging before anything heavy is imported.

``--log-format json``: every log line on stderr becomes one JSON object, for a log collector.
Each tool call writes one line on the ``soporte_mcp.llamadas`` logger with the
fields a collector indexes (request id, tool, caller, outcome, duration); in
JSON mode that logger (and the start-up line's) is at INFO whatever ``-v``
says, since those lines are why one asks for JSON logs.  In text mode they
appear with ``-v``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

FORMATO = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configurar_logging(nivel: int | str) -> None:
    """Text lines on stderr at ``nivel`` (the command's start, before the settings are known)."""
    configurar("text", nivel)


def nivel_de_verbosidad(verbose: int) -> str:
    """``-v`` info, ``-vv`` debug, warnings otherwise."""
    return {0: "WARNING", 1: "INFO"}.get(verbose, "DEBUG")


FORMATOS = ("text", "json")
LLAMADAS = "soporte_mcp.llamadas"
# The line `serve` writes when it starts (a plain line on stderr in text mode).
INICIO = "soporte_mcp.inicio"
# The fields a tool call's line carries (passed as ``extra=``), in the order they are written.
CAMPOS = ("solicitud", "jsonrpc_id", "herramienta", "llamante", "resultado", "duracion_ms", "traza")


class FormatoJson(logging.Formatter):
    """One JSON object per record: fecha (UTC, ISO 8601), nivel, origen, mensaje, and the CAMPOS it has."""

    def format(self, record: logging.LogRecord) -> str:
        datos: dict[str, object] = {
            "fecha": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "nivel": record.levelname,
            "origen": record.name,
            "mensaje": record.getMessage(),
        }
        for campo in CAMPOS:
            valor = getattr(record, campo, None)
            if valor is not None:
                datos[campo] = valor
        if record.exc_info:
            datos["excepcion"] = self.formatException(record.exc_info)
        return json.dumps(datos, ensure_ascii=False, default=str)


def configurar(formato: str, nivel: int | str | None = None) -> None:
    """Send the root logger to stderr in ``formato`` (text or json), replacing its handlers.

    ``nivel`` (default: leave it) is the root's level.  Also used by each worker process of
    ``serve --workers N``, which starts with logging unconfigured.
    """
    manejador = logging.StreamHandler(sys.stderr)
    manejador.setFormatter(FormatoJson() if formato == "json" else logging.Formatter(FORMATO))
    raiz = logging.getLogger()
    for viejo in list(raiz.handlers):
        raiz.removeHandler(viejo)
    raiz.addHandler(manejador)
    if nivel is not None:
        raiz.setLevel(nivel)
    if formato == "json":
        for nombre in (LLAMADAS, INICIO):
            logging.getLogger(nombre).setLevel(logging.INFO)


def anunciar(formato: str, texto: str, nivel: int = logging.INFO) -> None:
    """A line of ``serve``'s start (the banner, a warning): plain on stderr, or one more JSON object in JSON mode."""
    if formato == "json":
        logging.getLogger(INICIO).log(nivel, texto)
    else:
        print(texto, file=sys.stderr, flush=True)
