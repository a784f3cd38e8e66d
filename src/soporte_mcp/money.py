"""Exact money: amounts are ``Decimal`` in Python and integer cents in the database."""

from __future__ import annotations

import re
from decimal import Decimal

from soporte_mcp.errors import MontoInvalido

CENTAVO = Decimal("0.01")
MONTO_MAXIMO = Decimal("999999.99")


def parse_monto(valor: object) -> Decimal:
    """Turn what a caller sent (JSON number or decimal string) into an exact amount.

    A string may carry a ``$`` and spaces (``"$500"``, ``" 7 "``); an exponent
    (``"1e2"``) or a thousands separator (``"1,500"``) is refused.

    A JSON number reaches Python as ``float``; its shortest ``repr`` is the text
    the caller wrote for any amount within our limit (at most 8 significant
    digits), so going through ``str`` recovers it exactly.

    Raises:
        MontoInvalido: not a number, not > 0, over the limit, or more than 2 decimals.
    """
    monto = _to_decimal(valor)
    if not monto.is_finite():
        raise MontoInvalido(f"El monto {valor!r} no es un número. Indíquelo como 150 o 150.50.")
    if monto <= 0:
        raise MontoInvalido(f"El monto debe ser mayor que 0 (recibido: {valor}).")
    if monto > MONTO_MAXIMO:
        raise MontoInvalido(f"El monto máximo por pago es 999999.99 (recibido: {valor}).")
    if monto != monto.quantize(CENTAVO):
        raise MontoInvalido(
            f"El monto {valor} tiene más de 2 decimales; indique los centavos exactos, p. ej. 150.25."
        )
    return monto.quantize(CENTAVO)


# What a person types: an optional sign, an optional "$", digits, an optional decimal point and
# digits. Spaces anywhere are dropped ("$ 500", " 7 "). No exponent ("1e2" is not an amount a
# person means), no thousands separator ("1,500" could be 1500 or 1.5 in Spanish-speaking countries).
MONTO_ESCRITO = re.compile(r"(-?\$?|\$-)(\d+\.?\d*|\.\d+)")


def _to_decimal(valor: object) -> Decimal:
    if isinstance(valor, bool) or valor is None:
        raise MontoInvalido(f"El monto {valor!r} no es un número. Indíquelo como 150 o 150.50.")
    if isinstance(valor, float):
        # A JSON number: its shortest repr is what the caller wrote (1e2 arrives here as 100.0).
        return Decimal(repr(valor))
    if isinstance(valor, int | Decimal):
        return Decimal(valor)
    texto = re.sub(r"\s+", "", str(valor))
    if not MONTO_ESCRITO.fullmatch(texto):
        raise MontoInvalido(
            f"El monto {valor!r} no es un número. Indíquelo con punto decimal y sin separador de miles "
            "ni exponente, p. ej. 1500.50 o $1500.50."
        )
    return Decimal(texto.replace("$", ""))


def to_cents(monto: Decimal) -> int:
    """Exact integer cents of an amount that has at most 2 decimals."""
    return int(monto.quantize(CENTAVO) * 100)


def from_cents(cents: int) -> Decimal:
    """The amount of an integer number of cents (exact, with two decimals: 85050 → 850.50)."""
    return Decimal(cents).scaleb(-2)


def en_texto(monto: Decimal) -> str:
    """An amount as it leaves us in JSON: text with exactly two decimals ("1250.00")."""
    return f"{monto:.2f}"


def centavos_en_texto(cents: int) -> str:
    """``en_texto(from_cents(cents))`` in integer arithmetic, without building the ``Decimal``: -5 → "-0.05"."""
    signo = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{signo}{cents // 100}.{cents % 100:02d}"
