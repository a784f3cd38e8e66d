"""What the user sees: the answer on stdout, tool calls and notices on stderr.

Interactive: the answer streams as it arrives, rendered as Markdown on a terminal and
as plain text when stdout is piped.  One-shot: stdout gets only the final answer (or,
with --json, one JSON object); what the model says between tool rounds goes to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown

from soporte_mcp.chat.conversacion import Turno
from soporte_mcp.chat.herramientas import Herramienta, Resultado
from soporte_mcp.chat.senales import ctrl_c_interrumpe
from soporte_mcp.errors import SoporteError

SI = {"s", "si", "sí", "y", "yes"}


def consola_markdown() -> Console | None:
    """A rich console for stdout if it is a terminal, else None (plain text)."""
    consola = Console()
    return consola if consola.is_terminal else None


class MarkdownEnVivo:
    """Markdown re-rendered in place as its text grows."""

    def __init__(self, consola: Console) -> None:
        self.consola = consola
        self._texto = ""
        self._vivo: Live | None = None

    def escribir(self, trozo: str) -> None:
        self._texto += trozo
        if self._vivo is None:
            self._vivo = Live(console=self.consola, refresh_per_second=8, vertical_overflow="visible")
            self._vivo.start()
        self._vivo.update(Markdown(self._texto))

    def terminar(self) -> None:
        if self._vivo is not None:
            self._vivo.update(Markdown(self._texto), refresh=True)
            self._vivo.stop()
        self._texto, self._vivo = "", None


class Pantalla:
    """Interactive output: the answer streams to stdout."""

    def __init__(self, consola: Console | None) -> None:
        self._markdown = MarkdownEnVivo(consola) if consola is not None else None
        self._a_medias = False  # plain text written without its final newline

    def texto(self, trozo: str) -> None:
        if self._markdown is not None:
            self._markdown.escribir(trozo)
        else:
            click.echo(trozo, nl=False)
            self._a_medias = True

    def fin_ronda(self, *, con_llamadas: bool) -> None:
        self.cortar()

    def cortar(self) -> None:
        """End the text being written (at the end of a round, or when interrupted)."""
        if self._markdown is not None:
            self._markdown.terminar()
        elif self._a_medias:
            click.echo("")
            self._a_medias = False

    def llamada(self, herramienta: Herramienta, argumentos: Mapping[str, Any]) -> None:
        click.echo(f"→ {herramienta.expuesta} {json.dumps(argumentos, ensure_ascii=False)}", err=True)

    def resultado(self, herramienta: Herramienta, resultado: Resultado) -> None:
        click.echo(f"  {'✗' if resultado.es_error else '←'} {resultado.resumen}", err=True)

    def aviso(self, mensaje: str) -> None:
        self.cortar()
        click.echo(mensaje, err=True)

    def error(self, mensaje: str) -> None:
        self.aviso(f"Error: {mensaje}")


class UnaVez(Pantalla):
    """One-shot output: only the final answer reaches stdout, once the turn is over."""

    def __init__(self, consola: Console | None) -> None:
        super().__init__(None)
        self.consola = consola
        self._ronda = ""
        self.final = ""

    def texto(self, trozo: str) -> None:
        self._ronda += trozo

    def fin_ronda(self, *, con_llamadas: bool) -> None:
        if con_llamadas and self._ronda.strip():
            click.echo(self._ronda.strip(), err=True)  # the model thinking aloud between tool rounds
        else:
            self.final = self._ronda
        self._ronda = ""

    def imprimir(self, turno: Turno, *, modelo: str) -> None:
        if not self.final.strip():
            return
        if self.consola is not None:
            self.consola.print(Markdown(self.final))
        else:
            click.echo(self.final.strip())


class Json(UnaVez):
    """One-shot output as one JSON object: the answer and every tool call with its result."""

    def imprimir(self, turno: Turno, *, modelo: str) -> None:
        imprimir_json(turno, modelo=modelo, respuesta=self.final.strip())


def imprimir_json(
    turno: Turno | None, *, modelo: str, respuesta: str = "", error: SoporteError | None = None
) -> None:
    """The --json object on stdout.  ``error`` is null on success; after a failure it holds the error's
    stable ``codigo`` and its Spanish ``mensaje``, and ``llamadas`` the tools that ran before it."""
    turno = turno if turno is not None else Turno()
    salida = {
        "respuesta": respuesta,
        "llamadas": [ll.como_dict() for ll in turno.llamadas],
        "modelo": modelo,
        "uso": turno.uso,
        "limite_alcanzado": turno.limite_alcanzado,
        "error": None if error is None else {"codigo": error.codigo, "mensaje": error.mensaje},
    }
    click.echo(json.dumps(salida, ensure_ascii=False, indent=2))


def aprobar_en_terminal(herramienta: Herramienta, argumentos: Mapping[str, Any]) -> bool:
    """Ask on stderr, read the answer from stdin; only an explicit yes approves (Ctrl-C or EOF is no)."""
    click.echo(f"¿Ejecutar {herramienta.nombre} ({herramienta.servidor}), que puede modificar datos, "
               f"con {json.dumps(argumentos, ensure_ascii=False)}? [s/N] ", err=True, nl=False)
    try:
        with ctrl_c_interrumpe():
            linea = sys.stdin.readline()
    except KeyboardInterrupt:
        linea = "\n"
    if not linea:
        click.echo("\nSin respuesta (la entrada terminó): no se ejecuta. Use --yes para aprobar sin preguntar.",
                   err=True)
        return False
    return linea.strip().lower() in SI
