"""Text normalisation for search: lower-case, no accents, single spaces."""

from __future__ import annotations

import unicodedata


def normalizar(texto: str) -> str:
    """``"  María GARCÍA "`` → ``"maria garcia"``: what the search column holds and queries use."""
    descompuesto = unicodedata.normalize("NFKD", texto.casefold())
    sin_marcas = "".join(c for c in descompuesto if not unicodedata.combining(c))
    return " ".join(sin_marcas.split())


def texto_busqueda(nombre: str, email: str) -> str:
    """The value of ``clientes.busqueda`` for a customer."""
    return f"{normalizar(nombre)} {normalizar(email)}"


def texto_ticket(titulo: str, descripcion: str) -> str:
    """The value of ``tickets.busqueda`` for a ticket: what listarTickets' ``texto`` searches."""
    return normalizar(f"{titulo} {descripcion}")
