"""The person's confirmation of an operation that moves money, as the services see it.

The MCP layer (tools/_confirmacion.py) asks the person before the service runs,
outside any write transaction, and hands the service a ``Confirmacion``: how
the question ended and what the person saw (the balance, the customer's last
payment).  The service, holding the write lock, then decides:

- declined or cancelled → ``NoConfirmado``, nothing written;
- the client could not be asked while the policy is ``siempre`` →
  ``ConfirmacionNoDisponible``;
- confirmed, but the balance or the last payment is no longer what the person
  saw → ``ConfirmacionDesactualizada``.  This is what stops one accepted answer
  from paying twice: the SDK re-accepts a recorded answer whenever the same
  question is asked again (it has no replay protection), and the question names
  the live balance and the last payment (and, for a reversal, what was already
  reversed), so it is never the same question after a movement; two calls racing
  on one answer both pass the question but only the first finds the data
  unchanged here.

Every outcome goes into the operation's audit row (``detalles["confirmacion"]``).

Nothing here imports SQLAlchemy: the tools' resolvers name ``PreviaPago`` and
``PreviaAnulacion`` in their signatures, which the SDK reads when the server
starts, before a stdio server has imported the database layer (see soporte_mcp.dominio).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from soporte_mcp.errors import ConfirmacionDesactualizada, ConfirmacionNoDisponible, NoConfirmado

if TYPE_CHECKING:
    from soporte_mcp.services.auditoria import Operacion


class Estado(StrEnum):
    """How the question to the person ended, as the audit row records it."""

    CONFIRMADA = "confirmada"
    RECHAZADA = "rechazada"
    CANCELADA = "cancelada"
    # The client declared no elicitation, or its connection cannot carry a question mid-call.
    NO_POSIBLE = "no_posible"
    # Nobody was asked on purpose: policy ``nunca``, or a retry of a payment already made.
    NO_REQUERIDA = "no_requerida"


@dataclass(frozen=True)
class Vista:
    """What the person saw when asked and must still hold when written: the customer's balance, and
    ``marca``, whatever else changes with every movement (the id of the customer's last payment; for a
    reversal, also what was already reversed of the payment)."""

    saldo: Decimal
    marca: str


@dataclass(frozen=True)
class Confirmacion:
    """How the confirmation of one call ended, for the service that writes."""

    estado: Estado
    vista: Vista | None = None
    # Why it could not be asked (no_posible), in words for the refusal under ``siempre``.
    motivo: str = ""
    exigida: bool = False


SIN_PREGUNTA = Confirmacion(Estado.NO_REQUERIDA)


def vista_de_pago(saldo: Decimal, ultimo_pago: int) -> Vista:
    """What must still hold when a payment is written: the balance and the customer's last payment (0: none)."""
    return Vista(saldo, str(ultimo_pago))


def vista_de_anulacion(saldo: Decimal, ultimo_pago: int, anulado: Decimal) -> Vista:
    """The same for a reversal, with what was already reversed of the payment."""
    return Vista(saldo, f"{ultimo_pago}/{anulado:.2f}")


@dataclass(frozen=True)
class PreviaPago:
    """A payment as the person is asked to confirm it: valid data and the live balance, nothing written."""

    cliente_id: int
    cliente_nombre: str
    monto: Decimal
    metodo_pago: str
    descripcion: str
    saldo: Decimal
    ultimo_pago: int  # the id of the customer's last payment, 0 for none
    # A payment with this idempotency key exists already: the call returns it without asking.
    repetido: bool = False

    @property
    def saldo_despues(self) -> Decimal:
        return self.saldo + self.monto

    @property
    def vista(self) -> Vista:
        return vista_de_pago(self.saldo, self.ultimo_pago)


@dataclass(frozen=True)
class PreviaAnulacion:
    """A reversal as the person is asked to confirm it: valid data and the live balance, nothing written."""

    pago_id: int
    pago_monto: Decimal
    metodo_pago: str
    cliente_id: int
    cliente_nombre: str
    monto: Decimal
    motivo: str
    anulado: Decimal  # already reversed of this payment
    saldo: Decimal
    ultimo_pago: int
    # A reversal with this idempotency key exists already: the call returns it without asking.
    repetido: bool = False

    @property
    def saldo_despues(self) -> Decimal:
        return self.saldo - self.monto

    @property
    def vista(self) -> Vista:
        return vista_de_anulacion(self.saldo, self.ultimo_pago, self.anulado)


def exigir(
    op: Operacion,
    confirmacion: Confirmacion,
    *,
    que: str,
    actual: Callable[[], Vista],
    no_confirmado: Callable[[bool], NoConfirmado],
) -> None:
    """Let the operation go on only as the person's answer allows; record the outcome on ``op``.

    ``actual`` reads the live balance and last payment inside the caller's write
    transaction; ``no_confirmado(cancelada)`` builds the operation's own refusal.

    Raises:
        NoConfirmado: the person declined or cancelled.
        ConfirmacionNoDisponible: the policy requires asking and this client could not be asked.
        ConfirmacionDesactualizada: confirmed, but the data the person saw changed since.
    """
    op.detalles["confirmacion"] = str(confirmacion.estado)
    if confirmacion.estado in (Estado.RECHAZADA, Estado.CANCELADA):
        raise no_confirmado(confirmacion.estado is Estado.CANCELADA)
    if confirmacion.estado is Estado.NO_POSIBLE and confirmacion.exigida:
        raise ConfirmacionNoDisponible(que, confirmacion.motivo)
    if confirmacion.estado is Estado.CONFIRMADA and confirmacion.vista != actual():
        raise ConfirmacionDesactualizada(que)
