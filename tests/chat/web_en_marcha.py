"""``soporte-chat web`` as a real process for the browser tests, and the browsers that drive it.

The web chat starts the bundled soporte-mcp server over stdio on the test's database and
talks to the scripted model; Chromium is Debian's, driven by Selenium, nothing downloaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from soporte_mcp.chat.cli import main
from tests._procesos import HOST, detener, entorno, puerto_libre
from tests.admin.test_admin_navegador import CHROMEDRIVER, CHROMIUM, ESPERA_MAXIMA_S, OPCIONES_CHROMIUM
from tests.chat.conftest import CLAVE
from tests.chat.modelo_falso import ModeloFalso

ARRANQUE_MAXIMO_S = 30.0
USUARIA = "ana"
CONTRASENA = "clave-de-prueba-1"


@dataclass(frozen=True)
class ChatWeb:
    base: str
    carpeta: Path
    stderr: Path


def crear_cuenta(carpeta: Path, nombre: str = USUARIA, clave: str = CONTRASENA) -> None:
    r = CliRunner().invoke(main, ["web", "cuenta", "crear", nombre, "--data-dir", str(carpeta)],
                           input=f"{clave}\n{clave}\n", catch_exceptions=False)
    assert r.exit_code == 0, r.output


@contextmanager
def chat_web(db_url: str, modelo: ModeloFalso, carpeta: Path, *extra: str,
             entorno_extra: dict[str, str] | None = None) -> Iterator[ChatWeb]:
    """``soporte-chat web`` on a free loopback port with its data in ``carpeta``, ready to answer."""
    puerto = puerto_libre()
    carpeta.mkdir(parents=True, exist_ok=True)
    stderr = carpeta / f"web-{puerto}.stderr"
    env = entorno(db_url, SOPORTE_CHAT_BACKOFF="0.01", SOPORTE_CHAT_TIMEOUT="20") | {
        "OPENAI_API_KEY": CLAVE, "OPENAI_BASE_URL": modelo.url} | (entorno_extra or {})
    env.pop("OPENAI_MODEL", None)
    comando = [str(Path(sys.executable).parent / "soporte-chat"), "web", "--host", HOST, "--port", str(puerto),
               "--data-dir", str(carpeta), *extra]
    with stderr.open("wb") as err:
        proceso = subprocess.Popen(comando, env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                   start_new_session=True)
    web = ChatWeb(f"http://{HOST}:{puerto}", carpeta, stderr)
    try:
        _esperar(web, proceso)
        yield web
    finally:
        detener(proceso)


def _esperar(web: ChatWeb, proceso: subprocess.Popen[bytes]) -> None:
    limite = time.monotonic() + ARRANQUE_MAXIMO_S
    while time.monotonic() < limite:
        if proceso.poll() is not None:
            raise AssertionError(f"soporte-chat web terminó ({proceso.returncode}):\n{web.stderr.read_text()}")
        try:
            if httpx2.get(f"{web.base}/api/yo", timeout=1.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass  # not listening yet
        time.sleep(0.05)  # readiness poll interval, bounded by the deadline above
    raise AssertionError(f"soporte-chat web no arrancó en {ARRANQUE_MAXIMO_S} s:\n{web.stderr.read_text()}")


@contextmanager
def navegador(carpeta: Path, *, ancho: int = 1280, alto: int = 860) -> Iterator[WebDriver]:
    """A headless Chromium with its own profile (so its own cookies: its own browser session)."""
    faltan = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if faltan:
        motivo = f"no está {', '.join(faltan)}: instale Chromium (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(motivo)
        pytest.skip(motivo)
    os.environ["SE_OFFLINE"] = "true"  # both paths are given: Selenium Manager must never download
    opciones = webdriver.ChromeOptions()
    opciones.binary_location = str(CHROMIUM)
    for opcion in (*OPCIONES_CHROMIUM, f"--window-size={ancho},{alto}", f"--user-data-dir={carpeta}"):
        opciones.add_argument(opcion)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opciones)
    driver.set_page_load_timeout(ESPERA_MAXIMA_S)
    try:
        yield driver
    finally:
        driver.quit()

