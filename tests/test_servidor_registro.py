"""Building the server leaves logging as the command set it up, and as the SDK does when nobody did."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from mcp.server.mcpserver import server as sdk_server

from soporte_mcp.server import build_server


@contextmanager
def raiz_con(*manejadores: logging.Handler) -> Iterator[logging.Logger]:
    """The root logger with only ``manejadores`` (pytest's own capture put back afterwards)."""
    raiz = logging.getLogger()
    antes = raiz.handlers[:]
    raiz.handlers[:] = list(manejadores)
    try:
        yield raiz
    finally:
        raiz.handlers[:] = antes


def test_with_our_handler_on_the_root_logger_the_sdk_logging_setup_is_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    llamadas: list[str] = []
    monkeypatch.setattr(sdk_server, "configure_logging", llamadas.append)
    nuestro = logging.StreamHandler()
    with raiz_con(nuestro) as raiz:
        build_server()
        assert raiz.handlers == [nuestro]
    assert llamadas == []
    assert sdk_server.configure_logging == llamadas.append  # put back as it was


def test_without_a_handler_on_the_root_logger_the_sdk_sets_logging_up_as_always(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llamadas: list[str] = []
    monkeypatch.setattr(sdk_server, "configure_logging", llamadas.append)
    with raiz_con():
        build_server()
    assert llamadas == ["WARNING"]
