"""The tables: customers, tickets, payments and the audit trail (SQLAlchemy 2.0 declarative)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from soporte_mcp.db.types import Dinero, FechaUTC

# The ticket states, priorities and payment methods are said once, in soporte_mcp.dominio.
TIPOS_ACCION = ("consulta", "creacion", "actualizacion", "pago", "anulacion", "ai_tool")
# The ticket state table: where each state may go next ("cerrado" is final). README: "Ticket states".
TRANSICIONES: dict[str, tuple[str, ...]] = {
    "abierto": ("en_proceso", "pendiente", "resuelto"),
    "en_proceso": ("pendiente", "resuelto"),
    "pendiente": ("en_proceso", "resuelto"),
    "resuelto": ("cerrado", "abierto"),
    "cerrado": (),
}
RESULTADOS = ("ok", "rechazado", "error")


def ahora() -> datetime:
    """The current instant, aware, in UTC: every stored datetime is UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Cliente(Base):
    __tablename__ = "clientes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nombre: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    telefono: Mapped[str | None] = mapped_column(String(40))
    # The balance is always saldo_inicial + the payments - their reversals (see `db check`).
    saldo: Mapped[Decimal] = mapped_column("saldo_centavos", Dinero(), key="saldo", default=Decimal("0.00"))
    saldo_inicial: Mapped[Decimal] = mapped_column(
        "saldo_inicial_centavos", Dinero(), key="saldo_inicial", default=Decimal("0.00"))
    fecha_registro: Mapped[datetime] = mapped_column(FechaUTC(), default=ahora)
    activo: Mapped[bool] = mapped_column(Boolean, default=True)
    # nombre + email, lower-case and without accents: what buscarCliente searches.
    busqueda: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_clientes_nombre", "nombre"), Index("ix_clientes_fecha_registro", "fecha_registro"))


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cliente_id: Mapped[int] = mapped_column(ForeignKey("clientes.id", ondelete="RESTRICT"), index=True)
    titulo: Mapped[str] = mapped_column(String(200))
    descripcion: Mapped[str] = mapped_column(Text)
    estado: Mapped[str] = mapped_column(String(20), default="abierto", index=True)
    prioridad: Mapped[str] = mapped_column(String(20), default="media")
    asignado_a: Mapped[str | None] = mapped_column(String(100))
    fecha_creacion: Mapped[datetime] = mapped_column(FechaUTC(), default=ahora)
    fecha_resolucion: Mapped[datetime | None] = mapped_column(FechaUTC(), index=True)
    # Raised by every change: a caller that read version N may ask for its change to apply only on N.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # titulo + descripcion, lower-case and without accents: what listarTickets' texto searches.
    busqueda: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_tickets_fecha_creacion", "fecha_creacion", "id"),)


class HistorialTicket(Base):
    """One change of one ticket field (or a comment): appended, never edited."""

    __tablename__ = "tickets_historial"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="RESTRICT"), index=True)
    fecha: Mapped[datetime] = mapped_column(FechaUTC(), default=ahora)
    usuario: Mapped[str | None] = mapped_column(String(200))
    # estado, prioridad, asignado_a, or comentario for a comment that changed nothing.
    campo: Mapped[str] = mapped_column(String(20))
    anterior: Mapped[str | None] = mapped_column(String(100))
    nuevo: Mapped[str | None] = mapped_column(String(100))
    comentario: Mapped[str | None] = mapped_column(Text)


class Pago(Base):
    __tablename__ = "pagos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cliente_id: Mapped[int] = mapped_column(ForeignKey("clientes.id", ondelete="RESTRICT"))
    monto: Mapped[Decimal] = mapped_column("monto_centavos", Dinero(), key="monto")
    descripcion: Mapped[str] = mapped_column(Text, default="")
    metodo_pago: Mapped[str] = mapped_column(String(20), default="transferencia")
    fecha: Mapped[datetime] = mapped_column(FechaUTC(), default=ahora, index=True)
    procesado_por: Mapped[str | None] = mapped_column(String(200))
    saldo_anterior: Mapped[Decimal | None] = mapped_column("saldo_anterior_centavos", Dinero(), key="saldo_anterior")
    saldo_posterior: Mapped[Decimal | None] = mapped_column("saldo_posterior_centavos", Dinero(), key="saldo_posterior")
    clave_idempotencia: Mapped[str | None] = mapped_column(String(200), unique=True)
    # sha256 of the arguments, to tell a retry from a reused key.
    huella: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_pagos_cliente_fecha", "cliente_id", "fecha"),)


class Anulacion(Base):
    """A reversal of (part of) a payment: a ledger entry of its own; the payment is never edited."""

    __tablename__ = "anulaciones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pago_id: Mapped[int] = mapped_column(ForeignKey("pagos.id", ondelete="RESTRICT"), index=True)
    cliente_id: Mapped[int] = mapped_column(ForeignKey("clientes.id", ondelete="RESTRICT"))
    monto: Mapped[Decimal] = mapped_column("monto_centavos", Dinero(), key="monto")
    motivo: Mapped[str] = mapped_column(Text)
    fecha: Mapped[datetime] = mapped_column(FechaUTC(), default=ahora, index=True)
    procesado_por: Mapped[str | None] = mapped_column(String(200))
    saldo_anterior: Mapped[Decimal] = mapped_column("saldo_anterior_centavos", Dinero(), key="saldo_anterior")
    saldo_posterior: Mapped[Decimal] = mapped_column("saldo_posterior_centavos", Dinero(), key="saldo_posterior")
    clave_idempotencia: Mapped[str | None] = mapped_column(String(200), unique=True)
    # sha256 of the arguments, to tell a retry from a reused key.
    huella: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_anulaciones_cliente_fecha", "cliente_id", "fecha"),)


class HistorialAccion(Base):
    __tablename__ = "historial_acciones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tipo: Mapped[str] = mapped_column(String(20))
    herramienta: Mapped[str | None] = mapped_column(String(100))
    resultado: Mapped[str] = mapped_column(String(20), default="ok")
    descripcion: Mapped[str] = mapped_column(Text)
    cliente_id: Mapped[int | None] = mapped_column(
        ForeignKey("clientes.id", ondelete="SET NULL"), index=True
    )
    usuario: Mapped[str | None] = mapped_column(String(200))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    # JSON is what the audit needs: the arguments as the caller sent them, the reason of a refusal.
    metadatos: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, key="metadatos", default=dict)
    fecha: Mapped[datetime] = mapped_column(FechaUTC(), default=ahora, index=True)
