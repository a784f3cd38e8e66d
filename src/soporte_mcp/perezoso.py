"""Modules imported on first use: how the MCP layer reaches the services without importing them at start-up.

A stdio host spawns the server and waits for ``initialize`` and ``tools/list``
before anything else (issue 13: the cold start). The service modules bring
SQLAlchemy and the tables, which neither answer needs, so each tool module
holds its services as ``perezoso("soporte_mcp.services.clientes")`` and the
first attribute read (the first call) imports the module.

Not ``importlib.util.LazyLoader``: on Python 3.11 a second thread can see a
module it loads half executed (CPython gh-114763), and here two threads do
import the services, a call and the database opening in the background
(db/perezosa.py). ``importlib.import_module`` takes the module's import lock,
so whoever comes second waits for the import in flight. Once imported, a read
costs one Python-level attribute lookup more than a plain ``import``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class Perezoso:
    """Stands for module ``nombre`` and imports it when an attribute is first read."""

    __slots__ = ("_modulo", "_nombre")

    def __init__(self, nombre: str) -> None:
        self._nombre = nombre
        self._modulo: ModuleType | None = None
        _declarados.append(self)

    def __getattr__(self, atributo: str) -> Any:  # only called for what the slots do not hold
        return getattr(self.importar(), atributo)

    def importar(self) -> ModuleType:
        """Import the module now (the background warm-up does, so that the first call does not)."""
        if self._modulo is None:
            self._modulo = importlib.import_module(self._nombre)
        return self._modulo

    def __repr__(self) -> str:
        return f"perezoso({self._nombre!r})"


_declarados: list[Perezoso] = []


def perezoso(nombre: str) -> Perezoso:
    """The module ``nombre``, imported when first used (see the module docstring for why)."""
    return Perezoso(nombre)


def importar_pendientes() -> None:
    """Import now every module declared with ``perezoso`` (a background thread does, once the
    database is open, so that the first call of each tool imports nothing)."""
    for declarado in list(_declarados):
        declarado.importar()
