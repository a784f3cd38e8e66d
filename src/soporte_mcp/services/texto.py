"""Text normalisation for search: lower-case, no accents, single spaces."""

from __future__ import annotations

import re
import unicodedata

# A word as SQLite's word index cuts text (FTS5 unicode61, migration 0003): a run of letters and
# digits. Python's \w is letters, digits and "_"; unicode61 takes "_" for a separator, as here.
PALABRA = re.compile(r"[^\W_]+")


def normalizar(texto: str) -> str:
    """``"  María GARCÍA "`` → ``"maria garcia"``: what the search column holds and queries use."""
    descompuesto = unicodedata.normalize("NFKD", texto.casefold())
    sin_marcas = "".join(c for c in descompuesto if not unicodedata.combining(c))
    return " ".join(sin_marcas.split())


def palabras_indexadas(texto: str) -> list[str]:
    """``"juan.perez@empresa.com"`` → ``["juan", "perez", "empresa", "com"]``: the words the word index
    holds for a normalised text, and so the parts a search word is looked up by."""
    return PALABRA.findall(texto)


def texto_busqueda(nombre: str, email: str) -> str:
    """The value of ``clientes.busqueda`` for a customer."""
    return f"{normalizar(nombre)} {normalizar(email)}"


def texto_ticket(titulo: str, descripcion: str) -> str:
    """The value of ``tickets.busqueda`` for a ticket: what listarTickets' ``texto`` searches."""
    return normalizar(f"{titulo} {descripcion}")
