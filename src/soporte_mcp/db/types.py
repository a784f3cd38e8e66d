"""Column types that keep money exact and datetimes in UTC on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

from soporte_mcp.money import centavos_en_texto, en_texto, from_cents, to_cents

# How pydantic writes an aware datetime in JSON ("2026-09-02T15:00:00Z", with ".ffffff" when there are
# microseconds): the form our result models give, and so the one ``conversion_json`` must give too.
_FECHA = TypeAdapter(datetime)


def fecha_en_json(valor: datetime | None) -> str | None:
    return None if valor is None else _FECHA.dump_python(valor, mode="json")


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
        return _de_centavos(value)

    def conversion_directa(self, dialect) -> Callable[[Any], Decimal | None]:  # noqa: ANN001
        """``process_result_value`` as one call, for db/consulta_directa.py (see FechaUTC's)."""
        return _de_centavos

    @staticmethod
    def conversion_json(dialect) -> Callable[[Any], str | None]:  # noqa: ANN001
        """The stored cents straight to the amount's JSON text, for ``ConsultaDirecta.filas_json``."""
        return _centavos_en_json

    @staticmethod
    def a_json(valor: Decimal | None) -> str | None:
        """An amount already read, in its JSON form."""
        return None if valor is None else en_texto(valor)


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

    def conversion_directa(self, dialect) -> Callable[[Any], datetime | None]:  # noqa: ANN001
        """The column's result conversion as one call, for db/consulta_directa.py.

        SQLAlchemy's chains three (the decorator's wrapper, the dialect's parser, then
        ``process_result_value``): ≈ 2 µs a value, 22 values in a ten-customer search
        (issue 13).  This is the dialect's parser and the same normalisation to UTC.
        """
        leer = self.impl_instance.dialect_impl(dialect).result_processor(dialect, None)
        if leer is None:  # the driver gives datetimes (psycopg)
            return lambda valor: self.process_result_value(valor, dialect)
        return lambda valor: None if valor is None else leer(valor).replace(tzinfo=UTC)

    def conversion_json(self, dialect) -> Callable[[Any], str | None]:  # noqa: ANN001
        """The stored value straight to the date's JSON text, for ``ConsultaDirecta.filas_json``.

        SQLAlchemy stores a datetime in SQLite as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC here): that
        text becomes "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" by slicing, as pydantic writes the aware
        datetime it stands for.  Anything else (another backend's datetimes, a text written by
        other means) is read as ``conversion_directa`` reads it, then written as pydantic writes it.
        """
        leer = self.conversion_directa(dialect)

        def escribir(valor: Any) -> str | None:
            if type(valor) is str and len(valor) == 26 and valor[10] == " " and valor[19] == ".":
                fraccion = valor[20:]
                return f"{valor[:10]}T{valor[11:19]}{'' if fraccion == '000000' else '.' + fraccion}Z"
            return fecha_en_json(leer(valor))

        return escribir

    @staticmethod
    def a_json(valor: datetime | None) -> str | None:
        """A date already read, in its JSON form."""
        return fecha_en_json(valor)


def _de_centavos(valor: int | None) -> Decimal | None:
    return None if valor is None else from_cents(int(valor))


def _centavos_en_json(valor: int | None) -> str | None:
    return None if valor is None else centavos_en_texto(int(valor))
