"""The /admin panel reads in Spanish on every page: no string of sqladmin's own is left in English.

The English that must not show is taken from sqladmin itself: every message of its catalog template
(``sqladmin/translations/admin.pot``, the strings of its pages), plus the literals outside it that
reach a page (the yes/no filter's choices, the login refusal, the HTTP reason phrases of its errors).
"""

from __future__ import annotations

import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx2
import pytest
import sqladmin
from babel.messages.pofile import read_po
from sqlalchemy import func, select

from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Pago
from tests.admin.test_admin import MARIA, app_con_panel, entrar, id_de, navegador, pagar

pytestmark = pytest.mark.anyio

PLANTILLA_SQLADMIN = Path(sqladmin.__file__).parent / "translations" / "admin.pot"
CATALOGO = Path(__file__).parents[2] / "src/soporte_mcp/admin/traducciones/es/LC_MESSAGES"
LITERALES = ["All", "Yes", "Invalid credentials", "Not Found", "Forbidden", "Bad Request", "Invalid page",
             "Invalid sortBy", "This field is required", "Not a valid choice"]


def _mensajes_sqladmin() -> list[str]:
    with PLANTILLA_SQLADMIN.open("rb") as archivo:
        return [m.id for m in read_po(archivo) if m.id]


def _patron(mensaje: str) -> str:
    # "Showing %(start)s to %(end)s of %(count)s items" matches whatever fills the placeholders.
    partes = re.split(r"%\(\w+\)s", mensaje)
    return r"(?<![\w])" + r".{0,40}?".join(re.escape(p) for p in partes) + r"(?![\w])"


INGLES = re.compile("|".join(_patron(m) for m in sorted({*_mensajes_sqladmin(), *LITERALES}, key=len,
                                                          reverse=True)))


class _Visible(HTMLParser):
    """What a person reads: text outside scripts and styles, and the attributes a browser shows."""

    def __init__(self) -> None:
        super().__init__()
        self.textos: list[str] = []
        self._oculto = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._oculto += 1
        valores = dict(attrs)
        for nombre in ("placeholder", "title", "aria-label", "alt"):
            if valores.get(nombre):
                self.textos.append(valores[nombre])
        if tag == "input" and valores.get("type") in ("submit", "button") and valores.get("value"):
            self.textos.append(valores["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._oculto -= 1

    def handle_data(self, data: str) -> None:
        if not self._oculto and data.strip():
            self.textos.append(" ".join(data.split()))


def ingles_en(html: str) -> list[str]:
    """The English of sqladmin's that a person would read on this page (empty when it is all Spanish)."""
    lector = _Visible()
    lector.feed(html)
    return [f"{m.group(0)!r} en {texto!r}" for texto in lector.textos for m in INGLES.finditer(texto)]


def test_the_detector_finds_sqladmins_english_and_lets_spanish_through() -> None:
    ingles = ('<input type="submit" name="save" value="Save and continue editing"><a title="Edit">x</a>'
              "<p>Showing 1 to 10 of 25 items</p><input placeholder='Search: nombre'><a>All</a>")
    assert [e.split(" en ")[0] for e in ingles_en(ingles)] == [
        "'Save and continue editing'", "'Edit'", "'Showing 1 to 10 of 25 items'", "'Search'", "'All'"]
    assert ingles_en('<p>Editar Cliente</p><input type="submit" value="Guardar"><a title="Ver">Todos</a>'
                     "<script>var x = 'Save';</script>") == []


def test_every_string_of_sqladmin_has_its_spanish_and_the_compiled_catalog_is_in_step() -> None:
    with (CATALOGO / "admin.po").open("rb") as archivo:
        po = {m.id: m.string for m in read_po(archivo) if m.id}
    with (CATALOGO / "admin.mo").open("rb") as archivo:
        mo = gettext.GNUTranslations(archivo)
    assert sorted(po) == sorted(_mensajes_sqladmin())
    assert [m for m, t in po.items() if not t or t == m] == []
    assert {m: mo.gettext(m) for m in po} == po  # `make catalogo-admin` after editing the .po


async def test_the_login_page_a_refused_login_and_the_logout_read_in_spanish(settings: Settings,
                                                                              db: Database) -> None:
    async with navegador(app_con_panel(settings, db)) as cliente:
        login = await cliente.get("/admin/login")
        rechazo = await entrar(cliente, clave="otra-clave")
        assert (await entrar(cliente)).status_code == 302
        salida = await cliente.get("/admin/logout", follow_redirects=True)

    assert 'lang="es"' in login.text and "Iniciar sesión en soporte-mcp" in login.text
    assert ingles_en(login.text) == []
    assert rechazo.status_code == 400 and "Usuario o contraseña incorrectos." in rechazo.text
    assert ingles_en(rechazo.text) == []
    assert salida.url.path == "/admin/login" and ingles_en(salida.text) == []


def _primer_pago(db: Database) -> int:
    with db.lectura() as conn:
        return conn.execute(select(func.min(Pago.id))).scalar_one()


PAGINAS = {
    "inicio": "/admin/",
    "clientes": "/admin/cliente/list",
    "clientes buscados, filtrados y ordenados":
        "/admin/cliente/list?search=garcia&activo=true&sortBy=nombre&sort=desc",
    "clientes, página 2": "/admin/cliente/list?pageSize=2&page=2",
    "tickets filtrados": "/admin/ticket/list?estado=abierto&prioridad=__all&sortBy=fecha_creacion&sort=asc",
    "pagos de un cliente": "/admin/pago/list?cliente_id={maria}",
    "anulaciones": "/admin/anulacion/list",
    "historial": "/admin/historial-accion/list?tipo=pago",
    "historial de tickets": "/admin/historial-ticket/list?ticket_id=1",
    "ficha de cliente": "/admin/cliente/details/{maria}",
    "ficha de ticket": "/admin/ticket/details/1",
    "ficha de pago": "/admin/pago/details/{pago}",
    "editar cliente": "/admin/cliente/edit/{maria}",
    "crear cliente": "/admin/cliente/create",
    "editar ticket": "/admin/ticket/edit/1",
    "registrar pago": "/admin/pago/registrar?cliente_id={maria}",
    "anular pago": "/admin/anulacion/anular?pago_id={pago}",
}


@pytest.mark.parametrize("pagina", list(PAGINAS))
async def test_each_page_of_the_panel_reads_in_spanish(panel: httpx2.AsyncClient, db: Database,
                                                       pagina: str) -> None:
    respuesta = await panel.get(PAGINAS[pagina].format(maria=id_de(db, MARIA), pago=_primer_pago(db)))

    assert respuesta.status_code == 200
    assert ingles_en(respuesta.text) == []


async def test_list_pages_speak_of_records_pages_and_filters_in_spanish(panel: httpx2.AsyncClient) -> None:
    pagina = (await panel.get("/admin/cliente/list", params={"pageSize": 2, "page": 2})).text
    assert "Del 3 al 4 de 6 registros" in pagina
    for texto in ("Buscar", "Filtros", "Todos", "Sí", "anterior", "siguiente", "2 por página",
                  "Crear Cliente"):
        assert texto in pagina, texto


@pytest.mark.parametrize(("ruta", "codigo", "mensaje"), [
    ("/admin/cliente/details/999999", 404, "No se encontró lo que busca."),
    ("/admin/cliente/list?page=abc", 400, "La página o el tamaño de página no son válidos."),
    ("/admin/cliente/list?sortBy=nada", 400, "La columna por la que ordenar no es válida."),
    ("/admin/pago/create", 403, "No tiene permiso para ver esta página."),
    ("/admin/pago/registrar?cliente_id=999999", 404, "No existe ese cliente."),
])
async def test_error_pages_say_what_happened_in_spanish(panel: httpx2.AsyncClient, ruta: str, codigo: int,
                                                        mensaje: str) -> None:
    respuesta = await panel.get(ruta)

    assert respuesta.status_code == codigo
    assert mensaje in respuesta.text
    assert ingles_en(respuesta.text) == []


async def test_a_refused_edit_shows_its_reason_on_a_spanish_page(panel: httpx2.AsyncClient,
                                                                db: Database) -> None:
    juan = id_de(db, "juan.perez@empresa.com")
    datos = {"nombre": "Juan Carlos Pérez", "email": MARIA, "activo": "y", "save": "Guardar"}
    respuesta = await panel.post(f"/admin/cliente/edit/{juan}", data=datos)

    assert respuesta.status_code == 400
    assert "alert-danger" in respuesta.text and MARIA in respuesta.text
    assert ingles_en(respuesta.text) == []


async def test_the_spanish_save_button_saves_and_returns_to_the_list(panel: httpx2.AsyncClient,
                                                                      db: Database) -> None:
    # sqladmin decides where to go after saving from the label of the button pressed: now "Guardar".
    maria = id_de(db, MARIA)
    datos = {"nombre": "María García López", "email": MARIA, "telefono": "", "activo": "y"}
    guardar = await panel.post(f"/admin/cliente/edit/{maria}", data={**datos, "save": "Guardar"})
    seguir = await panel.post(f"/admin/cliente/edit/{maria}", data={**datos, "save": "Guardar y seguir"})

    assert guardar.status_code == 302 and guardar.headers["location"].endswith("/admin/cliente/list")
    assert seguir.status_code == 302 and seguir.headers["location"].endswith(f"/admin/cliente/edit/{maria}")


async def test_the_browsers_language_does_not_change_the_panels(settings: Settings, db: Database) -> None:
    async with navegador(app_con_panel(settings, db)) as cliente:
        await entrar(cliente)
        cliente.cookies.set("language", "ru")
        pagina = await cliente.get("/admin/cliente/list",
                                   headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"})
    assert "Buscar" in pagina.text and ingles_en(pagina.text) == []
    assert "language" not in pagina.cookies


async def test_a_form_refused_by_its_own_checks_says_why_in_spanish(panel: httpx2.AsyncClient) -> None:
    ticket_invalido = await panel.post("/admin/ticket/edit/1",
                                       data={"estado": "olvidado", "prioridad": "media", "save": "Guardar"})
    cliente_sin_nombre = await panel.post("/admin/cliente/create", data={"nombre": "", "email": "x@y.ec",
                                                                        "save": "Guardar"})

    assert ticket_invalido.status_code == 400 and "Opción inválida." in ticket_invalido.text
    assert cliente_sin_nombre.status_code == 400 and "Este campo es obligatorio." in cliente_sin_nombre.text
    assert ingles_en(ticket_invalido.text) == ingles_en(cliente_sin_nombre.text) == []


async def test_the_notice_after_a_payment_reads_in_spanish(panel: httpx2.AsyncClient, db: Database) -> None:
    respuesta = await pagar(panel, id_de(db, MARIA), "10.00")
    lista = await panel.get(respuesta.headers["location"])

    assert "toast" in lista.text and 'aria-label="Cerrar"' in lista.text
    assert ingles_en(lista.text) == []
