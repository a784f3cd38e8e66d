"""/admin in a real browser: an operator reverses part of a payment and reads a ticket's history."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC  # noqa: N812

from soporte_mcp.db.engine import Database
from soporte_mcp.services.conciliacion import verificar_anulaciones, verificar_saldos
from tests.admin.test_admin import CLAVE, USUARIO, cliente
from tests.admin.test_admin_navegador import chromium, esperar, filas, panel_en_marcha  # noqa: F401  (chromium: a fixture)


def test_an_operator_reverses_part_of_a_payment_and_reads_a_tickets_history(
    chromium: WebDriver, db: Database, db_url: str, tmp_path: Path  # noqa: F811
) -> None:
    with panel_en_marcha(db_url, tmp_path) as base:
        chromium.get(f"{base}/admin/login")
        chromium.find_element(By.NAME, "username").send_keys(USUARIO)
        chromium.find_element(By.NAME, "password").send_keys(CLAVE, Keys.ENTER)
        esperar(chromium).until(EC.url_to_be(f"{base}/admin/"))

        chromium.get(f"{base}/admin/pago/list?cliente_id=4")
        esperar(chromium).until(lambda d: any("Abono a cuenta" in f for f in filas(d)))
        fila = next(f for f in chromium.find_elements(By.CSS_SELECTOR, "table tbody tr")
                    if f.find_elements(By.CSS_SELECTOR, "a[href*='pago_id=12']"))
        fila.find_element(By.LINK_TEXT, "Anular").click()
        esperar(chromium).until(EC.text_to_be_present_in_element((By.ID, "pago-reversible"), "250.00"))
        chromium.find_element(By.ID, "monto").send_keys("50")
        chromium.find_element(By.ID, "motivo").send_keys("Devolución al cliente <b>sin negrita</b>")
        chromium.save_screenshot(str(tmp_path / "anular.png"))
        chromium.find_element(By.ID, "guardar-anulacion").click()
        esperar(chromium).until(EC.url_contains("/admin/pago/list?cliente_id=4"))
        assert "2050.75" in chromium.page_source
        chromium.save_screenshot(str(tmp_path / "pagos.png"))

        chromium.get(f"{base}/admin/anulacion/list")
        esperar(chromium).until(lambda d: any("sin negrita" in f for f in filas(d)))
        assert any("Devolución al cliente <b>sin negrita</b>" in f for f in filas(chromium))  # text, not markup

        chromium.get(f"{base}/admin/ticket/details/4")
        chromium.find_element(By.LINK_TEXT, "Ver historial").click()
        esperar(chromium).until(lambda d: len(filas(d)) == 3)
        assert any("Teléfono actualizado" in f for f in filas(chromium))
        chromium.save_screenshot(str(tmp_path / "historial.png"))

    assert cliente(db, 4).saldo == Decimal("2050.75")
    assert verificar_saldos(db=db) == [] and verificar_anulaciones(db=db) == []
