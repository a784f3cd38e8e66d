"""The write turn between processes (db/cerrojo.py): exclusive, bounded, and freed by a dying holder."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from soporte_mcp.db.cerrojo import CerrojoDeArchivo, ruta_de_la_cola, ruta_del_cerrojo
from soporte_mcp.errors import BaseDeDatosNoDisponible
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.pagos import registrar_pago

pytestmark = pytest.mark.sqlite_only

# Another process: takes the turn of the file, says so, and waits to be killed.
RETENER = """
import sys, time
from pathlib import Path
from soporte_mcp.db.cerrojo import CerrojoDeArchivo
turno = CerrojoDeArchivo(Path(sys.argv[1]))
assert turno.tomar(time.monotonic() + 5)
print("tomado", flush=True)
time.sleep(60)
"""


def test_the_turn_is_exclusive_and_a_waiter_gives_up_at_its_bound(tmp_path: Path) -> None:
    archivo = tmp_path / "soporte.db"
    uno, otro = CerrojoDeArchivo(archivo), CerrojoDeArchivo(archivo)
    try:
        assert uno.tomar(time.monotonic() + 1)
        t0 = time.monotonic()
        assert not otro.tomar(t0 + 0.1)
        assert 0.1 <= time.monotonic() - t0 < 1.0
        uno.soltar()
        assert otro.tomar(time.monotonic())
    finally:
        uno.cerrar()
        otro.cerrar()
    assert ruta_del_cerrojo(archivo).exists()


def _en_cola(archivo: Path) -> bool:
    """Someone holds the right to wait (the queue lock) of ``archivo``'s turn."""
    fd = os.open(ruta_de_la_cola(archivo), os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_holder_that_lets_the_turn_go_gets_it_again_only_after_the_one_waiting(tmp_path: Path) -> None:
    archivo = tmp_path / "soporte.db"
    uno, otro = CerrojoDeArchivo(archivo), CerrojoDeArchivo(archivo)
    orden: list[str] = []

    def esperar_turno() -> None:
        assert otro.tomar(time.monotonic() + 10)
        orden.append("otro")
        otro.soltar()

    try:
        assert uno.tomar(time.monotonic() + 1)
        hilo = threading.Thread(target=esperar_turno)
        hilo.start()
        limite = time.monotonic() + 10
        while not _en_cola(archivo):  # until the other one waits in line
            assert time.monotonic() < limite
            time.sleep(0.001)
        uno.soltar()
        assert uno.tomar(time.monotonic() + 10)  # at once, were it not for the one waiting
        orden.append("uno")
        uno.soltar()
        hilo.join()
    finally:
        uno.cerrar()
        otro.cerrar()
    assert orden == ["otro", "uno"]


def test_a_holder_killed_with_sigkill_leaves_the_turn_free(tmp_path: Path) -> None:
    archivo = tmp_path / "soporte.db"
    retenedor = subprocess.Popen([sys.executable, "-c", RETENER, str(archivo)], stdout=subprocess.PIPE, text=True)
    turno = CerrojoDeArchivo(archivo)
    try:
        assert retenedor.stdout.readline().strip() == "tomado"
        assert not turno.tomar(time.monotonic() + 0.05)
        os.kill(retenedor.pid, signal.SIGKILL)
        retenedor.wait(timeout=10)
        assert turno.tomar(time.monotonic() + 5)
    finally:
        retenedor.kill()
        retenedor.wait()
        retenedor.stdout.close()
        turno.cerrar()


@pytest.mark.anyio
async def test_a_payment_waits_for_another_process_turn_and_is_refused_retryably_past_its_bound(
    db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db._escritor, "_espera_s", 0.2)
    llamada = Llamada(herramienta="registrarPago")
    ajeno = CerrojoDeArchivo(db.archivo_sqlite)  # another handle: flock excludes it like another process
    assert ajeno.tomar(time.monotonic() + 1)
    try:
        with pytest.raises(BaseDeDatosNoDisponible) as error:
            await db.escribir(registrar_pago, db=db, llamada=llamada, cliente_id=2, monto="10", metodo_pago="efectivo")
        assert error.value.reintentable
    finally:
        ajeno.cerrar()
    pago = await db.escribir(registrar_pago, db=db, llamada=llamada, cliente_id=2, monto="10", metodo_pago="efectivo")
    assert not pago.repetido
