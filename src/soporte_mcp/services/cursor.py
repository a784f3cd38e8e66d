"""Opaque page cursors for the lists that run newest first (keyset pagination).

A cursor is the (date, id) of the last row a page showed, with the name of its
list, in URL-safe base64.  The next page is every row strictly before it in
(date desc, id desc) order, so rows added meanwhile (newer ones) neither shift
nor repeat what follows.  Anything that does not decode to exactly that shape
is refused with ``CursorInvalido``, never guessed at.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_

from soporte_mcp.errors import CursorInvalido


def codificar(lista: str, fecha: datetime, ident: int) -> str:
    """The cursor that continues list ``lista`` after the row (``fecha``, ``ident``)."""
    datos = json.dumps([lista, fecha.isoformat(), ident], separators=(",", ":"))
    return base64.urlsafe_b64encode(datos.encode()).decode().rstrip("=")


def decodificar(lista: str, cursor: str, herramienta: str) -> tuple[datetime, int]:
    """The (date, id) a cursor of ``lista`` holds.

    Raises:
        CursorInvalido: not one of ours, or one of another list.
    """
    try:
        crudo = base64.urlsafe_b64decode(cursor.strip() + "=" * (-len(cursor.strip()) % 4))
        nombre, fecha_iso, ident = json.loads(crudo.decode())
        fecha = datetime.fromisoformat(fecha_iso)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise CursorInvalido(herramienta) from exc
    if nombre != lista or type(ident) is not int or ident < 1 or fecha.tzinfo is None:
        raise CursorInvalido(herramienta)
    return fecha, ident


def antes_de(fecha_col: ColumnElement, id_col: ColumnElement, fecha: datetime, ident: int) -> ColumnElement[bool]:
    """Rows strictly after the cursor in (fecha desc, id desc) order."""
    return or_(fecha_col < fecha, and_(fecha_col == fecha, id_col < ident))
