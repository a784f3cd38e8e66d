"""The panel in a real browser: Debian's headless Chromium, driven by Selenium, against a real server process.

Nothing is downloaded: the browser and its driver are the system packages
(``apt-get install chromium chromium-driver``), given to Selenium by path.
Without them the test is skipped, saying so; under CI (``CI`` set) it fails instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from soporte_mcp.admin import hash_clave
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Pago
from soporte_mcp.services.conciliacion import verificar_saldos
from tests._procesos import servidor_http
from tests.admin.test_admin import CLAVE, MARIA, SECRETO, USUARIO, cliente, filas_admin, id_de
from tests.admin.test_admin_idioma import ingles_en

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OPCIONES_CHROMIUM = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Wide enough for the panel's side menu not to collapse behind a toggle button.
    "--window-size=1280,900",
)
ESPERA_MAXIMA_S = 15


@contextmanager
def panel_en_marcha(db_url: str, carpeta: Path) -> Iterator[str]:
    """``soporte-mcp serve --transport http`` with the panel configured, ready; its base URL."""
    admin = {"SOPORTE_ADMIN_USER": USUARIO, "SOPORTE_ADMIN_PASSWORD_HASH": hash_clave(CLAVE),
             "SOPORTE_ADMIN_SECRET": SECRETO}
    with servidor_http(db_url, carpeta, variables=admin) as servidor:
        yield servidor.base


@pytest.fixture
def chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    faltan = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if faltan:
        motivo = f"no está {', '.join(faltan)}: ejecute `make navegador` como root o con sudo (apt, Chromium de Debian)"
        # The same rule as `make navegador` and the Inspector tests: CI set, and not 0/false.
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{motivo}; en CI no se permite saltar esta prueba")
        pytest.skip(motivo)
    # Belt and braces: with both paths given Selenium Manager is not consulted, and must never download.
    monkeypatch.setenv("SE_OFFLINE", "true")
    opciones = webdriver.ChromeOptions()
    opciones.binary_location = str(CHROMIUM)
    for opcion in (*OPCIONES_CHROMIUM, f"--user-data-dir={tmp_path / 'perfil'}"):
        opciones.add_argument(opcion)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opciones)
    driver.set_page_load_timeout(ESPERA_MAXIMA_S)
    try:
        yield driver
    finally:
        driver.quit()


def esperar(driver: WebDriver) -> WebDriverWait:
    return WebDriverWait(driver, ESPERA_MAXIMA_S, ignored_exceptions=(StaleElementReferenceException,))


def filas(driver: WebDriver) -> list[str]:
    return [fila.text for fila in driver.find_elements(By.CSS_SELECTOR, "table tbody tr")]


def test_an_operator_finds_maria_garcia_in_a_browser_and_registers_her_payment(
    chromium: WebDriver, db: Database, db_url: str, tmp_path: Path
) -> None:
    maria = id_de(db, MARIA)
    with panel_en_marcha(db_url, tmp_path) as base:
        chromium.get(f"{base}/admin/login")
        chromium.find_element(By.NAME, "username").send_keys(USUARIO)
        chromium.find_element(By.NAME, "password").send_keys(CLAVE, Keys.ENTER)
        esperar(chromium).until(ec.url_to_be(f"{base}/admin/"))

        chromium.find_element(By.PARTIAL_LINK_TEXT, "Clientes").click()
        esperar(chromium).until(ec.element_to_be_clickable((By.ID, "search-input"))).send_keys("María García",
                                                                                                 Keys.ENTER)
        esperar(chromium).until(lambda d: len(filas(d)) == 1 and "María García López" in filas(d)[0])
        fila = chromium.find_element(By.CSS_SELECTOR, "table tbody tr")
        fila.find_element(By.LINK_TEXT, "Ver pagos").click()

        titular = (By.ID, "pagos-cliente")
        esperar(chromium).until(ec.text_to_be_present_in_element(titular, "María García López"))
        assert chromium.find_element(By.ID, "pagos-saldo").text == "1250.00"
        chromium.find_element(By.ID, "registrar-pago").click()
        esperar(chromium).until(ec.element_to_be_clickable((By.ID, "monto"))).send_keys("25.50")
        Select(chromium.find_element(By.ID, "metodo_pago")).select_by_value("efectivo")
        chromium.find_element(By.ID, "descripcion").send_keys("Pago en ventanilla (panel)")
        chromium.find_element(By.ID, "guardar-pago").click()

        esperar(chromium).until(ec.text_to_be_present_in_element((By.ID, "pagos-saldo"), "1275.50"))
        assert any("25.50" in fila and "Pago en ventanilla (panel)" in fila for fila in filas(chromium))

    assert cliente(db, maria).saldo == Decimal("1275.50")
    with db.lectura() as conn:
        pago = conn.execute(
            select(Pago.__table__).where(Pago.cliente_id == maria).order_by(Pago.id.desc())
        ).first()
    assert (pago.monto, pago.metodo_pago, pago.descripcion, pago.procesado_por) == (
        Decimal("25.50"), "efectivo", "Pago en ventanilla (panel)", USUARIO)
    assert (pago.saldo_anterior, pago.saldo_posterior) == (Decimal("1250.00"), Decimal("1275.50"))
    (auditoria,) = filas_admin(db)
    assert (auditoria.tipo, auditoria.resultado, auditoria.usuario, auditoria.cliente_id) == (
        "pago", "ok", USUARIO, maria)
    assert auditoria.metadatos["pago_id"] == pago.id
    assert verificar_saldos(db=db) == []


def test_the_login_a_list_and_an_edit_read_in_spanish_in_a_browser_and_guardar_saves(
    chromium: WebDriver, db: Database, db_url: str, tmp_path: Path
) -> None:
    maria = id_de(db, MARIA)
    with panel_en_marcha(db_url, tmp_path) as base:
        chromium.get(f"{base}/admin/login")
        chromium.save_screenshot(str(tmp_path / "login.png"))
        assert chromium.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
        assert ingles_en(chromium.page_source) == []
        chromium.find_element(By.NAME, "username").send_keys(USUARIO)
        chromium.find_element(By.NAME, "password").send_keys(CLAVE, Keys.ENTER)
        esperar(chromium).until(ec.url_to_be(f"{base}/admin/"))

        chromium.get(f"{base}/admin/cliente/list?activo=true&pageSize=2")
        esperar(chromium).until(lambda d: len(filas(d)) == 2)
        chromium.save_screenshot(str(tmp_path / "lista.png"))
        assert re.search(r"Del 1 al 2 de \d+ registros", chromium.find_element(By.TAG_NAME, "body").text)
        assert ingles_en(chromium.page_source) == []

        chromium.get(f"{base}/admin/cliente/edit/{maria}")
        telefono = esperar(chromium).until(ec.element_to_be_clickable((By.NAME, "telefono")))
        chromium.save_screenshot(str(tmp_path / "editar.png"))
        assert ingles_en(chromium.page_source) == []
        telefono.clear()
        telefono.send_keys("+593 99 111 2222")
        chromium.find_element(By.CSS_SELECTOR, 'input[name="save"][value="Guardar"]').click()
        esperar(chromium).until(ec.url_contains("/admin/cliente/list"))
        assert ingles_en(chromium.page_source) == []

        chromium.find_element(By.PARTIAL_LINK_TEXT, "Cerrar sesión").click()
        esperar(chromium).until(ec.url_to_be(f"{base}/admin/login"))

    assert cliente(db, maria).telefono == "+593 99 111 2222"
