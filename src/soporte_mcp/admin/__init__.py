"""The operators' web panel at /admin (sqladmin): customers, tickets, payments and the audit trail.

``montar_admin`` adds it to the HTTP app; ``soporte_mcp.claves.hash_clave`` makes the
password hash it is configured with.  sqladmin is imported only when the panel is mounted, so that the other
commands (and ``admin hash-clave``) do not pay for it.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from soporte_mcp.claves import comprobar_secreto, hash_clave, partes_del_hash
from soporte_mcp.errors import ConfiguracionInvalida

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from soporte_mcp.db.engine import Database

__all__ = ["RUTA", "hash_clave", "montar_admin"]

RUTA = "/admin"
PLANTILLAS = Path(__file__).parent / "templates"


def montar_admin(
    app: Starlette, db: Database, *, usuario: str, clave_hash: str, secreto: str, zona: tzinfo = UTC
) -> None:
    """Mount the panel at /admin on ``app`` (the Starlette app, not a middleware around it).

    One operator, ``usuario``, logs in with the password of ``clave_hash``
    (from ``hash_clave``); ``secreto`` signs the session cookie; dates are
    shown in ``zona``.  Pages read on read-only transactions; every change
    is written with its audit row.

    Raises:
        ConfiguracionInvalida: a blank user, a malformed hash, or a short or example secret.
    """
    from sqladmin import Admin
    from sqlalchemy.orm import sessionmaker

    from soporte_mcp.admin.acceso import Acceso
    from soporte_mcp.admin.anulaciones import AnulacionesAdmin
    from soporte_mcp.admin.idioma import espanol
    from soporte_mcp.admin.pagos import PagosAdmin
    from soporte_mcp.admin.vistas import (
        ClientesAdmin,
        HistorialAdmin,
        HistorialTicketsAdmin,
        TicketsAdmin,
        formatos,
    )

    if not usuario.strip():
        raise ConfiguracionInvalida("SOPORTE_ADMIN_USER está vacío: indique el usuario del panel")
    partes_del_hash(clave_hash)
    comprobar_secreto(secreto)
    admin = Admin(
        app,
        session_maker=sessionmaker(bind=db.engine.execution_options(solo_lectura=True)),
        base_url=RUTA,
        title="soporte-mcp",
        templates_dir=str(PLANTILLAS),
        i18n_config=espanol(),
        authentication_backend=Acceso(usuario=usuario, clave_hash=clave_hash, secreto=secreto, ruta=RUTA),
    )
    for vista in (ClientesAdmin, TicketsAdmin, HistorialTicketsAdmin, PagosAdmin, AnulacionesAdmin, HistorialAdmin):
        # A subclass per mount: sqladmin keeps its state on the view class.
        admin.add_view(type(vista.__name__, (vista,), {"db": db, "column_type_formatters": formatos(zona)}))
