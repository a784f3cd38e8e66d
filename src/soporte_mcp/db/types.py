"""Column types that keep money exact and datetimes in UTC on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

from soporte_mcp.money import from_cents, to_cents


class Dinero(TypeDecorator[Decimal]):
    """A ``Decimal`` amount stored as integer cents.

    SQLite has no exact decimal type (NUMERIC becomes REAL), so ``saldo + monto``
    computed by the database would be floating point; integers are exact everywhere.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> int | None:  # noqa: ANN001
        return None if value is None else to_cents(Decimal(value))

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:  # noqa: ANN001
        return None if value is None else from_cents(int(value))


class FechaUTC(TypeDecorator[datetime]):
    """An aware datetime stored in UTC (SQLite keeps no offset, so we normalise on the way in)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("se esperaba una fecha con zona horaria")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
