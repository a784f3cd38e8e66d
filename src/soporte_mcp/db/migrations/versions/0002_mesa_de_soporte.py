"""Mesa de soporte: historial de tickets, versión y búsqueda de tickets, anulaciones de pagos.

Upgrades a database of revision 0001 with its data: existing tickets start at
version 1 with their search column filled from their title and description;
no payment is touched (reversals are new rows of their own table).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from soporte_mcp.services.texto import normalizar

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FECHA = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("tickets", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("tickets", sa.Column("busqueda", sa.Text(), nullable=False, server_default=""))
    op.create_index("ix_tickets_fecha_creacion", "tickets", ["fecha_creacion", "id"])
    _llenar_busqueda()

    op.create_table(
        "tickets_historial",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("fecha", FECHA, nullable=False),
        sa.Column("usuario", sa.String(200), nullable=True),
        sa.Column("campo", sa.String(20), nullable=False),
        sa.Column("anterior", sa.String(100), nullable=True),
        sa.Column("nuevo", sa.String(100), nullable=True),
        sa.Column("comentario", sa.Text(), nullable=True),
    )
    op.create_index("ix_tickets_historial_ticket_id", "tickets_historial", ["ticket_id"])

    op.create_table(
        "anulaciones",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pago_id", sa.Integer(), sa.ForeignKey("pagos.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("cliente_id", sa.Integer(), sa.ForeignKey("clientes.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("monto_centavos", sa.BigInteger(), nullable=False),
        sa.Column("motivo", sa.Text(), nullable=False),
        sa.Column("fecha", FECHA, nullable=False),
        sa.Column("procesado_por", sa.String(200), nullable=True),
        sa.Column("saldo_anterior_centavos", sa.BigInteger(), nullable=False),
        sa.Column("saldo_posterior_centavos", sa.BigInteger(), nullable=False),
        sa.Column("clave_idempotencia", sa.String(200), nullable=True, unique=True),
        sa.Column("huella", sa.String(64), nullable=True),
    )
    op.create_index("ix_anulaciones_pago_id", "anulaciones", ["pago_id"])
    op.create_index("ix_anulaciones_fecha", "anulaciones", ["fecha"])
    op.create_index("ix_anulaciones_cliente_fecha", "anulaciones", ["cliente_id", "fecha"])


def _llenar_busqueda() -> None:
    """The normalised title + description of every existing ticket (Python's normalizar, as new tickets get)."""
    conn = op.get_bind()
    tickets = sa.table("tickets", sa.column("id"), sa.column("titulo"), sa.column("descripcion"), sa.column("busqueda"))
    filas = conn.execute(sa.select(tickets.c.id, tickets.c.titulo, tickets.c.descripcion)).all()
    for fila in filas:
        conn.execute(
            tickets.update().where(tickets.c.id == fila.id)
            .values(busqueda=normalizar(f"{fila.titulo} {fila.descripcion}"))
        )


def downgrade() -> None:
    op.drop_table("anulaciones")
    op.drop_table("tickets_historial")
    op.drop_index("ix_tickets_fecha_creacion", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("busqueda")
        batch.drop_column("version")
