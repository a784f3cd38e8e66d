"""The web chat in a real browser: headless Chromium against ``soporte-chat web``, the scripted model
and the real bundled server over stdio on a seeded database."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from soporte_mcp.db.engine import Database
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.ficha_cliente import crear_cliente
from tests.admin.test_admin_navegador import esperar
from tests.chat.conftest import saldo
from tests.chat.modelo_falso import Colgar, Llamadas, ModeloFalso, Texto
from tests.chat.servidor_con_vista import servidor_con_vista
from tests.chat.servidor_que_pregunta import servidor_que_pregunta
from tests.chat.web_en_marcha import CONTRASENA, USUARIA, ChatWeb, chat_web, crear_cuenta, navegador
from tests.conftest import audit_rows, business_state

PREGUNTA = "Busca a María García y dime su saldo"
PAGO = Llamadas([("registrarPago", {"clienteId": 2, "monto": 500})])
HOSTIL = "<img src=x onerror=alert(1)>"


@pytest.fixture
def web_abierto(db: Database, db_url: str, modelo: ModeloFalso, tmp_path: Path) -> Iterator[ChatWeb]:
    """The web chat on loopback without accounts: no login, one anonymous session per browser."""
    with chat_web(db_url, modelo, tmp_path / "datos") as chat:
        yield chat


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WebDriver]:
    with navegador(tmp_path / "perfil") as driver:
        yield driver


def entrar(driver: WebDriver, base: str, usuario: str = USUARIA, clave: str = CONTRASENA) -> None:
    driver.get(f"{base}/")
    esperar(driver).until(ec.visibility_of_element_located((By.ID, "usuario"))).send_keys(usuario)
    driver.find_element(By.ID, "clave").send_keys(clave, Keys.ENTER)
    esperar(driver).until(ec.visibility_of_element_located((By.ID, "entrada")))


def preguntar(driver: WebDriver, texto: str) -> None:
    esperar(driver).until(ec.element_to_be_clickable((By.ID, "entrada"))).send_keys(texto, Keys.ENTER)


def esperar_fin(driver: WebDriver) -> None:
    """Until the answer is over (the Enviar button is back)."""
    esperar(driver).until(ec.visibility_of_element_located((By.ID, "enviar")))


def respuestas(driver: WebDriver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#mensajes .mensaje.asistente")]


def tarjetas(driver: WebDriver) -> list[tuple[str, str, str]]:
    """(tool, state, short result) of every tool card."""
    return [(t.find_element(By.CSS_SELECTOR, ".herramienta").text, t.get_attribute("data-estado"),
             t.find_element(By.CSS_SELECTOR, ".resultado").text)
            for t in driver.find_elements(By.CSS_SELECTOR, "#mensajes .tarjeta")]


def sin_alerta(driver: WebDriver) -> bool:
    try:
        driver.switch_to.alert  # noqa: B018  (raises when no alert is open)
    except NoAlertPresentException:
        return True
    return False


def test_an_agent_logs_in_asks_for_maria_garcia_and_sees_two_tool_cards_and_the_answer(
    web: ChatWeb, modelo: ModeloFalso, chromium: WebDriver
) -> None:
    modelo.guionar(
        Llamadas([("buscarCliente", {"query": "María García"})]),
        Llamadas([("consultarSaldo", {"clienteId": 1})]),
        Texto(lambda p: f"**María García López** tiene un saldo de ${p.resultado()['saldo']}.", trozos=4),
    )
    entrar(chromium, web.base)

    preguntar(chromium, PREGUNTA)

    esperar(chromium).until(lambda d: respuestas(d) == ["María García López tiene un saldo de $1250.00."])
    esperar_fin(chromium)
    (buscar, consultar) = tarjetas(chromium)
    assert buscar[:2] == ("buscarCliente", "ok") and "María García López" in buscar[2]
    assert consultar[:2] == ("consultarSaldo", "ok") and '"saldo": "1250.00"' in consultar[2]
    negrita = chromium.find_element(By.CSS_SELECTOR, "#mensajes .mensaje.asistente strong")
    assert negrita.text == "María García López"
    assert chromium.find_element(By.CSS_SELECTOR, "#conversaciones .actual .titulo").text == PREGUNTA
    assert modelo.peticiones[0].mensajes[-1] == {"role": "user", "content": PREGUNTA}


def test_the_answer_streams_in_and_detener_stops_it_keeping_the_conversation(
    web: ChatWeb, modelo: ModeloFalso, chromium: WebDriver
) -> None:
    modelo.guionar(Colgar("María García López tiene"), Texto("Sigo aquí."))
    entrar(chromium, web.base)

    preguntar(chromium, PREGUNTA)

    # The first words are on the page while the model is still writing: streamed, not at the end.
    esperar(chromium).until(lambda d: respuestas(d) == ["María García López tiene"])
    assert chromium.find_element(By.ID, "detener").is_displayed()
    chromium.find_element(By.ID, "entrada").send_keys(Keys.ESCAPE)
    esperar(chromium).until(ec.text_to_be_present_in_element((By.ID, "mensajes"), "Respuesta detenida"))
    esperar_fin(chromium)
    preguntar(chromium, "¿Sigue ahí?")
    esperar(chromium).until(lambda d: respuestas(d)[-1:] == ["Sigo aquí."])
    segunda = modelo.peticiones[1].mensajes
    assert {"role": "assistant", "content": "María García López tiene"} in segunda  # what was said is kept


def test_an_approved_payment_is_written_and_a_rejected_one_writes_nothing_and_both_survive_a_reload(
    db: Database, db_url: str, modelo: ModeloFalso, chromium: WebDriver, tmp_path: Path
) -> None:
    # A server that does not confirm payments itself: the chat's Aprobar/Rechazar is the confirmation.
    crear_cuenta(tmp_path / "datos")
    with chat_web(db_url, modelo, tmp_path / "datos", entorno_extra={"SOPORTE_CONFIRMAR_PAGOS": "nunca"}) as web:
        _pago_aprobado_y_pago_rechazado(web, modelo, chromium, db)


def _pago_aprobado_y_pago_rechazado(web: ChatWeb, modelo: ModeloFalso, chromium: WebDriver, db: Database) -> None:
    modelo.guionar(PAGO, Texto(lambda p: f"Pago registrado. Nuevo saldo: ${p.resultado()['saldo_nuevo']}"),
                   PAGO, Texto("De acuerdo, no registro el pago."))
    entrar(chromium, web.base)

    preguntar(chromium, "Registra un pago de $500 para el cliente 2")
    aprobar = esperar(chromium).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".tarjeta .aprobar")))
    tarjeta = chromium.find_element(By.CSS_SELECTOR, ".tarjeta")
    assert json.loads(tarjeta.find_element(By.CSS_SELECTOR, ".argumentos").text) == {"clienteId": 2, "monto": 500}
    assert saldo(db, 2) == Decimal("850.50")  # nothing runs before the click
    aprobar.click()
    esperar(chromium).until(lambda d: respuestas(d) == ["Pago registrado. Nuevo saldo: $1350.50"])

    assert saldo(db, 2) == Decimal("1350.50")
    pago = audit_rows(db)[-1]
    assert (pago.herramienta, pago.resultado, pago.cliente_id) == ("registrarPago", "ok", 2)
    antes = business_state(db)

    esperar_fin(chromium)
    preguntar(chromium, "Registra otro pago de $500 para el cliente 2")
    esperar(chromium).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".tarjeta:last-of-type .rechazar"))).click()
    esperar(chromium).until(lambda d: respuestas(d)[-1:] == ["De acuerdo, no registro el pago."])

    assert business_state(db) == antes
    assert modelo.peticiones[3].resultados()[0].startswith("El usuario no autorizó ejecutar registrarPago")
    estados = [estado for _, estado, _ in tarjetas(chromium)]
    assert estados == ["ok", "rechazada"]

    chromium.refresh()
    esperar(chromium).until(lambda d: len(respuestas(d)) == 2)
    assert respuestas(chromium) == ["Pago registrado. Nuevo saldo: $1350.50", "De acuerdo, no registro el pago."]
    assert [estado for _, estado, _ in tarjetas(chromium)] == ["ok", "rechazada"]
    usuario = [e.text for e in chromium.find_elements(By.CSS_SELECTOR, "#mensajes .mensaje.usuario")]
    assert usuario == ["Registra un pago de $500 para el cliente 2", "Registra otro pago de $500 para el cliente 2"]


def test_a_payment_our_server_confirms_is_asked_once_in_its_form_in_the_page_not_with_aprobar(
    web: ChatWeb, modelo: ModeloFalso, chromium: WebDriver, db: Database
) -> None:
    modelo.guionar(PAGO, Texto(lambda p: f"Resultado: {p.resultados()[-1][:40]}"),
                   PAGO, Texto(lambda p: f"Resultado: {p.resultados()[-1][:40]}"))
    entrar(chromium, web.base)

    preguntar(chromium, "Registra un pago de $500 para el cliente 2")
    form = esperar(chromium).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "form.formulario")))
    assert "500.00" in form.find_element(By.CSS_SELECTOR, ".pregunta").text
    assert chromium.find_elements(By.CSS_SELECTOR, ".tarjeta .aprobar") == []  # asked once: by the server
    assert saldo(db, 2) == Decimal("850.50")
    form.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    form.find_element(By.CSS_SELECTOR, "button[data-accion=accept]").click()
    esperar(chromium).until(lambda d: len(respuestas(d)) == 1)
    assert saldo(db, 2) == Decimal("1350.50")
    antes = business_state(db)

    esperar_fin(chromium)
    preguntar(chromium, "Registra otro pago de $500 para el cliente 2")
    esperar(chromium).until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, "form.formulario:not(.respondido) button[data-accion=decline]"))).click()
    esperar(chromium).until(lambda d: len(respuestas(d)) == 2)
    assert business_state(db) == antes
    assert [(h, e) for h, e, _ in tarjetas(chromium)] == [("registrarPago", "ok"), ("registrarPago", "error")]


def test_a_second_browser_session_does_not_see_the_first_ones_conversations(
    web: ChatWeb, modelo: ModeloFalso, chromium: WebDriver, tmp_path: Path
) -> None:
    modelo.guionar(Texto("Hola, ¿en qué le ayudo?"))
    crear_cuenta(web.carpeta, "beto", "otra-clave-de-prueba")
    entrar(chromium, web.base)
    preguntar(chromium, "Hola")
    esperar(chromium).until(lambda d: respuestas(d) == ["Hola, ¿en qué le ayudo?"])
    ident = chromium.execute_script("return sessionStorage.getItem('conversacion')")

    with navegador(tmp_path / "perfil-2") as otro:
        entrar(otro, web.base, "beto", "otra-clave-de-prueba")
        esperar(otro).until(ec.visibility_of_element_located((By.ID, "sin-conversaciones")))
        assert otro.find_elements(By.CSS_SELECTOR, "#conversaciones li") == []
        estado = otro.execute_script(
            "return fetch('/api/conversaciones/' + arguments[0]).then(r => r.status)", ident)
        assert estado == 404


def test_without_accounts_on_loopback_each_browser_has_its_own_private_conversations(
    web_abierto: ChatWeb, modelo: ModeloFalso, chromium: WebDriver, tmp_path: Path
) -> None:
    modelo.guionar(Texto("Hola."))
    chromium.get(f"{web_abierto.base}/")
    preguntar(chromium, "Hola")
    esperar(chromium).until(lambda d: respuestas(d) == ["Hola."])
    assert len(chromium.find_elements(By.CSS_SELECTOR, "#conversaciones li")) == 1

    with navegador(tmp_path / "perfil-2") as otro:
        otro.get(f"{web_abierto.base}/")
        esperar(otro).until(ec.visibility_of_element_located((By.ID, "sin-conversaciones")))
        assert otro.find_elements(By.CSS_SELECTOR, "#conversaciones li") == []


def test_a_hostile_customer_name_and_a_script_in_the_answer_render_as_text(
    web: ChatWeb, modelo: ModeloFalso, chromium: WebDriver, db: Database
) -> None:
    crear_cliente(db=db, llamada=Llamada(herramienta="test"), nombre=HOSTIL, email="hostil@example.com")
    modelo.guionar(
        Llamadas([("buscarCliente", {"query": "onerror"})]),
        Texto(lambda p: f"Encontré a {p.resultado()['clientes'][0]['nombre']} <script>alert(2)</script> "
                        "[pulse aquí](javascript:alert(3))"),
    )
    entrar(chromium, web.base)

    preguntar(chromium, f"Busca a {HOSTIL}")
    esperar(chromium).until(lambda d: len(respuestas(d)) == 1)
    esperar_fin(chromium)

    for _ in range(2):  # as streamed, and as drawn again from the stored conversation
        (respuesta,) = respuestas(chromium)
        assert respuesta == f"Encontré a {HOSTIL} <script>alert(2)</script> [pulse aquí](javascript:alert(3))"
        assert HOSTIL in tarjetas(chromium)[0][2]
        assert chromium.find_element(By.CSS_SELECTOR, "#mensajes .mensaje.usuario").text == f"Busca a {HOSTIL}"
        assert chromium.find_elements(By.CSS_SELECTOR, "#mensajes img, #mensajes script, #mensajes a") == []
        assert sin_alerta(chromium)
        chromium.refresh()
        esperar(chromium).until(lambda d: len(respuestas(d)) == 1)


def test_a_wrong_password_is_refused_in_the_page(web: ChatWeb, chromium: WebDriver) -> None:
    chromium.get(f"{web.base}/")
    esperar(chromium).until(ec.visibility_of_element_located((By.ID, "usuario"))).send_keys(USUARIA)
    chromium.find_element(By.ID, "clave").send_keys("no-es-la-clave", Keys.ENTER)

    aviso = esperar(chromium).until(ec.visibility_of_element_located((By.ID, "login-error")))
    assert aviso.text == "Usuario o contraseña incorrectos."
    assert not chromium.find_element(By.ID, "vista-chat").is_displayed()


@pytest.mark.skipif(not os.environ.get("SOPORTE_CAPTURAS"), reason="solo para rehacer las capturas del README "
                    "(SOPORTE_CAPTURAS=docs/img)")
def test_capturas_del_readme(web: ChatWeb, modelo: ModeloFalso, chromium: WebDriver) -> None:
    carpeta = Path(os.environ["SOPORTE_CAPTURAS"])
    modelo.guionar(
        Llamadas([("buscarCliente", {"query": "María García"})]),
        Llamadas([("consultarSaldo", {"clienteId": 1})]),
        Texto(lambda p: "Encontré a **María García López** (cliente 1):\n\n"
                        "| Dato | Valor |\n|---|---|\n"
                        f"| Saldo | ${p.resultado()['saldo']} |\n"
                        f"| Email | {p.resultado()['cliente']['email']} |\n"
                        f"| Tickets abiertos | {p.resultado()['resumen']['tickets_abiertos']} |\n\n"
                        "¿Desea registrar un pago o abrir un ticket?"),
        Llamadas([("registrarPago", {"clienteId": 1, "monto": 150, "metodoPago": "efectivo"})]),
        Texto("Pago registrado."),
    )
    entrar(chromium, web.base)
    preguntar(chromium, PREGUNTA)
    esperar(chromium).until(lambda d: len(respuestas(d)) == 1)
    esperar_fin(chromium)
    preguntar(chromium, "Registra un pago de $150 en efectivo para ella")
    # soporte-mcp confirms payments itself: its form is what the agent answers.
    form = esperar(chromium).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "form.formulario")))
    chromium.save_screenshot(str(carpeta / "chat-web-portatil.png"))
    chromium.set_window_size(390, 844)
    chromium.execute_script("document.getElementById('mensajes').scrollTop = 1e9")
    chromium.save_screenshot(str(carpeta / "chat-web-movil.png"))
    form.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    form.find_element(By.CSS_SELECTOR, "button[data-accion=accept]").click()
    esperar_fin(chromium)


@contextmanager
def cobro_que_pregunta(db_url: str, modelo: ModeloFalso, chromium: WebDriver, carpeta: Path) -> Iterator[None]:
    """The web chat with a server whose tool asks for a form; the agent has just asked for the charge."""
    modelo.guionar(Llamadas([("cobrar", {"monto": "25.00"})]), Texto(lambda p: f"Resultado: {p.resultados()[-1]}"))
    with servidor_que_pregunta() as url, chat_web(db_url, modelo, carpeta, "--server", url) as web:
        chromium.get(f"{web.base}/")
        preguntar(chromium, "Cobra 25 dólares")
        yield


def test_a_servers_form_shows_in_the_page_and_the_answer_goes_back_to_the_tool(
    db_url: str, modelo: ModeloFalso, chromium: WebDriver, tmp_path: Path
) -> None:
    with cobro_que_pregunta(db_url, modelo, chromium, tmp_path / "datos"):
        form = esperar(chromium).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "form.formulario")))
        assert form.find_element(By.CSS_SELECTOR, ".pregunta").text == "¿Confirma el cobro de $25.00?"
        etiquetas = [e.text for e in form.find_elements(By.TAG_NAME, "label")]
        assert etiquetas == ["Confirmo el cobro *", "Referencia *", "Método *"]
        form.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
        form.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys("R-77")
        Select(form.find_element(By.TAG_NAME, "select")).select_by_value("tarjeta")
        form.find_element(By.CSS_SELECTOR, "button[data-accion=accept]").click()

        esperar(chromium).until(lambda d: len(respuestas(d)) == 1)
        assert respuestas(chromium) == ["Resultado: aceptado: confirmo=True referencia=R-77 metodo=tarjeta"]
        assert "aceptado" in form.text


def test_a_declined_form_reaches_the_tool_as_declined(
    db_url: str, modelo: ModeloFalso, chromium: WebDriver, tmp_path: Path
) -> None:
    with cobro_que_pregunta(db_url, modelo, chromium, tmp_path / "datos"):
        esperar(chromium).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "button[data-accion=decline]"))).click()

        esperar(chromium).until(lambda d: len(respuestas(d)) == 1)
        assert respuestas(chromium) == ["Resultado: sin cobrar: DeclinedElicitation"]


def test_a_tool_with_an_mcp_app_shows_its_view_in_a_sandboxed_iframe_under_its_card(
    db_url: str, modelo: ModeloFalso, chromium: WebDriver, tmp_path: Path
) -> None:
    # The model is still writing when the view loads: the card is not saved yet, the view must show all the same.
    modelo.guionar(Llamadas([("ficha", {"nombre": HOSTIL})]), Colgar("Aquí tiene la ficha"))
    with servidor_con_vista() as url, chat_web(db_url, modelo, tmp_path / "datos", "--server", url) as web:
        chromium.get(f"{web.base}/")
        preguntar(chromium, "Muéstrame la ficha")

        marco = esperar(chromium).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".tarjeta iframe.vista-app")))
        assert marco.get_attribute("sandbox") == "allow-scripts allow-forms"
        chromium.switch_to.frame(marco)
        extra = esperar(chromium).until(ec.visibility_of_element_located((By.ID, "extra")))
        esperar(chromium).until(lambda d: extra.text.startswith("Saldo:"))
        assert chromium.find_element(By.ID, "t").text == f"Cliente: {HOSTIL}"
        assert extra.text == ("Saldo: 1250.00 | pagar: pagar modifica datos: pídalo en el chat, donde se confirma "
                              "antes de ejecutarse.")
        assert chromium.execute_script("try { return document.cookie; } catch (e) { return 'opaco'; }") == "opaco"
        chromium.switch_to.default_content()
        esperar(chromium).until(lambda d: marco.size["height"] == 123 + 2)  # what it asked for, and the border
        assert respuestas(chromium) == ["Aquí tiene la ficha"]
        assert chromium.find_element(By.ID, "detener").is_displayed()
        assert sin_alerta(chromium)
        # Even opened by itself (not framed), the view runs sandboxed, never as this site.
        politica = chromium.execute_script(
            "return fetch(arguments[0]).then(r => r.headers.get('content-security-policy'))",
            marco.get_attribute("src"))
        assert politica.startswith("sandbox allow-scripts allow-forms; form-action 'none';")
        assert "connect-src" not in politica


def test_our_servers_customer_card_shows_under_consultarsaldo_and_its_payment_button_is_sent_to_the_chat(
    web: ChatWeb, modelo: ModeloFalso, chromium: WebDriver, db: Database
) -> None:
    modelo.guionar(Llamadas([("consultarSaldo", {"clienteId": 1})]), Texto("Aquí tiene la ficha de María."))
    entrar(chromium, web.base)
    preguntar(chromium, "Muéstrame la ficha del cliente 1")

    marco = esperar(chromium).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".tarjeta iframe.vista-app")))
    chromium.switch_to.frame(marco)
    esperar(chromium).until(lambda d: d.find_element(By.ID, "ficha-nombre").text == "María García López")
    assert chromium.find_element(By.ID, "ficha-saldo").text == "1250.00"
    # A button of the card that writes: refused in the card itself, nothing is paid.
    chromium.find_element(By.ID, "registrar-pago").click()
    chromium.find_element(By.ID, "pago-monto").send_keys("25.50", Keys.ENTER)
    esperar(chromium).until(lambda d: "registrarPago modifica datos: pídalo en el chat" in
                            d.find_element(By.ID, "pago-error").text)
    chromium.switch_to.default_content()
    esperar(chromium).until(lambda d: marco.size["height"] > 300)  # sized to the card it shows
    assert saldo(db, 1) == Decimal("1250.00")
    assert sin_alerta(chromium)
    if os.environ.get("SOPORTE_CAPTURAS"):
        chromium.set_window_size(1280, 1300)
        chromium.execute_script("arguments[0].scrollIntoView({block: 'end'})", marco)
        chromium.save_screenshot(str(Path(os.environ["SOPORTE_CAPTURAS"]) / "chat-web-ficha.png"))
