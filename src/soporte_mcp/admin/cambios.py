"""The changes the panel makes to customers, each in one transaction with its audit row.

Money is not here: a balance changes only through ``services.pagos.registrar_pago`` and
``services.anulaciones.anular_pago``; tickets change through ``services.seguimiento.actualizar_ticket``,
the service of the actualizarTicket tool (its state table and history).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, ahora
from soporte_mcp.errors import ClienteNoEncontrado, DatoInvalido
from soporte_mcp.services import validacion
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from soporte_mcp.services.texto import texto_busqueda

clientes = Cliente.__table__
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def crear_cliente(*, db: Database, llamada: Llamada, datos: Mapping[str, Any]) -> int:
    """Add a customer (balance and opening balance 0.00) and return its id.

    Raises:
        DatoInvalido: blank or over-long name, malformed email, or an email another customer has.
    """
    with operacion(db, llamada, Tipo.CREACION) as op:
        valores = _datos_cliente(datos)
        _email_libre(op.conn, valores["email"], None)
        cliente_id = op.conn.execute(
            insert(clientes)
            .values(**valores, busqueda=texto_busqueda(valores["nombre"], valores["email"]),
                    fecha_registro=ahora(), saldo=Decimal("0.00"), saldo_inicial=Decimal("0.00"))
            .returning(clientes.c.id)
        ).scalar_one()
        op.cliente_id = cliente_id
        op.descripcion = f"Alta del cliente {cliente_id} ({valores['nombre']}) en el panel"
        return cliente_id


def editar_cliente(*, db: Database, llamada: Llamada, cliente_id: int, datos: Mapping[str, Any]) -> None:
    """Change a customer's name, email, phone and active flag (never the balance), keeping the search column.

    Raises:
        ClienteNoEncontrado: no customer has that id.
        DatoInvalido: as for ``crear_cliente``.
    """
    with operacion(db, llamada, Tipo.ACTUALIZACION) as op:
        valores = _datos_cliente(datos)
        antes = op.conn.execute(
            select(*(clientes.c[k] for k in valores)).where(clientes.c.id == cliente_id).with_for_update()
        ).mappings().first()
        if antes is None:
            raise ClienteNoEncontrado(cliente_id)
        op.cliente_id = cliente_id
        _email_libre(op.conn, valores["email"], cliente_id)
        cambios = {k: [antes[k], v] for k, v in valores.items() if antes[k] != v}
        if cambios:
            busqueda = texto_busqueda(valores["nombre"], valores["email"])
            op.conn.execute(
                update(clientes).where(clientes.c.id == cliente_id).values(**valores, busqueda=busqueda)
            )
        op.descripcion = f"Cliente {cliente_id} editado en el panel: {', '.join(cambios) or 'sin cambios'}"
        op.detalles = {"cambios": cambios}


def _datos_cliente(datos: Mapping[str, Any]) -> dict[str, Any]:
    email = validacion.texto_requerido(datos.get("email"), "el email", 254).lower()
    if not EMAIL.fullmatch(email):
        raise DatoInvalido(f"El email {email!r} no es válido: escríbalo como nombre@dominio.com.")
    telefono = (datos.get("telefono") or "").strip()
    if len(telefono) > 40:
        raise DatoInvalido("El teléfono admite como máximo 40 caracteres.")
    return {
        "nombre": validacion.texto_requerido(datos.get("nombre"), "el nombre", 200),
        "email": email,
        "telefono": telefono or None,
        "activo": bool(datos.get("activo")),
    }


def _email_libre(conn: Connection, email: str, cliente_id: int | None) -> None:
    otro = conn.execute(
        select(clientes.c.id).where(clientes.c.email == email, clientes.c.id != cliente_id)
    ).scalar()
    if otro is not None:
        raise DatoInvalido(f"El email {email} ya es del cliente {otro}: cada cliente necesita uno distinto.")
