"""The database a stdio server opens after its handshake: once, shared by whoever waits, retried after a failure."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from soporte_mcp.db.perezosa import BasePerezosa
from soporte_mcp.errors import BaseDeDatosNoDisponible


class Falsa:
    """Stands for a Database: remembers whether it was disposed."""

    def __init__(self) -> None:
        self.cerrada = False

    def dispose(self) -> None:
        self.cerrada = True


class Apertura:
    """An ``abrir`` that counts its calls, can be held in flight, and fails while ``motivo`` is set."""

    def __init__(self, motivo: str | None = None) -> None:
        self.veces = 0
        self.motivo = motivo
        self.dentro = threading.Event()
        self.soltar = threading.Event()
        self.soltar.set()

    def __call__(self) -> Falsa:
        self.veces += 1
        self.dentro.set()
        self.soltar.wait(timeout=10)
        if self.motivo:
            raise BaseDeDatosNoDisponible(self.motivo)
        return Falsa()


def test_threads_asking_while_it_opens_wait_for_that_one_open_and_share_it() -> None:
    apertura = Apertura()
    apertura.soltar.clear()
    base = BasePerezosa(apertura)
    with ThreadPoolExecutor(4) as hilos:
        primero = hilos.submit(base.obtener)
        assert apertura.dentro.wait(timeout=10)
        otros = [hilos.submit(base.obtener) for _ in range(3)]
        apertura.soltar.set()
        abiertas = {id(primero.result(timeout=10)), *(id(f.result(timeout=10)) for f in otros)}
    assert apertura.veces == 1 and len(abiertas) == 1


def test_a_failed_open_is_logged_and_not_remembered_so_the_next_use_opens_it(caplog) -> None:
    apertura = Apertura(motivo="la carpeta /datos no existe")
    base = BasePerezosa(apertura)
    with caplog.at_level(logging.ERROR, logger="soporte_mcp.db.perezosa"):
        with pytest.raises(BaseDeDatosNoDisponible, match="la carpeta /datos no existe"):
            base.obtener()
    assert [r.getMessage() for r in caplog.records] == [
        "no se pudo abrir la base de datos: la carpeta /datos no existe"]

    apertura.motivo = None  # the operator created the folder
    assert isinstance(base.obtener(), Falsa)
    assert apertura.veces == 2


def test_everyone_waiting_for_a_failing_open_gets_its_reason_from_one_attempt() -> None:
    apertura = Apertura(motivo="el servidor de base de datos no responde")
    apertura.soltar.clear()
    base = BasePerezosa(apertura)
    with ThreadPoolExecutor(3) as hilos:
        primero = hilos.submit(base.obtener)
        assert apertura.dentro.wait(timeout=10)
        otros = [hilos.submit(base.obtener) for _ in range(2)]
        apertura.soltar.set()
        for futuro in (primero, *otros):
            with pytest.raises(BaseDeDatosNoDisponible, match="no responde"):
                futuro.result(timeout=10)
    assert apertura.veces == 1


def test_an_unforeseen_failure_is_refused_as_unavailable_naming_only_its_type() -> None:
    def rota() -> Falsa:
        raise RuntimeError("contraseña secreta en el texto")

    with pytest.raises(BaseDeDatosNoDisponible) as error:
        BasePerezosa(rota).obtener()
    assert "RuntimeError" in error.value.mensaje and "secreta" not in error.value.mensaje
    assert error.value.reintentable


def test_the_background_open_happens_once_and_a_call_then_finds_it_open() -> None:
    apertura = Apertura()
    base = BasePerezosa(apertura)
    base.en_segundo_plano(espera=0)
    base.en_segundo_plano(espera=0)  # every tools/list asks again
    assert apertura.dentro.wait(timeout=10)
    db = base.obtener()
    base.en_segundo_plano(espera=0)
    assert apertura.veces == 1 and base.actual is db


def test_closing_before_the_background_open_starts_cancels_it() -> None:
    apertura = Apertura()
    base = BasePerezosa(apertura)
    antes = set(threading.enumerate())
    base.en_segundo_plano(espera=60)
    (hilo,) = set(threading.enumerate()) - antes
    base.cerrar()
    hilo.join(timeout=10)
    assert not hilo.is_alive() and apertura.veces == 0


def test_closing_disposes_what_was_opened_and_nothing_opens_afterwards() -> None:
    apertura = Apertura()
    base = BasePerezosa(apertura)
    db = base.obtener()
    base.cerrar()
    assert db.cerrada and base.actual is None
    with pytest.raises(BaseDeDatosNoDisponible):
        base.obtener()
    BasePerezosa(Apertura()).cerrar()  # never opened: nothing to dispose, no error


def test_closing_waits_for_an_open_in_flight_and_disposes_it_too() -> None:
    apertura = Apertura()
    apertura.soltar.clear()
    base = BasePerezosa(apertura)
    with ThreadPoolExecutor(2) as hilos:
        abriendo = hilos.submit(base.obtener)
        assert apertura.dentro.wait(timeout=10)
        cerrando = hilos.submit(base.cerrar)
        apertura.soltar.set()
        cerrando.result(timeout=10)
        assert abriendo.result(timeout=10).cerrada
