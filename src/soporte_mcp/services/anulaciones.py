"""Reversals (anulaciones): undoing all or part of a payment with a ledger entry of its own.

The payment row is never edited or deleted.  A reversal is a new row linked
to it, and the customer's balance goes down by its amount in the database
(``saldo = saldo - :monto``) in the same transaction as that row and its
audit row.  What remains reversible is always the payment's amount minus the
sum of its reversals, read while the payment is locked, so concurrent
reversals of one payment can never add up to more than it.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from sqlalchemy import BigInteger, Connection, bindparam, func, insert, select, type_coerce, update

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, Cliente, Pago, ahora
from soporte_mcp.errors import (
    AnulacionNoConfirmada,
    ClaveIdempotenciaReutilizada,
    MontoExcedeReversible,
    MotivoRequerido,
    PagoNoEncontrado,
    PagoYaAnulado,
    SoporteError,
)
from soporte_mcp.money import from_cents, parse_monto
from soporte_mcp.observabilidad import contar_anulacion
from soporte_mcp.services.auditoria import Llamada, Operacion, Tipo, operacion
from soporte_mcp.services.confirmacion import (
    SIN_PREGUNTA,
    Confirmacion,
    PreviaAnulacion,
    Vista,
    exigir,
    vista_de_anulacion,
)
from soporte_mcp.services.pagos import VISTA, _bloquear_clave, _clave
from soporte_mcp.services.schemas import AnulacionRegistrada

clientes = Cliente.__table__
pagos = Pago.__table__
anulaciones = Anulacion.__table__

LARGO_MAXIMO_MOTIVO = 500

# FOR UPDATE on the payment serialises its reversals on PostgreSQL (it only locks: the row is
# not written); SQLite's BEGIN IMMEDIATE already serialises every write.
PAGO_PARA_ANULAR = (
    select(pagos.c.id, pagos.c.cliente_id, pagos.c.monto, clientes.c.nombre)
    .join(clientes, clientes.c.id == pagos.c.cliente_id)
    .where(pagos.c.id == bindparam("id"))
    .with_for_update(of=pagos)
)
ANULADO = select(func.coalesce(func.sum(type_coerce(anulaciones.c.monto, BigInteger)), 0)).where(
    anulaciones.c.pago_id == bindparam("id")
)
POR_CLAVE = select(anulaciones).where(anulaciones.c.clave_idempotencia == bindparam("clave"))
RESTAR_DEL_SALDO = (
    update(clientes)
    .where(clientes.c.id == bindparam("cliente"))
    .values(saldo=clientes.c.saldo - bindparam("importe", type_=clientes.c.saldo.type))
    .returning(clientes.c.saldo)
)
INSERTAR = insert(anulaciones).returning(*anulaciones.c)
PAGO_PARA_VER = (
    select(pagos.c.id, pagos.c.cliente_id, pagos.c.monto, pagos.c.metodo_pago, pagos.c.fecha)
    .where(pagos.c.id == bindparam("id"))
)


def previa_anulacion(
    *, db: Database, pago_id: int, motivo: str | None, monto: object = None, clave_idempotencia: str | None = None
) -> PreviaAnulacion | None:
    """What the confirmation form of a reversal shows, read in a read transaction (never the write lock).

    None when the reversal would be refused anyway: then nobody is asked and ``anular_pago`` refuses it.
    """
    try:
        texto = _motivo(motivo)
        pedido = None if monto is None or monto == "" else parse_monto(monto)
        clave = _clave(clave_idempotencia)
    except SoporteError:
        return None
    with db.lectura() as conn:
        pago = conn.execute(PAGO_PARA_VER, {"id": pago_id}).first()
        if pago is None:
            return None
        cliente = conn.execute(VISTA, {"id": pago.cliente_id}).one()
        anulado = _anulado(conn, pago_id)
        repetido = clave is not None and conn.execute(POR_CLAVE, {"clave": clave}).first() is not None
    restante = pago.monto - anulado
    if not repetido and (restante <= 0 or (pedido is not None and pedido > restante)):
        return None
    return PreviaAnulacion(pago.id, pago.monto, pago.metodo_pago, pago.cliente_id, cliente.nombre,
                           restante if pedido is None else pedido, texto, anulado, cliente.saldo, cliente[3], repetido)


def _vista(conn: Connection, cliente_id: int, anulado: Decimal) -> Vista:
    cliente = conn.execute(VISTA, {"id": cliente_id}).one()
    return vista_de_anulacion(cliente.saldo, cliente[3], anulado)


def anular_pago(
    *,
    db: Database,
    llamada: Llamada,
    pago_id: int,
    motivo: str | None,
    monto: object = None,
    clave_idempotencia: str | None = None,
    confirmacion: Confirmacion = SIN_PREGUNTA,
) -> AnulacionRegistrada:
    """Reverse ``monto`` of a payment (default: all that remains) and lower the balance by it.

    With ``clave_idempotencia``, repeating the same reversal returns the first
    result instead of reversing again.

    Raises:
        MotivoRequerido: a blank reason.
        MontoInvalido: ``monto`` not > 0, more than 2 decimals, or not a number.
        PagoNoEncontrado: no payment has that id.
        PagoYaAnulado: nothing of the payment is left to reverse.
        MontoExcedeReversible: ``monto`` is more than what remains reversible.
        ClaveIdempotenciaReutilizada: the key was used for a reversal with other data.
        AnulacionNoConfirmada / ConfirmacionNoDisponible / ConfirmacionDesactualizada: how the person
            answered the form did not allow it (see services/confirmacion.py).
    """
    with operacion(db, llamada, Tipo.ANULACION) as op:
        texto = _motivo(motivo)
        importe = None if monto is None or monto == "" else parse_monto(monto)
        clave = _clave(clave_idempotencia)
        if clave is not None:
            _bloquear_clave(op.conn, f"anulacion:{clave}")
        pago = op.conn.execute(PAGO_PARA_ANULAR, {"id": pago_id}).first()
        if pago is None:
            raise PagoNoEncontrado(pago_id)
        op.cliente_id = pago.cliente_id
        huella = _huella(pago_id, importe, texto)
        if clave is not None:
            previa = op.conn.execute(POR_CLAVE, {"clave": clave}).first()
            if previa is not None:
                return _repetir(op, pago, previa, huella, clave)
        anulado = _anulado(op.conn, pago_id)
        importe = _importe(pago, anulado, importe)
        exigir(op, confirmacion, que=f"la anulación de ${importe:.2f} del pago {pago_id}",
               actual=lambda: _vista(op.conn, pago.cliente_id, anulado),
               no_confirmado=lambda cancelada: AnulacionNoConfirmada(pago_id, f"{importe:.2f}", cancelada=cancelada))
        anulacion = _aplicar(op, pago, anulado, importe, texto, clave, huella, llamada.usuario)
    # After the commit (the SQLite writer's batch's, when in one): a reversal rolled back is not counted.
    db.tras_confirmar(lambda: contar_anulacion(importe))
    return anulacion


def _motivo(valor: str | None) -> str:
    texto = " ".join((valor or "").split())
    if not texto:
        raise MotivoRequerido()
    return texto[:LARGO_MAXIMO_MOTIVO]


def _huella(pago_id: int, importe: Decimal | None, motivo: str) -> str:
    # "resto" for a reversal of all that remains: a retry must match even once nothing remains.
    datos = json.dumps([pago_id, "resto" if importe is None else f"{importe:.2f}", motivo], ensure_ascii=False)
    return hashlib.sha256(datos.encode()).hexdigest()


def _anulado(conn: Connection, pago_id: int) -> Decimal:
    return from_cents(int(conn.execute(ANULADO, {"id": pago_id}).scalar_one()))


def _importe(pago, anulado: Decimal, pedido: Decimal | None) -> Decimal:  # noqa: ANN001
    """The amount to reverse: what was asked, or all that remains.

    Raises:
        PagoYaAnulado / MontoExcedeReversible.
    """
    restante = pago.monto - anulado
    if restante <= 0:
        raise PagoYaAnulado(
            f"El pago {pago.id} ({pago.monto:.2f}) ya está anulado por completo: no queda nada que anular. "
            "Consulte sus anulaciones con listarPagos."
        )
    if pedido is not None and pedido > restante:
        raise MontoExcedeReversible(
            f"Del pago {pago.id} ({pago.monto:.2f}) solo quedan {restante:.2f} por anular "
            f"(ya se anularon {anulado:.2f}); indique un monto de hasta {restante:.2f}."
        )
    return restante if pedido is None else pedido


def _repetir(op: Operacion, pago, previa, huella: str, clave: str) -> AnulacionRegistrada:  # noqa: ANN001
    if previa.huella != huella or previa.pago_id != pago.id:
        raise ClaveIdempotenciaReutilizada(clave, "una anulación")
    op.descripcion = f"Reintento de la anulación {previa.id} (clave {clave!r}): no se anula otra vez"
    op.detalles |= {"pago_id": pago.id, "anulacion_id": previa.id, "repetido": True}
    anulado = _anulado(op.conn, pago.id)
    return _resultado(previa, pago, anulado, repetido=True)


def _aplicar(
    op: Operacion, pago, anulado: Decimal, importe: Decimal, motivo: str,  # noqa: ANN001
    clave: str | None, huella: str, usuario: str | None,
) -> AnulacionRegistrada:
    saldo_nuevo = op.conn.execute(RESTAR_DEL_SALDO, {"cliente": pago.cliente_id, "importe": importe}).scalar_one()
    fila = op.conn.execute(
        INSERTAR,
        {
            "pago_id": pago.id, "cliente_id": pago.cliente_id, "monto": importe, "motivo": motivo,
            "fecha": ahora(), "procesado_por": usuario, "saldo_anterior": saldo_nuevo + importe,
            "saldo_posterior": saldo_nuevo, "clave_idempotencia": clave, "huella": huella,
        },
    ).one()
    op.descripcion = (
        f"Anulación de {importe:.2f} del pago {pago.id} del cliente {pago.cliente_id}: "
        f"{fila.saldo_anterior:.2f} -> {fila.saldo_posterior:.2f} ({motivo})"
    )
    op.detalles |= {"pago_id": pago.id, "anulacion_id": fila.id}
    return _resultado(fila, pago, anulado + importe, repetido=False)


def _resultado(fila, pago, anulado: Decimal, *, repetido: bool) -> AnulacionRegistrada:  # noqa: ANN001
    return AnulacionRegistrada(
        anulacion_id=fila.id,
        pago_id=pago.id,
        cliente_id=pago.cliente_id,
        cliente_nombre=pago.nombre,
        monto=fila.monto,
        motivo=fila.motivo,
        saldo_anterior=fila.saldo_anterior,
        saldo_nuevo=fila.saldo_posterior,
        pago_monto=pago.monto,
        total_anulado=anulado,
        reversible=pago.monto - anulado,
        fecha=fila.fecha,
        repetido=repetido,
    )
