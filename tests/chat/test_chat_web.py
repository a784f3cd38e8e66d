"""The web chat's API without a browser: CSRF, login throttling, model errors, refusals to start."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner

from soporte_mcp.chat import servidores as srv
from soporte_mcp.chat.cli import main
from soporte_mcp.chat.web.acceso import FALLOS_POR_CUENTA, Limitador
from soporte_mcp.db.engine import Database
from tests.chat.conftest import CLAVE
from tests.chat.modelo_falso import Fallo, ModeloFalso, Texto
from tests.chat.web_en_marcha import CONTRASENA, USUARIA, ChatWeb, chat_web, crear_cuenta


@pytest.fixture
def pagina(web: ChatWeb) -> Iterator[Pagina]:
    with Pagina(web.base) as p:
        yield p


class Pagina:
    """What the page does over HTTP: one cookie jar, the CSRF token from /api/yo."""

    def __init__(self, base: str) -> None:
        self.http = httpx2.Client(base_url=base, timeout=30)
        self.csrf = self.http.get("/api/yo").json()["csrf"]

    def __enter__(self) -> Pagina:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def post(self, ruta: str, cuerpo: dict[str, Any] | None = None, **cabeceras: str) -> httpx2.Response:
        return self.http.post(ruta, json=cuerpo, headers={"X-CSRF-Token": self.csrf} | cabeceras)

    def entrar(self, clave: str = CONTRASENA) -> httpx2.Response:
        r = self.post("/api/login", {"nombre": USUARIA, "clave": clave})
        if r.status_code == 200:
            self.csrf = r.json()["csrf"]
        return r

    def preguntar(self, conversacion: str, texto: str) -> list[dict[str, Any]]:
        """The events of the answer, as the page reads them."""
        with self.http.stream("POST", f"/api/conversaciones/{conversacion}/mensajes", json={"texto": texto},
                              headers={"X-CSRF-Token": self.csrf}) as r:
            assert r.status_code == 200, r.read()
            return [json.loads(linea[6:]) for linea in r.iter_lines() if linea.startswith("data: ")]


def test_a_state_changing_request_without_the_csrf_token_is_refused(pagina: Pagina) -> None:
    assert pagina.entrar().status_code == 200

    sin_token = pagina.http.post("/api/conversaciones")
    otro_token = pagina.post("/api/conversaciones", **{"X-CSRF-Token": "falso"})
    otro_origen = pagina.post("/api/conversaciones", Origin="http://atacante.example")

    for r in (sin_token, otro_token, otro_origen):
        assert r.status_code == 403 and r.json()["error"]["codigo"] == "csrf_invalido"
    assert pagina.http.get("/api/conversaciones").json() == {"conversaciones": []}
    assert pagina.post("/api/conversaciones").status_code == 201


def test_a_login_without_the_csrf_token_is_refused(pagina: Pagina) -> None:

    r = pagina.http.post("/api/login", json={"nombre": USUARIA, "clave": CONTRASENA})

    assert r.status_code == 403


def test_nothing_but_the_login_answers_before_logging_in(pagina: Pagina) -> None:

    assert pagina.http.get("/api/yo").json() == {"cuenta": None, "csrf": pagina.csrf, "login_requerido": True}
    r = pagina.post("/api/conversaciones")

    assert r.status_code == 401 and r.json()["error"]["codigo"] == "login_requerido"


def test_wrong_passwords_are_refused_then_throttled_even_with_the_right_one(pagina: Pagina) -> None:

    fallos = [pagina.entrar("no-es-la-clave") for _ in range(FALLOS_POR_CUENTA)]
    bloqueado = pagina.entrar()

    assert [r.status_code for r in fallos] == [401] * FALLOS_POR_CUENTA
    assert fallos[0].json()["error"]["codigo"] == "credenciales_invalidas"
    assert bloqueado.status_code == 429 and bloqueado.json()["error"]["codigo"] == "demasiados_intentos"
    assert int(bloqueado.headers["retry-after"]) > 0
    assert pagina.http.get("/api/yo").json()["login_requerido"] is True


def test_the_session_cookie_is_httponly_and_samesite_strict(web: ChatWeb) -> None:
    r = httpx2.get(f"{web.base}/api/yo")

    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_a_foreign_host_name_is_refused_on_loopback(web: ChatWeb) -> None:
    r = httpx2.get(f"{web.base}/api/yo", headers={"Host": "atacante.example"})

    assert r.status_code == 421


def test_model_errors_show_in_the_page_and_the_conversation_goes_on(pagina: Pagina, modelo: ModeloFalso) -> None:
    modelo.guionar(Fallo(401, "Incorrect API key provided"),
                   Fallo(429, "Rate limit reached", cabeceras={"retry-after-ms": "10"}), Texto("Hola."))
    pagina.entrar()
    conversacion = pagina.post("/api/conversaciones").json()["id"]

    rechazo = pagina.preguntar(conversacion, "Hola")
    reintento = pagina.preguntar(conversacion, "Hola otra vez")

    assert [e["tipo"] for e in rechazo] == ["error", "fin"]
    assert rechazo[0]["codigo"] == "credenciales_rechazadas" and "Incorrect API key" in rechazo[0]["mensaje"]
    assert [e["tipo"] for e in reintento][:2] == ["aviso", "texto"]
    assert "reintento 1 de 3" in reintento[0]["mensaje"]
    assert reintento[-1] == {"tipo": "fin", "desenlace": "ok", "titulo": "Hola"}
    vista = pagina.http.get(f"/api/conversaciones/{conversacion}").json()["vista"]
    assert [v["tipo"] for v in vista] == ["usuario", "error", "usuario", "aviso", "asistente"]
    assert CLAVE not in json.dumps(vista) and CLAVE not in pagina.http.get("/").text


def test_no_model_listening_is_an_error_in_the_page(db: Database, db_url: str, modelo: ModeloFalso,
                                                    tmp_path: Path) -> None:
    crear_cuenta(tmp_path / "datos")
    with chat_web(db_url, modelo, tmp_path / "datos", "--base-url", "http://127.0.0.1:9/v1") as web, \
            Pagina(web.base) as pagina:
        pagina.entrar()
        conversacion = pagina.post("/api/conversaciones").json()["id"]

        eventos = pagina.preguntar(conversacion, "Hola")

    assert eventos[0]["tipo"] == "error" and eventos[0]["codigo"] == "sin_conexion"


def test_conversations_can_be_renamed_and_deleted(pagina: Pagina) -> None:
    pagina.entrar()
    ident = pagina.post("/api/conversaciones").json()["id"]

    renombrada = pagina.http.patch(f"/api/conversaciones/{ident}", json={"titulo": "  Pagos de   marzo "},
                                   headers={"X-CSRF-Token": pagina.csrf})
    listado = pagina.http.get("/api/conversaciones").json()["conversaciones"]
    borrada = pagina.http.delete(f"/api/conversaciones/{ident}", headers={"X-CSRF-Token": pagina.csrf})

    assert renombrada.json() == {"titulo": "Pagos de marzo"}
    assert [c["titulo"] for c in listado] == ["Pagos de marzo"]
    assert borrada.status_code == 204
    assert pagina.http.get(f"/api/conversaciones/{ident}").status_code == 404


def test_listening_beyond_loopback_without_accounts_is_refused(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["web", "--host", "0.0.0.0", "--data-dir", str(tmp_path), "--server",
                                  "http://127.0.0.1:9/mcp"], env={"OPENAI_API_KEY": CLAVE})

    assert r.exit_code == 1
    assert "no hay cuentas de operador" in r.output


def test_an_account_is_stored_as_a_pbkdf2_hash_and_a_new_password_replaces_it(tmp_path: Path) -> None:
    from soporte_mcp.chat.web.almacen import Almacen

    crear_cuenta(tmp_path, "ana", "primera-clave")
    crear_cuenta(tmp_path, "ana", "segunda-clave")

    almacen = Almacen(tmp_path)
    hash_, cuentas = almacen.hash_de("ana"), almacen.cuentas()
    almacen.cerrar()
    assert cuentas == ["ana"] and hash_.startswith("pbkdf2_sha256$600000$")
    assert "segunda-clave" not in (tmp_path / "web.db").read_bytes().decode("latin-1")


def test_a_short_password_is_refused(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["web", "cuenta", "crear", "ana", "--data-dir", str(tmp_path)], input="corta\ncorta\n")

    assert r.exit_code == 1 and "al menos 8 caracteres" in r.output


def test_the_throttle_forgets_failures_older_than_its_window() -> None:
    ahora = [0.0]
    limitador = Limitador(ventana=60, reloj=lambda: ahora[0])
    for _ in range(FALLOS_POR_CUENTA):
        limitador.fallo("ana", "1.2.3.4")

    bloqueado = limitador.espera("ana", "1.2.3.4")
    ahora[0] = 61
    libre = limitador.espera("ana", "1.2.3.4")

    assert bloqueado == 60 and libre == 0 and limitador.espera("beto", "5.6.7.8") == 0



@pytest.mark.anyio
@pytest.mark.parametrize(("apps", "vista"), [(True, "ui://soporte/cliente.html"), (False, None)])
async def test_only_the_web_chat_declares_mcp_apps_so_only_it_gets_our_servers_views(
    db: Database, db_url: str, apps: bool, vista: str | None
) -> None:
    async with AsyncExitStack() as pila:
        caja = await srv.conectar([srv.incluido(db_url)], pila, timeout=20, apps=apps)
        (saldo,) = [h for h in caja.herramientas if h.nombre == "consultarSaldo"]
        assert saldo.vista == vista
        html = await caja.leer_vista(saldo)
        assert (html is not None and "ficha-saldo" in html) is apps
