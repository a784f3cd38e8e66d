"""Ctrl-C: at a prompt it interrupts the prompt; during an answer it cancels only that answer.

The chat reads the keyboard with blocking calls on the event loop's thread (nothing
else needs to run while the user types), so SIGINT has two jobs.  While the user is
typing, the standard handler raises KeyboardInterrupt out of ``input()``.  While a turn
runs, a handler cancels the turn's cancel scope from the loop, which unwinds the turn
cleanly and keeps the conversation.  Outside the main thread signals cannot be set and
both helpers do nothing.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import anyio


@contextmanager
def ctrl_c_cancela(scope: anyio.CancelScope) -> Iterator[None]:
    """While inside, Ctrl-C cancels ``scope`` instead of raising KeyboardInterrupt."""
    loop = asyncio.get_running_loop()
    # The handler runs between two bytecodes of whatever the loop is doing: hand the cancel to the loop.
    with _manejador(lambda _s, _f: loop.call_soon_threadsafe(scope.cancel)):
        yield


@contextmanager
def ctrl_c_interrumpe() -> Iterator[None]:
    """While inside, Ctrl-C raises KeyboardInterrupt (e.g. out of a blocking ``input()``)."""
    with _manejador(signal.default_int_handler):
        yield


@contextmanager
def _manejador(nuevo: object) -> Iterator[None]:
    try:
        anterior = signal.signal(signal.SIGINT, nuevo)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, anterior)
