"""A customer's record: create one, and edit its name, email, phone and active flag.

Every customer has an email of their own (``buscarCliente`` finds them by it).  The
balance is not here: it changes only through ``services.pagos.registrar_pago``.

Both functions follow one rule for their arguments: ``None`` keeps the current value
(on creation, the default), and an empty phone clears it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, ahora
from soporte_mcp.errors import ClienteNoEncontrado, DatoInvalido, EmailEnUso
from soporte_mcp.services import validacion
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from soporte_mcp.services.clientes import EMAIL, obtener_cliente
from soporte_mcp.services.schemas import ClienteResumen
from soporte_mcp.services.texto import texto_busqueda

clientes = Cliente.__table__
LARGO_NOMBRE = 200
LARGO_EMAIL = 254
LARGO_TELEFONO = 40
CAMPOS = ("nombre", "email", "telefono", "activo")


def crear_cliente(
    *, db: Database, llamada: Llamada, nombre: str, email: str, telefono: str | None = None,
    activo: bool = True,
) -> ClienteResumen:
    """Add a customer with a balance (and opening balance) of 0.00.

    Raises:
        DatoInvalido: blank or over-long name, malformed email or phone.
        EmailEnUso: another customer has that email.
    """
    with operacion(db, llamada, Tipo.CREACION) as op:
        valores = {"nombre": _nombre(nombre), "email": _email(email), "telefono": _telefono(telefono),
                   "activo": bool(activo)}
        _email_libre(op.conn, valores["email"], None)
        with _email_unico(valores["email"]):
            cliente_id = op.conn.execute(
                insert(clientes)
                .values(**valores, busqueda=texto_busqueda(valores["nombre"], valores["email"]),
                        fecha_registro=ahora(), saldo=Decimal("0.00"), saldo_inicial=Decimal("0.00"))
                .returning(clientes.c.id)
            ).scalar_one()
        op.cliente_id = cliente_id
        op.descripcion = f"Alta del cliente {cliente_id} ({valores['nombre']})"
        return obtener_cliente(op.conn, cliente_id)


def editar_cliente(
    *, db: Database, llamada: Llamada, cliente_id: int, nombre: str | None = None, email: str | None = None,
    telefono: str | None = None, activo: bool | None = None,
) -> ClienteResumen:
    """Change a customer's name, email, phone or active flag, keeping the search column in step.

    The audit row lists each changed field as ``[before, after]`` under ``cambios``.

    Raises:
        ClienteNoEncontrado: no customer has that id.
        DatoInvalido: as for ``crear_cliente``.
    """
    with operacion(db, llamada, Tipo.ACTUALIZACION) as op:
        antes = op.conn.execute(
            select(*(clientes.c[c] for c in CAMPOS)).where(clientes.c.id == cliente_id).with_for_update()
        ).mappings().first()
        if antes is None:
            raise ClienteNoEncontrado(cliente_id)
        op.cliente_id = cliente_id
        nuevos = {
            "nombre": antes["nombre"] if nombre is None else _nombre(nombre),
            "email": antes["email"] if email is None else _email(email),
            "telefono": antes["telefono"] if telefono is None else _telefono(telefono),
            "activo": antes["activo"] if activo is None else bool(activo),
        }
        cambios = {c: [antes[c], v] for c, v in nuevos.items() if antes[c] != v}
        if "email" in cambios:
            _email_libre(op.conn, nuevos["email"], cliente_id)
        if cambios:
            busqueda = texto_busqueda(nuevos["nombre"], nuevos["email"])
            with _email_unico(nuevos["email"]):
                op.conn.execute(
                    update(clientes).where(clientes.c.id == cliente_id).values(**nuevos, busqueda=busqueda)
                )
        op.descripcion = f"Cliente {cliente_id} editado: {', '.join(cambios) or 'sin cambios'}"
        op.detalles = {"cambios": cambios}
        return obtener_cliente(op.conn, cliente_id)


def _nombre(valor: str) -> str:
    return validacion.texto_requerido(valor, "el nombre", LARGO_NOMBRE)


def _email(valor: str) -> str:
    email = validacion.texto_requerido(valor, "el email", LARGO_EMAIL).lower()
    if not EMAIL.fullmatch(email):
        raise DatoInvalido(f"El email {email!r} no es válido: escríbalo como nombre@dominio.com.")
    return email


def _telefono(valor: str | None) -> str | None:
    telefono = (valor or "").strip()
    if len(telefono) > LARGO_TELEFONO:
        raise DatoInvalido(f"El teléfono admite como máximo {LARGO_TELEFONO} caracteres.")
    return telefono or None


def _email_libre(conn: Connection, email: str, cliente_id: int | None) -> None:
    otro = conn.execute(
        select(clientes.c.id).where(clientes.c.email == email, clientes.c.id != cliente_id)
    ).scalar()
    if otro is not None:
        raise EmailEnUso(f"El email {email} ya es del cliente {otro}: cada cliente necesita uno distinto.")


@contextmanager
def _email_unico(email: str) -> Iterator[None]:
    # _email_libre names the other customer; the unique index is what holds when two
    # operators save the same email at the same instant (PostgreSQL lets both check first).
    try:
        yield
    except IntegrityError as exc:
        if "email" not in str(exc.orig):  # SQLite and PostgreSQL both name the column or its index
            raise
        mensaje = f"El email {email} ya es de otro cliente: cada cliente necesita uno distinto."
        raise EmailEnUso(mensaje) from exc
