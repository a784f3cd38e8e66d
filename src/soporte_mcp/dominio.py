"""The domain's vocabulary and limits, said once for the tables, the services and the MCP tools.

Why a module of its own, with nothing heavy in it (no SQLAlchemy, no service): the tools'
input schemas are built from these values when the server starts, and a stdio server
answers ``initialize`` and ``tools/list`` before it imports SQLAlchemy or opens the
database (issue 13: the cold start of a stdio host). The models (db/models.py) and the
services import them from here, so a schema and the rule behind it cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

ESTADOS_TICKET = ("abierto", "en_proceso", "pendiente", "resuelto", "cerrado")
PRIORIDADES = ("baja", "media", "alta", "critica")
METODOS_PAGO = ("efectivo", "tarjeta", "transferencia", "cheque")

# buscarCliente. No name or email is longer than the query cap, nor has more words (see services/clientes.py).
BUSQUEDA_LIMITE_POR_DEFECTO = 10
BUSQUEDA_LIMITE_MAXIMO = 50
BUSQUEDA_LARGO_MAXIMO = 200
# listarTickets
TICKETS_LIMITE_POR_DEFECTO = 20
TICKETS_LIMITE_MAXIMO = 50
TICKETS_TEXTO_LARGO_MAXIMO = 200
# listarPagos
PAGOS_LIMITE_POR_DEFECTO = 20
PAGOS_LIMITE_MAXIMO = 50
# A page cursor (services/cursor.py): ours are under 80 characters; anything much longer is refused undecoded.
CURSOR_LARGO_MAXIMO = 200


class Tipo(StrEnum):
    """The kind of an operation: it decides its transaction and whether it needs write permission.

    An enum rather than a free string so that a misspelt kind cannot silently
    become a read that skips the write-permission check.
    """

    CONSULTA = "consulta"
    CREACION = "creacion"
    ACTUALIZACION = "actualizacion"
    PAGO = "pago"
    ANULACION = "anulacion"

    @property
    def escribe(self) -> bool:
        return self is not Tipo.CONSULTA


@dataclass(frozen=True)
class Llamada:
    """Who asked for what, as the audit trail records it (services/auditoria.py)."""

    herramienta: str
    argumentos: Mapping[str, Any] = field(default_factory=dict)
    usuario: str | None = None
    ip: str | None = None
    # False for a caller whose credential only allows reading (an HTTP token without "write").
    puede_escribir: bool = True
