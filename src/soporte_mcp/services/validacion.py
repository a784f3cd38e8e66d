"""Checks of the values a caller chooses from a fixed list, with messages that name the list."""

from __future__ import annotations

import re

from soporte_mcp.dominio import ESTADOS_TICKET, METODOS_PAGO, PRIORIDADES
from soporte_mcp.errors import (
    DatoInvalido,
    EstadoInvalido,
    LimiteInvalido,
    MetodoPagoInvalido,
    PrioridadInvalida,
)
from soporte_mcp.services.texto import normalizar


def elegir(valor: str | None, permitidos: tuple[str, ...], defecto: str, error: type[DatoInvalido], que: str) -> str:
    # que: the sentence start with a {valor} slot, e.g. "La prioridad {valor!r} no es válida".
    """``valor`` if it is one of ``permitidos`` (case and accents ignored), ``defecto`` if absent.

    Raises:
        error: anything else, naming the allowed values.
    """
    if valor is None or not str(valor).strip():
        return defecto
    limpio = normalizar(str(valor)).replace(" ", "_")
    if limpio not in permitidos:
        raise error(f"{que.format(valor=valor)}. Valores permitidos: {', '.join(permitidos)}.")
    return limpio


def prioridad(valor: str | None) -> str:
    """Raises: PrioridadInvalida."""
    return elegir(valor, PRIORIDADES, "media", PrioridadInvalida, "La prioridad {valor!r} no es válida")


def metodo_pago(valor: str | None) -> str:
    """Raises: MetodoPagoInvalido."""
    return elegir(valor, METODOS_PAGO, "transferencia", MetodoPagoInvalido, "El método de pago {valor!r} no es válido")


def texto_requerido(valor: str | None, campo: str, maximo: int) -> str:
    """A non-blank text of at most ``maximo`` characters, stripped.

    Raises:
        DatoInvalido: blank or too long.
    """
    limpio = (valor or "").strip()
    if not limpio:
        raise DatoInvalido(f"Falta {campo}: escriba un texto breve.")
    if len(limpio) > maximo:
        raise DatoInvalido(f"{campo.capitalize()} admite como máximo {maximo} caracteres (tiene {len(limpio)}).")
    return limpio


def estado(valor: str | None) -> str | None:
    """A ticket state (``"En proceso"`` → ``en_proceso``), or None when absent.

    Raises:
        EstadoInvalido: not one of the states, naming them.
    """
    if valor is None or not str(valor).strip():
        return None
    return elegir(valor, ESTADOS_TICKET, "", EstadoInvalido, "El estado {valor!r} no es válido")


def limite(valor: int, maximo: int) -> int:
    """Raises: LimiteInvalido when ``valor`` is outside 1..``maximo``."""
    if not 1 <= valor <= maximo:
        raise LimiteInvalido(f"El límite debe estar entre 1 y {maximo} (recibido: {valor}).")
    return valor


NUMERO_TICKET = re.compile(r"#?\s*0*(\d{1,9})")


def ticket_id(valor: int | str) -> int:
    """The id of a ticket given as 42, "42" or "#000042".

    Raises:
        DatoInvalido: anything else.
    """
    if isinstance(valor, int) and not isinstance(valor, bool) and valor >= 1:
        return valor
    encontrado = NUMERO_TICKET.fullmatch(str(valor).strip())
    if isinstance(valor, str) and encontrado and int(encontrado.group(1)) >= 1:
        return int(encontrado.group(1))
    raise DatoInvalido(f"El ticket {valor!r} no es válido: indíquelo como 42 o \"#000042\".")
