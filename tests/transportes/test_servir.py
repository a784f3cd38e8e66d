"""`serve --transport http` before it serves: a busy port, the Host warning, the workers' settings."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic import SecretStr

from soporte_mcp.config import Settings
from soporte_mcp.http import ENV_TRABAJADOR, ajustes_de_trabajador, entorno_trabajador
from tests._procesos import HOST, cli, comando, entorno, puerto_libre, sembrar, servidor_http

ESPERA_S = 20.0


@contextmanager
def puerto_ocupado() -> Iterator[int]:
    """A loopback port that another socket is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as otro:
        otro.bind((HOST, 0))
        otro.listen()
        yield otro.getsockname()[1]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_spanish_error_line_before_any_banner(tmp_path: Path, workers: str) -> None:
    url = sembrar(tmp_path)
    with puerto_ocupado() as puerto:
        salida = cli(url, "serve", "--transport", "http", "--host", HOST, "--port", str(puerto), "--workers", workers)
    assert salida.returncode == 1
    assert salida.stderr.splitlines() == [
        f"Error: el puerto {puerto} de {HOST} ya está en uso por otro proceso: deténgalo o elija otro puerto con --port"
    ]
    assert salida.stdout == ""


def _tokens(tmp_path: Path, url: str) -> Path:
    archivo = tmp_path / "tokens"
    assert cli(url, "token", "crear", "agente", "--tokens-file", str(archivo)).returncode == 0
    return archivo


def _stderr_hasta(proceso: subprocess.Popen[str], fin: str) -> list[str]:
    """stderr lines up to and including the first one containing ``fin``."""
    lineas: list[str] = []
    limite = time.monotonic() + ESPERA_S
    while time.monotonic() < limite:
        linea = proceso.stderr.readline()
        if not linea:
            break
        lineas.append(linea.rstrip("\n"))
        if fin in linea:
            return lineas
    raise AssertionError(f"no llegó {fin!r}: {lineas}")


@contextmanager
def serve_en(url: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    proceso = subprocess.Popen([comando(), "serve", "--transport", "http", *args], env=entorno(url),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield proceso
    finally:
        proceso.terminate()
        proceso.wait(timeout=10)
        proceso.stderr.close()


@pytest.mark.parametrize("permitido", [False, True], ids=["sin-allowed-host", "con-allowed-host"])
def test_serving_beyond_loopback_without_allowed_host_warns_about_dns_rebinding(
    tmp_path: Path, permitido: bool
) -> None:
    url = sembrar(tmp_path)
    extra = ("--allowed-host", "soporte.example.com") if permitido else ()
    # 0.0.0.0 only listens (nothing is sent anywhere); the warning is printed before the banner.
    with serve_en(url, "--host", "0.0.0.0", "--port", str(puerto_libre()), "--tokens-file",
                  str(_tokens(tmp_path, url)), *extra) as proceso:
        lineas = _stderr_hasta(proceso, "MCP en http://")
    avisos = [linea for linea in lineas if linea.startswith("Aviso:")]
    if permitido:
        assert avisos == []
    else:
        (aviso,) = avisos
        assert "0.0.0.0 sin --allowed-host" in aviso and "cualquier cabecera Host y Origin" in aviso
        assert "DNS rebinding" in aviso and "--allowed-host soporte.example.com" in aviso


def test_on_loopback_there_is_no_host_warning(tmp_path: Path) -> None:
    url = sembrar(tmp_path)
    with servidor_http(url, tmp_path) as servidor:
        assert "Aviso" not in servidor.stderr.read_text()


def test_worker_environment_carries_every_setting_including_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        database_url="sqlite:////srv/soporte.db", timezone="Europe/Madrid", log_level="DEBUG",
        tokens_file=Path("/etc/soporte/tokens"), oauth_issuer="https://idp.example", oauth_jwks_url="https://idp/jwks",
        public_url="https://soporte.example/mcp", rate_limit=33, admin_user="operadora",
        admin_password_hash=SecretStr("pbkdf2_sha256$1$sal$hash"), admin_secret=SecretStr("s" * 40),
    )
    entorno_hijo = entorno_trabajador(settings, host="0.0.0.0", allowed_hosts=("soporte.example.com",))
    assert list(entorno_hijo) == [ENV_TRABAJADOR]
    for variable in [v for v in os.environ if v.startswith("SOPORTE_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv(ENV_TRABAJADOR, entorno_hijo[ENV_TRABAJADOR])
    monkeypatch.setenv("SOPORTE_TIMEZONE", "UTC")  # what the worker finds in its environment does not win
    recibido, host, hosts = ajustes_de_trabajador()
    assert recibido == settings
    assert (host, hosts) == ("0.0.0.0", ["soporte.example.com"])
    assert set(Settings.model_fields) == set(recibido.model_dump())  # no field left out


def test_every_worker_gets_the_log_level_and_the_settings(tmp_path: Path) -> None:
    url = sembrar(tmp_path)
    puerto = puerto_libre()
    registro = tmp_path / "servidor.stderr"
    with registro.open("w") as err:
        proceso = subprocess.Popen(
            [comando(), "-v", "--timezone", "Europe/Madrid", "serve", "--transport", "http", "--host", HOST,
             "--port", str(puerto), "--workers", "2", "--rate-limit", "33"],
            env=entorno(url), stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True,
        )
    try:
        limite = time.monotonic() + ESPERA_S
        while time.monotonic() < limite and registro.read_text().count(" listo: ") < 2:
            assert proceso.poll() is None, registro.read_text()
            time.sleep(0.1)  # polling the log file, bounded by the deadline
        listos = [linea for linea in registro.read_text().splitlines() if " listo: " in linea]
    finally:
        proceso.terminate()
        proceso.wait(timeout=15)
    assert len(listos) == 2, registro.read_text()
    for linea in listos:
        assert " INFO soporte_mcp.http: proceso " in linea
        assert linea.endswith("listo: zona Europe/Madrid, límite 33/min, registro INFO")
