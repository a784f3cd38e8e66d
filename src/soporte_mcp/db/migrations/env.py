"""Alembic environment: the engine comes from soporte-mcp's own configuration."""

from __future__ import annotations

from alembic import context

from soporte_mcp.db.migrate import include_object
from soporte_mcp.db.models import Base

config = context.config


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from soporte_mcp.config import Settings
        from soporte_mcp.db.engine import create_db_engine

        engine = create_db_engine(Settings().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
