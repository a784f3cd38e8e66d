"""Logging set-up shared by the command and the worker processes of ``serve --workers N``."""

from __future__ import annotations

import logging
import sys

FORMATO = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configurar_logging(nivel: int | str) -> None:
    """Logs go to stderr: stdout carries the stdio protocol and the commands' own output."""
    logging.basicConfig(level=nivel, stream=sys.stderr, format=FORMATO)


def nivel_de_verbosidad(verbose: int) -> str:
    """``-v`` info, ``-vv`` debug, warnings otherwise."""
    return {0: "WARNING", 1: "INFO"}.get(verbose, "DEBUG")
