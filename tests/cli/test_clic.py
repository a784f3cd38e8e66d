"""Both commands speak Spanish: every --help page and click's own usage errors (soporte_mcp.clic)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from soporte_mcp.chat.cli import main as chat
from soporte_mcp.cli import main as soporte

# What click writes in English when a text escapes the translation, and English prose in our own help.
INGLES = re.compile(
    r"Usage:|Options:|Commands:|Show this message|Show the version|\[OPTIONS\]|COMMAND|\bdefault:|\brequired\b|"
    r"env var|\b(INTEGER|TEXT|FLOAT|PATH|FILENAME|RANGE|BOOLEAN|FILE|DIRECTORY)\b|Try '|No such|Missing|"
    r"Invalid value|Got unexpected|requires an? |does not|is not|Did you mean|"
    r"(?<![-\w])(the|and|with|of|for|to|is|only|when|or|an)\b"
)


def comandos(comando: click.Command, ruta: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield ruta, comando
    if isinstance(comando, click.Group):
        for nombre, sub in comando.commands.items():
            yield from comandos(sub, (*ruta, nombre))


ARBOLES = [(nombre, ruta, c) for nombre, raiz in (("soporte-mcp", soporte), ("soporte-chat", chat))
           for ruta, c in comandos(raiz)]


NOMBRES = {soporte: "soporte-mcp", chat: "soporte-chat"}


def invocar(raiz: click.Command, *args: str) -> click.testing.Result:
    return CliRunner().invoke(raiz, list(args), prog_name=NOMBRES[raiz])


@pytest.mark.parametrize(("programa", "ruta", "comando"), ARBOLES, ids=[" ".join((p, *r)) for p, r, _ in ARBOLES])
def test_every_help_page_is_spanish_with_no_english_left(programa: str, ruta: tuple[str, ...],
                                                          comando: click.Command) -> None:
    raiz = soporte if programa == "soporte-mcp" else chat
    assert (comando.help or "").strip(), ruta
    for opcion in comando.params:
        assert isinstance(opcion, click.Argument) or opcion.hidden or (opcion.help or "").strip(), opcion.name
    resultado = invocar(raiz, *ruta, "--help")
    assert resultado.exit_code == 0
    assert resultado.output.startswith(f"Uso: {' '.join((programa, *ruta))} [OPCIONES]")
    assert "Opciones:" in resultado.output and "Muestra esta ayuda y termina." in resultado.output
    # The chat's examples are what a user types to the model; the check reads only our own words.
    texto = resultado.output.split("Ejemplos:")[0]
    assert INGLES.search(texto) is None, INGLES.search(texto)


ERRORES = [
    (soporte, ["--nada"], "No existe la opción '--nada'."),
    (soporte, ["sed"], "No existe el comando 'sed'. ¿Quiso decir 'seed'?"),
    (soporte, ["token", "crear"], "Falta el argumento 'NOMBRE'."),
    (soporte, ["serve", "--port", "abc"], "Valor no válido para '--port': 'abc' no es un número válido."),
    (soporte, ["serve", "--port", "0"], "Valor no válido para '--port': 0 no está en el rango 1<=x<=65535."),
    (soporte, ["serve", "--transport", "tcp"],
     "Valor no válido para '--transport': 'tcp' no es ninguno de 'stdio', 'http'."),
    (soporte, ["seed", "--clientes"], "La opción '--clientes' necesita un valor."),
    (soporte, ["info", "sobra"], "Sobra un argumento (sobra)"),
    (chat, ["--nada"], "No existe la opción '--nada'."),
    (chat, ["--max-tool-rounds", "x"], "Valor no válido para '--max-tool-rounds': 'x' no es un número válido."),
    (chat, ["-c", "/no/existe.json"], "Valor no válido para '-c' / '--config': Archivo '/no/existe.json' no existe."),
]


@pytest.mark.parametrize(("raiz", "args", "mensaje"), ERRORES, ids=[" ".join(a) for _, a, _ in ERRORES])
def test_usage_errors_are_spanish(raiz: click.Command, args: list[str], mensaje: str) -> None:
    resultado = invocar(raiz, *args)
    assert resultado.exit_code == 2
    lineas = resultado.stderr.splitlines()
    assert lineas[-1] == f"Error: {mensaje}"
    if len(lineas) > 1:  # click shows the usage line when it knows the command
        assert lineas[0].startswith(f"Uso: {NOMBRES[raiz]}")
        assert lineas[1].startswith(f"Pruebe '{NOMBRES[raiz]}") and lineas[1].endswith(" --help' para ver la ayuda.")
    assert INGLES.search(resultado.stderr) is None


@pytest.mark.parametrize("raiz", [soporte, chat], ids=["soporte-mcp", "soporte-chat"])
def test_version_is_spanish(raiz: click.Command) -> None:
    assert re.fullmatch(rf"{NOMBRES[raiz]}, versión \S+\n", invocar(raiz, "--version").output)
