"""Esquema inicial: clientes, tickets, pagos, historial de acciones y el índice de búsqueda.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

FECHA = sa.DateTime(timezone=True)

# FTS5 trigram index over the normalised search column, kept in step by triggers.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE clientes_fts USING fts5("
    "busqueda, content='clientes', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER clientes_fts_ai AFTER INSERT ON clientes BEGIN "
    "INSERT INTO clientes_fts(rowid, busqueda) VALUES (new.id, new.busqueda); END",
    "CREATE TRIGGER clientes_fts_ad AFTER DELETE ON clientes BEGIN "
    "INSERT INTO clientes_fts(clientes_fts, rowid, busqueda) VALUES ('delete', old.id, old.busqueda); END",
    "CREATE TRIGGER clientes_fts_au AFTER UPDATE OF busqueda ON clientes BEGIN "
    "INSERT INTO clientes_fts(clientes_fts, rowid, busqueda) VALUES ('delete', old.id, old.busqueda); "
    "INSERT INTO clientes_fts(rowid, busqueda) VALUES (new.id, new.busqueda); END",
]


# PostgreSQL: a trigram GIN index makes LIKE '%palabra%' on the normalised column index-backed.
POSTGRES_TRGM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_clientes_busqueda_trgm ON clientes USING gin (busqueda gin_trgm_ops)",
]


def upgrade() -> None:
    op.create_table(
        "clientes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nombre", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("telefono", sa.String(40), nullable=True),
        sa.Column("saldo_centavos", sa.BigInteger(), nullable=False),
        sa.Column("saldo_inicial_centavos", sa.BigInteger(), nullable=False),
        sa.Column("fecha_registro", FECHA, nullable=False),
        sa.Column("activo", sa.Boolean(), nullable=False),
        sa.Column("busqueda", sa.Text(), nullable=False),
    )
    op.create_index("ix_clientes_nombre", "clientes", ["nombre"])
    op.create_index("ix_clientes_fecha_registro", "clientes", ["fecha_registro"])

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cliente_id", sa.Integer(), sa.ForeignKey("clientes.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("titulo", sa.String(200), nullable=False),
        sa.Column("descripcion", sa.Text(), nullable=False),
        sa.Column("estado", sa.String(20), nullable=False),
        sa.Column("prioridad", sa.String(20), nullable=False),
        sa.Column("asignado_a", sa.String(100), nullable=True),
        sa.Column("fecha_creacion", FECHA, nullable=False),
        sa.Column("fecha_resolucion", FECHA, nullable=True),
    )
    op.create_index("ix_tickets_cliente_id", "tickets", ["cliente_id"])
    op.create_index("ix_tickets_estado", "tickets", ["estado"])
    op.create_index("ix_tickets_fecha_resolucion", "tickets", ["fecha_resolucion"])

    op.create_table(
        "pagos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cliente_id", sa.Integer(), sa.ForeignKey("clientes.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("monto_centavos", sa.BigInteger(), nullable=False),
        sa.Column("descripcion", sa.Text(), nullable=False),
        sa.Column("metodo_pago", sa.String(20), nullable=False),
        sa.Column("fecha", FECHA, nullable=False),
        sa.Column("procesado_por", sa.String(200), nullable=True),
        sa.Column("saldo_anterior_centavos", sa.BigInteger(), nullable=True),
        sa.Column("saldo_posterior_centavos", sa.BigInteger(), nullable=True),
        sa.Column("clave_idempotencia", sa.String(200), nullable=True, unique=True),
        sa.Column("huella", sa.String(64), nullable=True),
    )
    op.create_index("ix_pagos_cliente_fecha", "pagos", ["cliente_id", "fecha"])
    op.create_index("ix_pagos_fecha", "pagos", ["fecha"])

    op.create_table(
        "historial_acciones",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tipo", sa.String(20), nullable=False),
        sa.Column("herramienta", sa.String(100), nullable=True),
        sa.Column("resultado", sa.String(20), nullable=False),
        sa.Column("descripcion", sa.Text(), nullable=False),
        sa.Column(
            "cliente_id", sa.Integer(), sa.ForeignKey("clientes.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("usuario", sa.String(200), nullable=True),
        sa.Column("ip_address", sa.String(64), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("fecha", FECHA, nullable=False),
    )
    op.create_index("ix_historial_acciones_cliente_id", "historial_acciones", ["cliente_id"])
    op.create_index("ix_historial_acciones_fecha", "historial_acciones", ["fecha"])

    dialecto = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_FTS, "postgresql": POSTGRES_TRGM}.get(dialecto, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS clientes_fts")
    for table in ("historial_acciones", "pagos", "tickets", "clientes"):
        op.drop_table(table)
