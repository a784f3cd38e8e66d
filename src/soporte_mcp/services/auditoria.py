"""The unit of work: one transaction per operation, with its HistorialAccion row inside it.

A successful operation commits its changes and its audit row together; a
refused one rolls its changes back and then records the refusal on its own,
so that every call leaves exactly one audit row and a refusal changes nothing else.

``Llamada`` (who asked) and ``Tipo`` (the kind of operation) are defined in
soporte_mcp.dominio, where the MCP layer reads them without importing SQLAlchemy;
the services import them from here with the rest of the unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, insert

from soporte_mcp.db.consulta_directa import ConsultaDirecta, InsercionEnLote
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import HistorialAccion, ahora
from soporte_mcp.dominio import Llamada, Tipo
from soporte_mcp.errors import PermisoDenegado, Rechazo, SoporteError

log = logging.getLogger(__name__)

historial = HistorialAccion.__table__
# Built once: every tool call inserts one row (see services/clientes.py on prebuilt statements).
INSERTAR = insert(historial)
# A write's row, in its transaction: on SQLite's driver (db/consulta_directa.py), like the payment's statements.
INSERTAR_DIRECTA = ConsultaDirecta(INSERTAR)
# The reads' rows, written behind in batches: one statement a batch on SQLite (db/consulta_directa.py).
INSERTAR_EN_LOTE = InsercionEnLote(INSERTAR)


@dataclass
class Operacion:
    """What an operation tells its audit row while it runs."""

    conn: Connection
    cliente_id: int | None = None
    descripcion: str = ""
    detalles: dict[str, Any] = field(default_factory=dict)


@contextmanager
def operacion(db: Database, llamada: Llamada, tipo: Tipo) -> Iterator[Operacion]:
    """One operation and its audit row.

    A write (``tipo.escribe``) runs in a write transaction that its
    audit row commits with.  A read runs in a read transaction and hands its
    row to ``Database.diferir``, which commits reads' rows in batches from a
    thread (db/diferido.py): a read then never takes, nor waits for, SQLite's
    write lock, and costs no transaction of its own for its row.  A clean
    shutdown commits every such row; a crash loses at most the last ~50 ms of them.

    Raises whatever the body raises, after recording it: a ``Rechazo`` as
    ``rechazado``, anything else as ``error``; ``PermisoDenegado`` before the
    body runs when the operation writes and the caller may only read.
    """
    tipo = Tipo(tipo)  # a string that names no kind fails here, loudly
    escribe = tipo.escribe
    op: Operacion | None = None
    try:
        with db.escritura() if escribe else db.lectura() as conn:
            op = Operacion(conn)
            if escribe and not llamada.puede_escribir:
                raise PermisoDenegado()
            yield op
            if escribe:
                registrar(conn, llamada, tipo, "ok", op.descripcion, op.cliente_id, op.detalles)
    except Exception as exc:
        registrar_fallo(db, llamada, tipo, exc, op.cliente_id if op else None)
        raise
    if not escribe:
        db.diferir(INSERTAR_EN_LOTE, fila(llamada, tipo, "ok", op.descripcion, op.cliente_id, op.detalles))


def registrar(
    conn: Connection,
    llamada: Llamada,
    tipo: Tipo,
    resultado: str,
    descripcion: str,
    cliente_id: int | None = None,
    detalles: Mapping[str, Any] | None = None,
) -> None:
    """Insert one HistorialAccion row on ``conn`` (inside the caller's transaction)."""
    INSERTAR_DIRECTA.filas(conn, **fila(llamada, tipo, resultado, descripcion, cliente_id, detalles))


def fila(
    llamada: Llamada,
    tipo: Tipo,
    resultado: str,
    descripcion: str,
    cliente_id: int | None = None,
    detalles: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The values of one HistorialAccion row (its ``fecha`` is now, not when it is committed)."""
    metadatos = {"argumentos": to_jsonable_python(dict(llamada.argumentos), fallback=str), **(detalles or {})}
    return {
        "tipo": str(tipo),
        "herramienta": llamada.herramienta,
        "resultado": resultado,
        "descripcion": descripcion or llamada.herramienta,
        "cliente_id": cliente_id,
        "usuario": llamada.usuario,
        "ip_address": llamada.ip,
        "metadatos": metadatos,
        "fecha": ahora(),
    }


def registrar_fallo(db: Database, llamada: Llamada, tipo: Tipo, exc: Exception, cliente_id: int | None = None) -> None:
    """Record a call that did not succeed, in a transaction of its own (the operation's was rolled back).

    A ``Rechazo`` is recorded as ``rechazado`` with its code and message; anything
    else as ``error`` with its type only (its text may hold data or SQL).  A read's
    refusal is written behind like its successes (``Database.diferir``): it must not
    wait for the write lock either.
    """
    resultado = "rechazado" if isinstance(exc, Rechazo) else "error"
    motivo = exc.mensaje if isinstance(exc, SoporteError) else type(exc).__name__
    detalles = {"motivo": motivo, "codigo": getattr(exc, "codigo", "error_interno")}
    detalles |= getattr(exc, "detalles", None) or {}  # e.g. how a confirmation ended (errors.NoConfirmado)
    valores = fila(llamada, tipo, resultado, f"{llamada.herramienta} {resultado}: {motivo}", cliente_id, detalles)
    if not tipo.escribe:
        db.diferir(INSERTAR_EN_LOTE, valores)
        return
    try:
        with db.escritura() as conn:
            conn.execute(INSERTAR, valores)
    except Exception:
        # The caller's own error matters more than a lost audit row; keep both visible in the log.
        log.exception("no se pudo registrar en el historial la llamada %s", llamada.herramienta)
