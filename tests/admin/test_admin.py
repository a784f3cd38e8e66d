"""The /admin panel over HTTP (in process): login, customers, tickets, payments, the audit trail."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import func, select, update

from soporte_mcp.admin import hash_clave, montar_admin
from soporte_mcp.auth import autenticacion, crear_token
from soporte_mcp.claves import verificar_clave
from soporte_mcp.cli import main
from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, Pago, Ticket
from soporte_mcp.errors import ConfiguracionInvalida
from soporte_mcp.http import build_http_app
from soporte_mcp.server import build_server
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.clientes import buscar_clientes
from soporte_mcp.services.conciliacion import verificar_saldos
from soporte_mcp.services.texto import texto_busqueda
from tests.conftest import audit_rows, business_state

pytestmark = pytest.mark.anyio

USUARIO = "operadora"
CLAVE = "clave-de-prueba"
SECRETO = "Zq8v3Lr0pXk2Wm9Tn4Bf7Hy1Jc6Ds5Ga0-test"
# Few iterations: the tests log in dozens of times; the format is the production one.
HASH = hash_clave(CLAVE, iteraciones=1_000)
MARIA = "maria.garcia@email.com"


def app_con_panel(settings: Settings, db: Database, clave_hash: str = HASH):
    """The HTTP app as `serve` builds it, with SOPORTE_ADMIN_* configured."""
    admin = {"admin_user": USUARIO, "admin_password_hash": SecretStr(clave_hash),
             "admin_secret": SecretStr(SECRETO)}
    con_panel = settings.model_copy(update=admin)
    return build_http_app(build_server(con_panel, db), db, settings=con_panel)


def navegador(app) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://127.0.0.1")


async def entrar(cliente: httpx2.AsyncClient, usuario: str = USUARIO, clave: str = CLAVE) -> httpx2.Response:
    return await cliente.post("/admin/login", data={"username": usuario, "password": clave})


def id_de(db: Database, email: str) -> int:
    with db.lectura() as conn:
        return conn.execute(select(Cliente.id).where(Cliente.email == email)).scalar_one()


def cliente(db: Database, cliente_id: int) -> Any:
    with db.lectura() as conn:
        return conn.execute(select(Cliente.__table__).where(Cliente.id == cliente_id)).one()


def filas_admin(db: Database) -> list:
    return [r for r in audit_rows(db) if r.herramienta == "admin"]


def clave_del_formulario(html: str) -> str:
    return re.search(r'name="clave" value="([0-9a-f]+)"', html).group(1)


async def pagar(panel: httpx2.AsyncClient, cliente_id: int, monto: str, metodo: str = "efectivo",
                clave: str | None = None) -> httpx2.Response:
    if clave is None:
        formulario = await panel.get("/admin/pago/registrar", params={"cliente_id": cliente_id})
        clave = clave_del_formulario(formulario.text)
    datos = {"monto": monto, "metodo_pago": metodo, "descripcion": "Pago en ventanilla", "clave": clave}
    return await panel.post(f"/admin/pago/registrar?cliente_id={cliente_id}", data=datos)


# --- credentials -------------------------------------------------------------------------------


def test_a_password_hash_verifies_its_password_and_no_other() -> None:
    assert HASH.startswith("pbkdf2_sha256$1000$")
    assert verificar_clave(CLAVE, HASH)
    assert not verificar_clave("otra-clave", HASH)
    assert hash_clave(CLAVE, iteraciones=1_000) != HASH  # a fresh salt each time


def test_a_short_password_cannot_be_hashed() -> None:
    with pytest.raises(ConfiguracionInvalida):
        hash_clave("corta")


@pytest.mark.parametrize(
    ("usuario", "clave_hash", "secreto"),
    [
        ("", HASH, SECRETO),
        (USUARIO, "sha256$abc", SECRETO),
        (USUARIO, HASH, "corto"),
        (USUARIO, HASH, "change-me-change-me-change-me-change-me"),
        (USUARIO, HASH, "a" * 64),
    ],
    ids=["blank-user", "malformed-hash", "short-secret", "example-secret", "repetitive-secret"],
)
def test_the_panel_refuses_to_mount_with_unusable_credentials(
    settings: Settings, db: Database, usuario: str, clave_hash: str, secreto: str
) -> None:
    app = build_http_app(build_server(settings, db), db)
    with pytest.raises(ConfiguracionInvalida):
        montar_admin(app, db, usuario=usuario, clave_hash=clave_hash, secreto=secreto)


def test_the_settings_check_the_panels_credentials_without_loading_the_panel() -> None:
    codigo = ("import sys; from soporte_mcp.config import Settings; assert Settings().panel_admin(); "
              "print(sorted(m for m in sys.modules if m.startswith(('soporte_mcp.admin', 'sqladmin'))))")
    entorno = {**os.environ, "SOPORTE_ADMIN_USER": USUARIO, "SOPORTE_ADMIN_PASSWORD_HASH": HASH,
               "SOPORTE_ADMIN_SECRET": SECRETO}
    hecho = subprocess.run([sys.executable, "-c", codigo], capture_output=True, text=True, env=entorno,
                           timeout=60)
    assert (hecho.returncode, hecho.stdout.strip()) == (0, "[]"), hecho.stderr


def test_admin_hash_clave_asks_twice_and_prints_only_the_hash() -> None:
    resultado = CliRunner().invoke(main, ["admin", "hash-clave"], input=f"{CLAVE}\n{CLAVE}\n")
    assert resultado.exit_code == 0, resultado.output
    assert verificar_clave(CLAVE, resultado.stdout.strip())


def test_serve_refuses_to_start_with_a_half_configured_panel(db_url: str) -> None:
    resultado = CliRunner().invoke(main, ["--database-url", db_url, "serve", "--transport", "http"],
                                   env={"SOPORTE_ADMIN_USER": USUARIO})
    assert resultado.exit_code == 1
    assert resultado.stderr.startswith("Error: el panel /admin necesita")


async def test_without_the_admin_variables_there_is_no_panel(settings: Settings, db: Database) -> None:
    async with navegador(build_http_app(build_server(settings, db), db, settings=settings)) as cliente_http:
        assert (await cliente_http.get("/admin/login")).status_code == 404


# --- login -------------------------------------------------------------------------------------


@pytest.mark.parametrize("pagina", ["/admin/", "/admin/cliente/list", "/admin/pago/list",
                                    "/admin/ticket/edit/1", "/admin/historial-accion/list",
                                    "/admin/pago/registrar?cliente_id=1"])
async def test_every_page_asks_for_the_login_first(settings: Settings, db: Database, pagina: str) -> None:
    async with navegador(app_con_panel(settings, db)) as anonimo:
        respuesta = await anonimo.get(pagina)
    assert respuesta.status_code == 302
    assert respuesta.headers["location"].endswith("/admin/login")


@pytest.mark.parametrize(("usuario", "clave"), [(USUARIO, "otra-clave"), ("otro", CLAVE)])
async def test_a_wrong_user_or_password_gets_no_session(settings: Settings, db: Database, usuario: str,
                                                        clave: str) -> None:
    async with navegador(app_con_panel(settings, db)) as intruso:
        assert (await entrar(intruso, usuario, clave)).status_code == 400
        assert (await intruso.get("/admin/cliente/list")).status_code == 302


async def test_the_session_cookie_is_http_only_same_site_and_scoped_to_the_panel(settings: Settings,
                                                                                 db: Database) -> None:
    async with navegador(app_con_panel(settings, db)) as cliente_http:
        cookie = (await entrar(cliente_http)).headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/admin" in cookie


async def test_configuring_a_new_password_ends_the_sessions_of_the_old_one(settings: Settings,
                                                                           db: Database) -> None:
    async with navegador(app_con_panel(settings, db)) as viejo:
        await entrar(viejo)
        cookies = viejo.cookies
    nueva = hash_clave("clave-nueva-123", iteraciones=1_000)
    async with navegador(app_con_panel(settings, db, clave_hash=nueva)) as mismo_navegador:
        mismo_navegador.cookies = cookies
        assert (await mismo_navegador.get("/admin/cliente/list")).status_code == 302


async def test_mounting_the_panel_leaves_mcp_and_the_health_check_in_place(settings: Settings,
                                                                           db: Database) -> None:
    app = app_con_panel(settings, db)
    assert [r.path for r in app.routes] == ["/mcp", "/health", "/health/live", "/metrics", "/admin"]
    async with navegador(app) as anonimo:
        assert (await anonimo.get("/health")).json()["status"] == "ok"


async def test_the_panel_works_beside_bearer_tokens_on_mcp(settings: Settings, db: Database,
                                                           tmp_path: Path) -> None:
    archivo = tmp_path / "tokens"
    crear_token(archivo, "agente", ("read",))
    con_tokens = settings.model_copy(update={"tokens_file": archivo})
    app = build_http_app(build_server(con_tokens, db, auth=autenticacion(con_tokens)), db)
    montar_admin(app, db, usuario=USUARIO, clave_hash=HASH, secreto=SECRETO)
    async with navegador(app) as cliente_http:
        # The panel's session cookie is no MCP credential.
        assert (await cliente_http.post("/mcp", json={})).status_code == 401
        await entrar(cliente_http)
        assert (await cliente_http.get("/admin/cliente/list")).status_code == 200
        assert (await cliente_http.post("/mcp", json={})).status_code == 401


# --- customers ---------------------------------------------------------------------------------


async def test_customer_search_ignores_accents_case_and_word_order(panel: httpx2.AsyncClient) -> None:
    pagina = (await panel.get("/admin/cliente/list", params={"search": "GARCIA maría"})).text
    assert "María García López" in pagina
    assert "Juan Carlos Pérez" not in pagina


async def test_customer_list_shows_balances_with_two_decimals(panel: httpx2.AsyncClient) -> None:
    pagina = (await panel.get("/admin/cliente/list")).text
    assert ">1250.00<" in pagina and ">850.50<" in pagina and ">0.00<" in pagina


async def test_editing_a_customer_keeps_the_search_in_step_and_cannot_touch_the_balance(
    panel: httpx2.AsyncClient, db: Database
) -> None:
    maria = id_de(db, MARIA)
    datos = {"nombre": "María José García", "email": "MJ.Garcia@Email.com", "telefono": "", "activo": "y",
             "saldo": "999999.00", "saldo_inicial": "999999.00", "busqueda": "nada", "save": "Save"}
    respuesta = await panel.post(f"/admin/cliente/edit/{maria}", data=datos)

    assert respuesta.status_code == 302
    fila = cliente(db, maria)
    assert (fila.nombre, fila.email, fila.telefono) == ("María José García", "mj.garcia@email.com", None)
    assert fila.saldo == Decimal("1250.00")
    assert fila.busqueda == texto_busqueda("María José García", "mj.garcia@email.com")
    encontrados = buscar_clientes(db=db, llamada=Llamada(herramienta="test"), query="jose garcia")
    assert [c.id for c in encontrados.clientes] == [maria]
    (auditoria,) = filas_admin(db)
    assert (auditoria.tipo, auditoria.resultado, auditoria.usuario, auditoria.cliente_id) == (
        "actualizacion", "ok", USUARIO, maria)
    assert auditoria.metadatos["cambios"]["nombre"] == ["María García López", "María José García"]
    assert verificar_saldos(db=db) == []


async def test_a_deactivated_customer_shows_under_the_inactive_filter(panel: httpx2.AsyncClient,
                                                                      db: Database) -> None:
    ana = id_de(db, "ana.rodriguez@gmail.com")
    datos = {"nombre": "Ana Sofía Rodríguez", "email": "ana.rodriguez@gmail.com",
             "telefono": "+593 97 345 6789", "save": "Save"}  # an unticked checkbox is simply absent
    assert (await panel.post(f"/admin/cliente/edit/{ana}", data=datos)).status_code == 302

    inactivos = (await panel.get("/admin/cliente/list", params={"activo": "false"})).text
    activos = (await panel.get("/admin/cliente/list", params={"activo": "true"})).text
    assert "Ana Sofía Rodríguez" in inactivos and "María García López" not in inactivos
    assert "Ana Sofía Rodríguez" not in activos and "María García López" in activos


async def test_a_new_customer_starts_with_a_zero_balance_and_can_be_found(panel: httpx2.AsyncClient,
                                                                          db: Database) -> None:
    datos = {"nombre": "Pedro Ñúñez", "email": "pedro@nunez.ec", "telefono": "+593 91 000 0000",
             "activo": "y", "saldo": "500.00", "save": "Save"}
    assert (await panel.post("/admin/cliente/create", data=datos)).status_code == 302

    nuevo = cliente(db, id_de(db, "pedro@nunez.ec"))
    assert (nuevo.saldo, nuevo.saldo_inicial, nuevo.activo) == (Decimal("0.00"), Decimal("0.00"), True)
    encontrados = buscar_clientes(db=db, llamada=Llamada(herramienta="test"), query="nunez pedro")
    assert [c.id for c in encontrados.clientes] == [nuevo.id]
    assert [(f.tipo, f.cliente_id) for f in filas_admin(db)] == [("creacion", nuevo.id)]


async def test_an_email_another_customer_has_is_refused_and_changes_nothing(panel: httpx2.AsyncClient,
                                                                             db: Database) -> None:
    juan = id_de(db, "juan.perez@empresa.com")
    antes = cliente(db, juan)
    datos = {"nombre": "Juan Carlos Pérez", "email": MARIA, "activo": "y", "save": "Save"}
    respuesta = await panel.post(f"/admin/cliente/edit/{juan}", data=datos)

    assert respuesta.status_code == 400
    assert "alert-danger" in respuesta.text and MARIA in respuesta.text
    assert cliente(db, juan) == antes
    (auditoria,) = filas_admin(db)
    assert (auditoria.resultado, auditoria.metadatos["codigo"]) == ("rechazado", "email_en_uso")


# --- tickets -----------------------------------------------------------------------------------


def ticket(db: Database, ticket_id: int) -> Any:
    with db.lectura() as conn:
        return conn.execute(select(Ticket.__table__).where(Ticket.id == ticket_id)).one()


def primer_ticket_abierto(db: Database) -> int:
    with db.lectura() as conn:
        return conn.execute(select(func.min(Ticket.id)).where(Ticket.estado == "abierto")).scalar_one()


async def test_resolving_a_ticket_stamps_its_resolution_date_and_reopening_clears_it(
    panel: httpx2.AsyncClient, db: Database
) -> None:
    numero = primer_ticket_abierto(db)
    datos = {"estado": "resuelto", "prioridad": "alta", "asignado_a": "Carla", "save": "Save"}
    assert (await panel.post(f"/admin/ticket/edit/{numero}", data=datos)).status_code == 302
    resuelto = ticket(db, numero)
    assert (resuelto.estado, resuelto.prioridad, resuelto.asignado_a) == ("resuelto", "alta", "Carla")
    assert resuelto.fecha_resolucion is not None

    datos |= {"estado": "abierto"}  # reopened: the state table allows resuelto -> abierto, not -> en_proceso
    assert (await panel.post(f"/admin/ticket/edit/{numero}", data=datos)).status_code == 302
    assert ticket(db, numero).fecha_resolucion is None
    assert [f.descripcion for f in filas_admin(db)][-1].endswith("estado resuelto -> abierto")


async def test_tickets_can_be_filtered_by_state_and_searched(panel: httpx2.AsyncClient) -> None:
    resueltos = (await panel.get("/admin/ticket/list", params={"estado": "resuelto"})).text
    assert "Solicitud de cambio de datos personales" in resueltos
    assert "No puedo realizar pagos en línea" not in resueltos
    buscados = (await panel.get("/admin/ticket/list", params={"search": "factura"})).text
    assert "Problema con factura del mes anterior" in buscados
    assert "Solicitud de cambio de datos personales" not in buscados


async def test_a_ticket_state_outside_the_list_is_refused(panel: httpx2.AsyncClient, db: Database) -> None:
    numero = primer_ticket_abierto(db)
    antes = ticket(db, numero)
    datos = {"estado": "olvidado", "prioridad": "media", "save": "Save"}
    assert (await panel.post(f"/admin/ticket/edit/{numero}", data=datos)).status_code == 400
    assert ticket(db, numero) == antes


# --- what the panel may not do -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("metodo", "ruta"),
    [("GET", "/admin/pago/create"), ("GET", "/admin/pago/edit/1"), ("POST", "/admin/pago/edit/1"),
     ("DELETE", "/admin/pago/delete?pks=1"), ("GET", "/admin/historial-accion/create"),
     ("POST", "/admin/historial-accion/edit/1"), ("DELETE", "/admin/historial-accion/delete?pks=1"),
     ("DELETE", "/admin/cliente/delete?pks=1"), ("DELETE", "/admin/ticket/delete?pks=1"),
     ("GET", "/admin/ticket/create"), ("GET", "/admin/cliente/export/csv")],
)
async def test_payments_and_the_audit_trail_cannot_be_written_nor_anything_deleted(
    panel: httpx2.AsyncClient, db: Database, metodo: str, ruta: str
) -> None:
    antes = business_state(db), len(audit_rows(db))
    respuesta = await panel.request(metodo, ruta, data={"monto": "1.00"} if metodo == "POST" else None)
    assert respuesta.status_code == 403
    assert (business_state(db), len(audit_rows(db))) == antes


async def test_the_audit_trail_is_listed_and_filtered(panel: httpx2.AsyncClient, db: Database) -> None:
    await pagar(panel, id_de(db, MARIA), "10.00")
    pagina = (await panel.get("/admin/historial-accion/list", params={"tipo": "pago"})).text
    assert "Pago de 10.00 (efectivo)" in pagina


# --- payments ----------------------------------------------------------------------------------


async def test_a_customers_payments_page_offers_to_register_one(panel: httpx2.AsyncClient,
                                                                 db: Database) -> None:
    maria = id_de(db, MARIA)
    clientes_html = (await panel.get("/admin/cliente/list", params={"search": "maria garcia"})).text
    assert f"/admin/pago/list?cliente_id={maria}" in clientes_html

    pagos_html = (await panel.get("/admin/pago/list", params={"cliente_id": maria})).text
    assert "Pago en ventanilla" in pagos_html and "Abono a cuenta" in pagos_html
    assert "Pago de contrato anual" not in pagos_html  # another customer's
    assert f"/admin/pago/registrar?cliente_id={maria}" in pagos_html


async def test_a_payment_registered_in_the_panel_raises_the_balance_with_its_audit_row(
    panel: httpx2.AsyncClient, db: Database
) -> None:
    maria = id_de(db, MARIA)
    respuesta = await pagar(panel, maria, "25.50")

    assert respuesta.status_code == 303
    assert respuesta.headers["location"].endswith(f"/admin/pago/list?cliente_id={maria}")
    assert cliente(db, maria).saldo == Decimal("1250.00") + Decimal("25.50")
    with db.lectura() as conn:
        pago = conn.execute(select(Pago.__table__).order_by(Pago.id.desc()).limit(1)).one()
    assert (pago.cliente_id, pago.monto, pago.metodo_pago, pago.procesado_por) == (
        maria, Decimal("25.50"), "efectivo", USUARIO)
    (auditoria,) = filas_admin(db)
    assert (auditoria.tipo, auditoria.resultado, auditoria.usuario, auditoria.ip_address) == (
        "pago", "ok", USUARIO, "127.0.0.1")
    assert auditoria.metadatos["pago_id"] == pago.id
    assert auditoria.metadatos["argumentos"]["accion"] == "registrarPago"
    assert verificar_saldos(db=db) == []
    lista = (await panel.get(respuesta.headers["location"])).text
    assert ">1275.50<" in lista and "registrado" in lista


async def test_submitting_the_same_payment_form_twice_pays_once(panel: httpx2.AsyncClient,
                                                                 db: Database) -> None:
    maria = id_de(db, MARIA)
    formulario = await panel.get("/admin/pago/registrar", params={"cliente_id": maria})
    clave = clave_del_formulario(formulario.text)
    for _ in range(2):
        assert (await pagar(panel, maria, "40.00", clave=clave)).status_code == 303
    assert cliente(db, maria).saldo == Decimal("1290.00")
    assert verificar_saldos(db=db) == []


@pytest.mark.parametrize(
    ("monto", "metodo", "codigo"),
    [("-5", "efectivo", "monto_invalido"), ("doce", "efectivo", "monto_invalido"),
     ("1.234", "efectivo", "monto_invalido"), ("10.00", "bitcoin", "metodo_pago_invalido")],
)
async def test_a_refused_payment_shows_the_reason_and_changes_nothing(
    panel: httpx2.AsyncClient, db: Database, monto: str, metodo: str, codigo: str
) -> None:
    antes = business_state(db)
    respuesta = await pagar(panel, id_de(db, MARIA), monto, metodo)

    assert respuesta.status_code == 400
    assert 'id="error-pago"' in respuesta.text
    assert f'value="{monto}"' in respuesta.text  # what was typed stays in the form
    assert business_state(db) == antes
    (auditoria,) = filas_admin(db)
    assert (auditoria.resultado, auditoria.metadatos["codigo"]) == ("rechazado", codigo)


async def test_an_inactive_customer_cannot_be_paid_from_the_panel(panel: httpx2.AsyncClient,
                                                                   db: Database) -> None:
    maria = id_de(db, MARIA)
    with db.escritura() as conn:
        conn.execute(update(Cliente.__table__).where(Cliente.id == maria).values(activo=False))
    antes = business_state(db)
    respuesta = await pagar(panel, maria, "10.00")
    assert respuesta.status_code == 400
    assert business_state(db) == antes
    assert filas_admin(db)[-1].metadatos["codigo"] == "cliente_inactivo"


async def test_the_payment_form_of_an_unknown_customer_is_not_found(panel: httpx2.AsyncClient) -> None:
    assert (await panel.get("/admin/pago/registrar", params={"cliente_id": 999999})).status_code == 404
    assert (await panel.get("/admin/pago/registrar", params={"cliente_id": "uno"})).status_code == 400


def test_money_in_the_panel_is_never_a_float() -> None:
    from soporte_mcp.admin.vistas import formatos

    assert formatos(Settings().zone)[Decimal](Decimal("1275.5")) == "1275.50"
