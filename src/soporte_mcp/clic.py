"""click in Spanish: its own texts (``--help``, usage errors) for ``soporte-mcp`` and ``soporte-chat``.

click reads every text of its own through ``gettext`` (``from gettext import gettext as _``
in each of its modules), so it speaks whatever catalogue the process's locale finds: English
on any machine without one. Rather than install a ``.mo`` file and depend on ``LANGUAGE``,
:func:`en_espanol` points those module-level names at a small table of our own. Importing
this module does it, so a command module imports it before its decorators run
(``version_option`` reads its help then). A text missing from the table stays English, and
the test that walks both command trees (tests/cli/test_clic.py) says which.

Register: "usted", like every message of the project. Option help is descriptive
("Muestra…"), instructions are imperative in "usted" ("Pruebe…", "Indique…").

:class:`Comando` and :class:`Grupo` also put the usage line in Spanish
(``[OPCIONES]``, ``COMANDO [ARGS]...``), which click writes without gettext.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

TEXTOS: dict[str, str] = {
    # formatting, help pages
    "Usage:": "Uso:",
    "Options": "Opciones",
    "Commands": "Comandos",
    "Positional arguments": "Argumentos",
    "default: {default}": "por defecto: {default}",
    "env var: {var}": "variable de entorno: {var}",
    "required": "obligatoria",
    "deprecated": "obsoleta",
    "(dynamic)": "(dinámico)",
    "Show this message and exit.": "Muestra esta ayuda y termina.",
    "Show the version and exit.": "Muestra la versión y termina.",
    "%(prog)s, version %(version)s": "%(prog)s, versión %(version)s",
    "Confirm the action without prompting.": "Confirma la acción sin preguntar.",
    "Do you want to continue?": "¿Desea continuar?",
    # errors
    "Error: {message}": "Error: {message}",
    "Try '{command} {option}' for help.": "Pruebe '{command} {option}' para ver la ayuda.",
    "No such option {name!r}.": "No existe la opción {name!r}.",
    "No such command {name!r}.": "No existe el comando {name!r}.",
    "Missing command.": "Falta el comando.",
    "Missing argument": "Falta el argumento",
    "Missing option": "Falta la opción",
    "Missing parameter": "Falta el parámetro",
    "Missing parameter: {param_name}": "Falta el parámetro: {param_name}",
    "Missing {param_type}": "Falta {param_type}",
    "Invalid value for {param_hint}: {message}": "Valor no válido para {param_hint}: {message}",
    "Invalid value: {message}": "Valor no válido: {message}",
    "Could not open file {filename!r}: {message}": "No se pudo abrir el archivo {filename!r}: {message}",
    "unknown error": "error desconocido",
    "Aborted!": "Cancelado.",
    "Option {name!r} does not take a value.": "La opción {name!r} no lleva valor.",
    "Argument {name!r} takes {nargs} values.": "El argumento {name!r} lleva {nargs} valores.",
    "Invalid start character for option ({option})": "Carácter inicial no válido para una opción ({option})",
    "Value must be an iterable.": "El valor debe ser una lista.",
    # values
    "{value!r} is not a valid {number_type}.": "{value!r} no es un número válido.",
    "{value} is not in the range {range}.": "{value} no está en el rango {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} no es un valor de sí o no. Valores aceptados: {states}",
    "{value!r} is not a valid UUID.": "{value!r} no es un UUID válido.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} no existe.",
    "{name} {filename!r} is a file.": "{name} {filename!r} es un archivo.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} es una carpeta.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} no se puede leer.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} no se puede escribir.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} no es ejecutable.",
    # click capitalises these ("Archivo '/x' no existe.")
    "file": "archivo",
    "directory": "carpeta",
    "path": "ruta",
    "Choose from:\n\t{choices}": "Elija entre:\n\t{choices}",
    # prompts
    "Repeat for confirmation": "Repítala para confirmar",
    "Error: The two entered values do not match.": "Error: los dos valores no coinciden.",
    "Error: invalid input": "Error: entrada no válida",
    "Press any key to continue...": "Pulse una tecla para continuar...",
}

# click's ngettext texts: (singular, plural) → (singular, plural).
PLURALES: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Sobra un argumento ({args})", "Sobran argumentos ({args})"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("La opción {name!r} necesita un valor.", "La opción {name!r} necesita {nargs} valores."),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} no es {choice}.", "{value!r} no es ninguno de {choices}."),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("¿Quiso decir {possibility}?", "(¿Quiso decir alguno de estos?: {possibilities})"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("Lleva {nargs} valores pero se dio 1.", "Lleva {nargs} valores pero se dieron {len}."),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("Se necesitan {len_type} valores, pero se dio {len_value}.",
         "Se necesitan {len_type} valores, pero se dieron {len_value}."),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("{value!r} no tiene el formato {format}.", "{value!r} no tiene ninguno de los formatos {formats}."),
}

_MODULOS = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "shell_completion",
            "_termui_impl", "utils")


def traducir(texto: str) -> str:
    """click's text in Spanish (the text itself when the table has no translation)."""
    return TEXTOS.get(texto, texto)


def traducir_plural(singular: str, plural: str, n: int) -> str:
    uno, varios = PLURALES.get((singular, plural), (singular, plural))
    return uno if n == 1 else varios


def en_espanol() -> None:
    """Make click speak Spanish in this process (idempotent; importing this module calls it)."""
    for nombre in _MODULOS:
        modulo = importlib.import_module(f"click.{nombre}")
        if hasattr(modulo, "_"):
            modulo._ = traducir
        if hasattr(modulo, "ngettext"):
            modulo.ngettext = traducir_plural


AJUSTES: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


class Comando(click.Command):
    """A click command whose usage line says ``[OPCIONES]``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[OPCIONES]")
        super().__init__(*args, **kwargs)


class Grupo(click.Group):
    """A click group in Spanish; its subcommands and subgroups are too."""

    command_class = Comando
    group_class = type  # subgroups are Grupo as well (click: ``type`` means "this same class")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[OPCIONES]")
        kwargs.setdefault("subcommand_metavar", "COMANDO [ARGS]...")
        super().__init__(*args, **kwargs)


en_espanol()
