"""The MCP Apps views in a real browser, inside a real host bridge, against a real server process.

A host page of our own (tests/vistas/anfitrion.js, bundled by ``make vistas-anfitrion`` with
the npm packages @modelcontextprotocol/ext-apps and @modelcontextprotocol/client) runs in
Debian's headless Chromium on the server's own origin: it connects an MCP client that declares
the Apps extension, reads the tool's ``ui://`` view, renders it in a sandboxed iframe and
drives it through ext-apps' ``AppBridge``.  The view's button calls go view → bridge → client →
``soporte-mcp serve`` → database, as in Claude or VS Code.

Without the bundle or the browser the tests are skipped, saying so; under CI they fail instead.
``SOPORTE_CAPTURAS=docs/img`` (``make capturas``) also writes the README's screenshots there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select
from sqlalchemy import func, insert, select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, HistorialAccion, Pago, Ticket
from soporte_mcp.services.texto import texto_busqueda
from tests._procesos import servidor_http
from tests.admin.test_admin import MARIA, cliente, id_de
from tests.admin.test_admin_navegador import chromium, esperar  # noqa: F401 - the fixture, shared
from tests.conftest import call, ok

RAIZ = Path(__file__).resolve().parents[2]
ANFITRION = RAIZ / ".tools" / "ext-apps" / "anfitrion.js"
HOSTIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def anfitrion() -> str:
    if not ANFITRION.exists():
        motivo = f"no está {ANFITRION.relative_to(RAIZ)}: ejecute `make vistas-anfitrion` (npm)"
        if os.environ.get("CI"):
            pytest.fail(motivo)
        pytest.skip(motivo)
    return ANFITRION.read_text(encoding="utf-8")


@pytest.fixture
def servidor(db: Database, db_url: str, tmp_path: Path) -> Iterator[str]:
    """``soporte-mcp serve --transport http`` on the demo database; its base URL."""
    with servidor_http(db_url, tmp_path) as proceso:
        yield proceso.base


@pytest.fixture
def capturas(tmp_path: Path) -> Path:
    carpeta = os.environ.get("SOPORTE_CAPTURAS")
    destino = (RAIZ / carpeta) if carpeta else tmp_path / "capturas"
    destino.mkdir(parents=True, exist_ok=True)
    return destino


def abrir_vista(
    driver: WebDriver,
    base: str,
    anfitrion: str,
    herramienta: str,
    argumentos: dict[str, Any],
    tema: str = "light",
    resultado: dict[str, Any] | None = None,
) -> None:
    """Load the host page on the server's origin, open the tool's view in it, and switch into the view."""
    driver.get(f"{base}/health/live")
    driver.execute_script(anfitrion)
    resultado = driver.execute_async_script(
        "const listo = arguments[arguments.length - 1];"
        "abrirVista(arguments[0]).then(listo, (e) => listo('ERROR ' + (e && e.stack || e)));",
        {"herramienta": herramienta, "argumentos": argumentos, "tema": tema, "resultado": resultado},
    )
    assert resultado == "ok", resultado
    driver.switch_to.frame(driver.find_element(By.ID, "vista"))


def texto_de(driver: WebDriver, id_: str) -> str:
    return driver.find_element(By.ID, id_).text


def esperar_texto(driver: WebDriver, id_: str, valor: str) -> None:
    esperar(driver).until(lambda d: texto_de(d, id_) == valor, f"#{id_} != {valor!r}")


def capturar(driver: WebDriver, carpeta: Path, nombre: str) -> None:
    """A PNG of the view's iframe as the host shows it (after its size-changed has been applied)."""
    driver.switch_to.default_content()
    vista = driver.find_element(By.ID, "vista")
    esperar(driver).until(lambda d: vista.size["height"] > 220)
    # An element is captured only as far as the window shows it: make room for the whole view.
    driver.set_window_size(1280, max(900, vista.location["y"] + vista.size["height"] + 200))
    vista.screenshot(str(carpeta / nombre))
    driver.switch_to.frame(vista)


def no_hay_alerta(driver: WebDriver) -> bool:
    return ec.alert_is_present()(driver) is False


def contar(db: Database, modelo: Any, *condiciones: Any) -> int:
    with db.lectura() as conn:
        return conn.execute(select(func.count()).select_from(modelo).where(*condiciones)).scalar_one()


def test_the_card_shows_the_exact_balance_and_a_double_clicked_payment_is_registered_once(
    chromium: WebDriver,  # noqa: F811 - the fixture imported above
    db: Database,
    servidor: str,
    anfitrion: str,
    capturas: Path,
) -> None:
    maria = id_de(db, MARIA)
    pagos_antes = contar(db, Pago, Pago.cliente_id == maria)
    llamadas_antes = contar(db, HistorialAccion, HistorialAccion.herramienta == "registrarPago")
    abrir_vista(chromium, servidor, anfitrion, "consultarSaldo", {"clienteId": maria})

    esperar_texto(chromium, "ficha-nombre", "María García López")
    assert texto_de(chromium, "ficha-saldo") == "1250.00"
    assert texto_de(chromium, "ficha-email") == MARIA
    assert texto_de(chromium, "ficha-estado") == "Activo"
    filas = chromium.find_elements(By.CSS_SELECTOR, "#ficha-pagos tr")
    assert [f.find_element(By.CSS_SELECTOR, "td.monto").text for f in filas] == ["150.00", "300.00", "500.00"]
    capturar(chromium, capturas, "vista-cliente.png")

    chromium.find_element(By.ID, "registrar-pago").click()
    monto = esperar(chromium).until(ec.element_to_be_clickable((By.ID, "pago-monto")))
    assert chromium.switch_to.active_element == monto  # the form opens with the focus on the amount
    monto.send_keys("25.50")
    Select(chromium.find_element(By.ID, "pago-metodo")).select_by_value("efectivo")
    chromium.find_element(By.ID, "pago-descripcion").send_keys("Pago en ventanilla (vista)")
    ActionChains(chromium).double_click(chromium.find_element(By.ID, "pago-registrar")).perform()

    esperar_texto(chromium, "ficha-saldo", "1275.50")
    assert "saldo nuevo 1275.50" in texto_de(chromium, "ficha-aviso")
    assert chromium.find_element(By.CSS_SELECTOR, "#ficha-pagos tr td.monto").text == "25.50"

    assert contar(db, Pago, Pago.cliente_id == maria) == pagos_antes + 1
    assert cliente(db, maria).saldo == Decimal("1275.50")
    # One call reached the server: the second click found the button disabled.
    assert contar(db, HistorialAccion, HistorialAccion.herramienta == "registrarPago") == llamadas_antes + 1
    with db.lectura() as conn:
        pago = conn.execute(
            select(Pago.__table__).where(Pago.cliente_id == maria).order_by(Pago.id.desc())
        ).first()
    assert (pago.monto, pago.metodo_pago, pago.descripcion) == (
        Decimal("25.50"),
        "efectivo",
        "Pago en ventanilla (vista)",
    )


def test_the_card_in_dark_shows_the_servers_refusal_of_a_bad_amount_and_nothing_is_paid(
    chromium: WebDriver,  # noqa: F811 - the fixture imported above
    db: Database,
    servidor: str,
    anfitrion: str,
    capturas: Path,
) -> None:
    maria = id_de(db, MARIA)
    pagos_antes = contar(db, Pago)
    abrir_vista(chromium, servidor, anfitrion, "consultarSaldo", {"clienteId": maria}, tema="dark")
    esperar_texto(chromium, "ficha-saldo", "1250.00")
    chromium.find_element(By.ID, "registrar-pago").click()
    esperar(chromium).until(ec.element_to_be_clickable((By.ID, "pago-monto"))).send_keys("12,50", Keys.ENTER)

    # The amount's rules live in the server: its Spanish refusal is shown, with the focus back on the amount.
    esperar(chromium).until(lambda d: "12,50" in texto_de(d, "pago-error"))
    assert chromium.switch_to.active_element == chromium.find_element(By.ID, "pago-monto")
    assert texto_de(chromium, "ficha-saldo") == "1250.00"
    assert contar(db, Pago) == pagos_antes
    assert cliente(db, maria).saldo == Decimal("1250.00")
    assert chromium.execute_script("return document.documentElement.dataset.tema") == "dark"
    capturar(chromium, capturas, "vista-cliente-oscuro.png")


@pytest.mark.parametrize("tema", ["light", "dark"])
def test_the_search_list_shows_each_customer_with_the_exact_balance(
    chromium: WebDriver,  # noqa: F811 - the fixture imported above
    servidor: str,
    anfitrion: str,
    capturas: Path,
    tema: str,
) -> None:
    abrir_vista(chromium, servidor, anfitrion, "buscarCliente", {"query": "empresa"}, tema=tema)

    esperar(chromium).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#lista .fila")) == 2)
    filas = {
        f.find_element(By.CSS_SELECTOR, ".nombre").text: f.find_element(
            By.CSS_SELECTOR, ".importe .valor"
        ).text
        for f in chromium.find_elements(By.CSS_SELECTOR, ".fila")
    }
    assert filas == {"Juan Carlos Pérez": "850.50", "Roberto González Vega": "3200.00"}
    assert "«empresa»" in texto_de(chromium, "resultados-titulo")
    capturar(chromium, capturas, f"vista-busqueda{'-oscuro' if tema == 'dark' else ''}.png")


def test_choosing_a_customer_in_the_search_list_shows_the_card_and_a_new_ticket_is_opened_once(
    chromium: WebDriver,  # noqa: F811 - the fixture imported above
    db: Database,
    servidor: str,
    anfitrion: str,
) -> None:
    maria = id_de(db, MARIA)
    tickets_antes = contar(db, Ticket)
    abrir_vista(chromium, servidor, anfitrion, "buscarCliente", {"query": "maria garcia"})
    fila = esperar(chromium).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f".fila[data-cliente='{maria}']"))
    )
    assert "1250.00" in fila.text
    fila.click()
    esperar_texto(chromium, "ficha-nombre", "María García López")
    assert texto_de(chromium, "ficha-saldo") == "1250.00"
    assert chromium.switch_to.active_element == chromium.find_element(By.ID, "ficha-nombre")

    # With the keyboard alone: Enter opens the form in its first field, Esc closes it and goes back.
    boton = chromium.find_element(By.ID, "nuevo-ticket")
    boton.send_keys(Keys.ENTER)
    titulo = esperar(chromium).until(ec.element_to_be_clickable((By.ID, "ticket-titulo")))
    assert chromium.switch_to.active_element == titulo
    titulo.send_keys(Keys.ESCAPE)
    assert not titulo.is_displayed() and chromium.switch_to.active_element == boton
    boton.send_keys(Keys.ENTER)
    esperar(chromium).until(ec.element_to_be_clickable((By.ID, "ticket-titulo"))).send_keys(
        "No llega la factura"
    )
    chromium.find_element(By.ID, "ticket-descripcion").send_keys(
        "La clienta no recibió la factura de noviembre."
    )
    Select(chromium.find_element(By.ID, "ticket-prioridad")).select_by_value("alta")
    chromium.find_element(By.ID, "ticket-crear").click()

    esperar(chromium).until(lambda d: "creado: No llega la factura" in texto_de(d, "ficha-aviso"))
    assert contar(db, Ticket) == tickets_antes + 1
    with db.lectura() as conn:
        ticket = conn.execute(select(Ticket.__table__).order_by(Ticket.id.desc())).first()
    assert (ticket.cliente_id, ticket.titulo, ticket.prioridad, ticket.estado) == (
        maria,
        "No llega la factura",
        "alta",
        "abierto",
    )
    assert f"#{ticket.id:06d}" in texto_de(chromium, "ficha-aviso")

    chromium.find_element(By.ID, "volver").click()
    assert chromium.find_element(By.ID, "resultados").is_displayed()


def test_a_hostile_customer_name_is_shown_as_text_and_runs_nothing(
    chromium: WebDriver,  # noqa: F811 - the fixture imported above
    db: Database,
    servidor: str,
    anfitrion: str,
) -> None:
    with db.escritura() as conn:
        hostil = conn.execute(
            insert(Cliente.__table__)
            .values(
                nombre=HOSTIL,
                email="hostil@ejemplo.com",
                telefono="<b>0</b>",
                saldo=Decimal("10.00"),
                saldo_inicial=Decimal("10.00"),
                activo=True,
                busqueda=texto_busqueda(HOSTIL, "hostil@ejemplo.com"),
            )
            .returning(Cliente.__table__.c.id)
        ).scalar_one()

    abrir_vista(chromium, servidor, anfitrion, "consultarSaldo", {"clienteId": hostil})
    esperar_texto(chromium, "ficha-nombre", HOSTIL)
    assert texto_de(chromium, "ficha-telefono") == "<b>0</b>"
    assert chromium.find_elements(By.CSS_SELECTOR, "img, b") == []
    chromium.switch_to.default_content()
    assert no_hay_alerta(chromium)

    abrir_vista(chromium, servidor, anfitrion, "buscarCliente", {"query": "hostil@ejemplo.com"})
    fila = esperar(chromium).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f".fila[data-cliente='{hostil}']"))
    )
    assert fila.find_element(By.CSS_SELECTOR, ".nombre").text == HOSTIL
    assert chromium.find_elements(By.CSS_SELECTOR, "img") == []
    chromium.switch_to.default_content()
    assert no_hay_alerta(chromium)


@pytest.mark.anyio
@pytest.mark.parametrize("tema", ["light", "dark"])
async def test_the_dashboard_shows_the_tools_figures_and_a_bar_per_ticket_state(
    chromium: WebDriver,  # noqa: F811 - the fixture imported above
    client: Client,
    servidor: str,
    anfitrion: str,
    capturas: Path,
    tema: str,
) -> None:
    cifras = ok(await call(client, "estadisticas"))
    abrir_vista(chromium, servidor, anfitrion, "estadisticas", {}, tema=tema)

    esperar_texto(chromium, "clientes-total", str(cifras["clientes"]["total"]))
    assert texto_de(chromium, "pagos-total") == cifras["pagos"]["hoy_total"]
    assert texto_de(chromium, "pagos-cantidad") == f"{cifras['pagos']['hoy_cantidad']} pagos"
    assert texto_de(chromium, "clientes-positivo") == str(cifras["clientes"]["con_saldo_positivo"])
    barras = {
        li.get_attribute("data-estado"): li.find_element(By.CSS_SELECTOR, ".valor").text
        for li in chromium.find_elements(By.CSS_SELECTOR, "#barras li")
    }
    t = cifras["tickets"]
    assert barras == {k: str(v) for k, v in t.items() if k != "total"}
    assert chromium.execute_script("return document.documentElement.dataset.tema") == tema
    capturar(chromium, capturas, f"vista-panel{'-oscuro' if tema == 'dark' else ''}.png")


@pytest.mark.anyio
async def test_reversals_in_the_shape_issue_9_gives_consultar_saldo_are_shown_on_the_card_as_text(
    chromium: WebDriver,  # noqa: F811 - the fixture imported above
    client: Client,
    db: Database,
    servidor: str,
    anfitrion: str,
) -> None:
    maria = id_de(db, MARIA)
    datos = ok(await call(client, "consultarSaldo", {"clienteId": maria}))
    # Today's answer plus what issue 9 adds: movements of type "anulacion" and totals in the summary.
    datos["ultimos_movimientos"] = [
        {
            "tipo": "anulacion",
            "id": 1,
            "pago_id": 3,
            "monto": "50.00",
            "descripcion": HOSTIL,
            "fecha": "2026-11-30T18:00:00Z",
        },
        {
            "tipo": "pago",
            "id": 3,
            "pago_id": 3,
            "monto": "150.00",
            "descripcion": "Pago en ventanilla",
            "fecha": "2026-11-30T15:00:00Z",
        },
    ]
    datos["resumen"] |= {"anulaciones_total": 1, "total_anulado": "50.00"}
    posterior = {"content": [{"type": "text", "text": json.dumps(datos)}], "structuredContent": datos}
    abrir_vista(chromium, servidor, anfitrion, "consultarSaldo", {"clienteId": maria}, resultado=posterior)

    esperar_texto(chromium, "ficha-saldo", "1250.00")
    (fila,) = chromium.find_elements(By.CSS_SELECTOR, "#ficha-anulaciones-filas tr")
    assert [td.text for td in fila.find_elements(By.TAG_NAME, "td")][1:] == ["Pago 3", HOSTIL, "50.00"]
    assert texto_de(chromium, "ficha-resumen").endswith("Anulado: 50.00 (1)")
    assert chromium.find_elements(By.CSS_SELECTOR, "img") == []
