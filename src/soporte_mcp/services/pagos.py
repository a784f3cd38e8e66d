"""Payments: the one operation that moves money."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from sqlalchemy import Connection, bindparam, func, insert, select, text, update

from soporte_mcp.db.consulta_directa import ConsultaDirecta
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, Pago, ahora
from soporte_mcp.errors import (
    ClaveIdempotenciaReutilizada,
    ClienteInactivo,
    ClienteNoEncontrado,
    DatoInvalido,
    PagoNoConfirmado,
    SoporteError,
)
from soporte_mcp.money import parse_monto
from soporte_mcp.observabilidad import contar_pago
from soporte_mcp.services import validacion
from soporte_mcp.services.auditoria import Llamada, Operacion, Tipo, operacion
from soporte_mcp.services.confirmacion import SIN_PREGUNTA, Confirmacion, PreviaPago, Vista, exigir, vista_de_pago
from soporte_mcp.services.schemas import PagoRegistrado

clientes = Cliente.__table__
pagos = Pago.__table__

# Built once (see services/clientes.py: building a statement costs more than running it). The three
# statements of every payment run on SQLite's driver (db/consulta_directa.py: ≈ 60 µs less each, in
# the writer thread, while it holds the write lock).
# FOR UPDATE serialises payments to one customer on PostgreSQL; SQLite's BEGIN IMMEDIATE already has.
CLIENTE_PARA_PAGO = ConsultaDirecta(
    select(clientes.c.nombre, clientes.c.activo).where(clientes.c.id == bindparam("id")).with_for_update()
)
POR_CLAVE = select(pagos).where(pagos.c.clave_idempotencia == bindparam("clave"))
SUMAR_AL_SALDO = ConsultaDirecta(
    update(clientes)
    .where(clientes.c.id == bindparam("cliente"))
    .values(saldo=clientes.c.saldo + bindparam("importe", type_=clientes.c.saldo.type))
    .returning(clientes.c.saldo)
)
INSERTAR_PAGO = ConsultaDirecta(insert(pagos).returning(*pagos.c))
BLOQUEAR_CLAVE = text("SELECT pg_advisory_xact_lock(hashtextextended(:clave, 0))")
# What a person confirming a payment sees, and what must still hold when it is written.
VISTA = select(
    clientes.c.nombre,
    clientes.c.activo,
    clientes.c.saldo,
    select(func.coalesce(func.max(pagos.c.id), 0)).where(pagos.c.cliente_id == clientes.c.id).scalar_subquery(),
).where(clientes.c.id == bindparam("id"))


def previa_pago(
    *,
    db: Database,
    cliente_id: int,
    monto: object,
    descripcion: str | None = None,
    metodo_pago: str | None = None,
    clave_idempotencia: str | None = None,
) -> PreviaPago | None:
    """What the confirmation form shows, read in a read transaction (never the write lock).

    None when the payment would be refused anyway (bad amount, unknown or inactive
    customer...): then nobody is asked and ``registrar_pago`` refuses it, audited.
    """
    try:
        importe = parse_monto(monto)
        metodo = validacion.metodo_pago(metodo_pago)
        clave = _clave(clave_idempotencia)
    except SoporteError:
        return None
    with db.lectura() as conn:
        fila = conn.execute(VISTA, {"id": cliente_id}).first()
        repetido = clave is not None and _pago_por_clave(conn, clave) is not None
    if fila is None or not fila.activo:
        return None
    return PreviaPago(cliente_id, fila.nombre, importe, metodo, _texto(descripcion), fila.saldo, fila[3], repetido)


def registrar_pago(
    *,
    db: Database,
    llamada: Llamada,
    cliente_id: int,
    monto: object,
    descripcion: str | None = None,
    metodo_pago: str | None = None,
    clave_idempotencia: str | None = None,
    confirmacion: Confirmacion = SIN_PREGUNTA,
) -> PagoRegistrado:
    """Record a payment and raise the customer's balance by it, atomically with its audit row.

    The balance is changed by the database (``saldo = saldo + :monto``), never
    read and written back, so concurrent payments cannot lose money.  With
    ``clave_idempotencia``, repeating the same payment returns the first result.
    ``confirmacion`` is how the person answered the form (see services/confirmacion.py).

    Raises:
        MontoInvalido: not > 0, over 999,999.99, more than 2 decimals, or not a number.
        MetodoPagoInvalido: not efectivo, tarjeta, transferencia or cheque.
        ClienteNoEncontrado / ClienteInactivo: no such customer, or deactivated.
        ClaveIdempotenciaReutilizada: the key was used for a payment with other data.
        PagoNoConfirmado / ConfirmacionNoDisponible / ConfirmacionDesactualizada: see ``confirmacion.exigir``.
    """
    with operacion(db, llamada, Tipo.PAGO) as op:
        importe = parse_monto(monto)
        metodo = validacion.metodo_pago(metodo_pago)
        texto = _texto(descripcion)
        clave = _clave(clave_idempotencia)
        huella = _huella(cliente_id, importe, metodo, texto)
        if clave is not None:
            _bloquear_clave(op.conn, clave)
        nombre = _cliente_activo(op, cliente_id)
        if clave is not None:
            previo = _pago_por_clave(op.conn, clave)
            if previo is not None:
                return _repetir(op, previo, huella, clave, nombre)
        exigir(op, confirmacion, que=f"el pago de ${importe:.2f} al cliente {cliente_id}",
               actual=lambda: _vista(op.conn, cliente_id),
               no_confirmado=lambda cancelada: PagoNoConfirmado(cliente_id, f"{importe:.2f}", cancelada=cancelada))
        pago = _aplicar(op, cliente_id, nombre, importe, metodo, texto, clave, huella, llamada.usuario)
    # After the commit (the SQLite writer's batch's, when in one): a payment rolled back is not counted.
    db.tras_confirmar(lambda: contar_pago(pago.monto))
    return pago


def _texto(descripcion: str | None) -> str:
    return (descripcion or "").strip()[:500] or "Pago registrado"


def _vista(conn: Connection, cliente_id: int) -> Vista:
    fila = conn.execute(VISTA, {"id": cliente_id}).one()
    return vista_de_pago(fila.saldo, fila[3])


def _clave(valor: str | None) -> str | None:
    clave = (valor or "").strip()
    if len(clave) > 200:
        raise DatoInvalido("La clave de idempotencia admite como máximo 200 caracteres.")
    return clave or None


def _huella(cliente_id: int, monto: Decimal, metodo: str, descripcion: str) -> str:
    datos = json.dumps([cliente_id, f"{monto:.2f}", metodo, descripcion], ensure_ascii=False)
    return hashlib.sha256(datos.encode()).hexdigest()


def _bloquear_clave(conn: Connection, clave: str) -> None:
    """Serialise payments that share an idempotency key, whatever their customer.

    On PostgreSQL two first attempts with one key for different customers would
    otherwise both miss the lookup and one would fail on the unique index; a
    transaction-scoped advisory lock makes the second see the first.  SQLite's
    BEGIN IMMEDIATE already serialises every write.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(BLOQUEAR_CLAVE, {"clave": clave})


def _cliente_activo(op: Operacion, cliente_id: int) -> str:
    row = CLIENTE_PARA_PAGO.primera(op.conn, id=cliente_id)
    if row is None:
        raise ClienteNoEncontrado(cliente_id)
    op.cliente_id = cliente_id
    if not row.activo:
        raise ClienteInactivo(cliente_id, row.nombre)
    return row.nombre


def _pago_por_clave(conn: Connection, clave: str):  # noqa: ANN202
    return conn.execute(POR_CLAVE, {"clave": clave}).first()


def _repetir(op: Operacion, previo, huella: str, clave: str, nombre: str) -> PagoRegistrado:  # noqa: ANN001
    if previo.huella != huella or previo.cliente_id != op.cliente_id:
        raise ClaveIdempotenciaReutilizada(clave)
    op.descripcion = f"Reintento del pago {previo.id} (clave {clave!r}): no se registra otro"
    op.detalles |= {"pago_id": previo.id, "repetido": True}
    return _resultado(previo, nombre, repetido=True)


def _aplicar(
    op: Operacion,
    cliente_id: int,
    nombre: str,
    importe: Decimal,
    metodo: str,
    texto: str,
    clave: str | None,
    huella: str,
    usuario: str | None,
) -> PagoRegistrado:
    (saldo_nuevo,) = SUMAR_AL_SALDO.filas(op.conn, cliente=cliente_id, importe=importe)[0]
    fila = INSERTAR_PAGO.primera(
        op.conn,
        cliente_id=cliente_id,
        monto=importe,
        descripcion=texto,
        metodo_pago=metodo,
        fecha=ahora(),
        procesado_por=usuario,
        saldo_anterior=saldo_nuevo - importe,
        saldo_posterior=saldo_nuevo,
        clave_idempotencia=clave,
        huella=huella,
    )
    op.descripcion = (
        f"Pago de {importe:.2f} ({metodo}) al cliente {cliente_id}: "
        f"{fila.saldo_anterior:.2f} -> {fila.saldo_posterior:.2f}"
    )
    op.detalles |= {"pago_id": fila.id}
    return _resultado(fila, nombre, repetido=False)


def _resultado(fila, nombre: str, *, repetido: bool) -> PagoRegistrado:  # noqa: ANN001
    return PagoRegistrado(
        pago_id=fila.id,
        cliente_id=fila.cliente_id,
        cliente_nombre=nombre,
        monto=fila.monto,
        metodo_pago=fila.metodo_pago,
        descripcion=fila.descripcion,
        saldo_anterior=fila.saldo_anterior,
        saldo_nuevo=fila.saldo_posterior,
        incremento=fila.monto,
        fecha=fila.fecha,
        repetido=repetido,
    )
