"""A SQLite database that cannot be written: the error names the file and the cause; `info` and
`db check` still work.

The suite runs as root here, and root ignores file permissions, so each case makes the
restriction real for the command and first proves it with a write that must fail:
a read-only folder is a read-only bind mount in a private mount namespace (``unshare -m``;
``chmod 555`` when not root), a read-only file is ``chmod 444`` seen by a process without
CAP_DAC_OVERRIDE (``setpriv``; plain when not root).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from soporte_mcp.db import migrate
from tests._procesos import HOST, comando, entorno, puerto_libre, sembrar

pytestmark = pytest.mark.sqlite_only

ROOT = os.geteuid() == 0
SIN_PERMISOS = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                "--bounding-set=-dac_override,-dac_read_search", "--"]


def _requiere(*programas: str) -> None:
    faltan = [p for p in programas if shutil.which(p) is None]
    if faltan:
        pytest.skip(f"falta {', '.join(faltan)} para hacer real la restricción")


def carpeta_de_solo_lectura(carpeta: Path, argv: list[str]) -> list[str]:
    """``argv`` run where ``carpeta`` is a read-only mount (or a 555 folder, for a user)."""
    if not ROOT:
        carpeta.chmod(0o555)
        return argv
    _requiere("unshare", "mount")
    d = shlex.quote(str(carpeta))
    guion = f"mount --bind {d} {d} && mount -o remount,ro,bind {d} && exec \"$@\""
    return ["unshare", "-m", "sh", "-c", guion, "sh", *argv]


def archivo_de_solo_lectura(archivo: Path, argv: list[str]) -> list[str]:
    """``argv`` run where ``archivo`` (mode 444) cannot be written, root or not."""
    archivo.chmod(0o444)
    if not ROOT:
        return argv
    _requiere("setpriv")
    return [*SIN_PERMISOS, *argv]


RESTRICCIONES = {
    "carpeta": (lambda ruta, argv: carpeta_de_solo_lectura(ruta.parent, argv),
                "la carpeta {carpeta} está en un sistema de archivos de solo lectura" if ROOT
                else "la carpeta {carpeta} no permite escribir"),
    "archivo": (archivo_de_solo_lectura, "el archivo no tiene permiso de escritura"),
}


def correr(argv: list[str], url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=entorno(url), capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(params=sorted(RESTRICCIONES))
def restringida(request: pytest.FixtureRequest, tmp_path: Path):
    """(url, file, wrap, cause): a seeded database and how to run a command that cannot write it."""
    (tmp_path / "datos").mkdir()
    url = sembrar(tmp_path / "datos")
    archivo = Path(url.removeprefix("sqlite:///"))
    for resto in archivo.parent.glob(f"{archivo.name}-*"):
        resto.unlink()  # a cleanly closed database: no -wal/-shm left to lean on
    envolver, causa = RESTRICCIONES[request.param]
    # The restriction is real: the same wrapper cannot append to the file.
    prueba = correr(envolver(archivo, [sys.executable, "-c", f"open({str(archivo)!r}, 'ab')"]), url)
    assert prueba.returncode != 0 and ("Permission denied" in prueba.stderr or "Read-only" in prueba.stderr), prueba
    yield url, archivo, envolver, causa.format(carpeta=archivo.parent)
    archivo.chmod(0o644)
    archivo.parent.chmod(0o755)


def test_info_and_db_check_work_on_a_database_that_cannot_be_written(restringida) -> None:
    url, archivo, envolver, _causa = restringida
    info = correr(envolver(archivo, [comando(), "info"]), url)
    assert info.returncode == 0, info.stderr
    assert f"esquema: {migrate.HEAD} (última: {migrate.HEAD})" in info.stdout
    check = correr(envolver(archivo, [comando(), "db", "check"]), url)
    assert check.returncode == 0, check.stderr
    assert "Todos los saldos cuadran" in check.stdout


def test_writing_to_it_names_the_file_and_the_cause_in_one_line(restringida) -> None:
    url, archivo, envolver, causa = restringida
    salida = correr(envolver(archivo, [comando(), "seed", "--limpiar"]), url)
    assert salida.returncode == 1
    assert salida.stderr.splitlines() == [f"Error: no se puede usar la base de datos {archivo}: {causa}"]


def test_the_server_does_not_start_on_a_read_only_folder_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "datos").mkdir()
    url = sembrar(tmp_path / "datos")
    archivo = Path(url.removeprefix("sqlite:///"))
    argv = [comando(), "serve", "--transport", "http", "--host", HOST, "--port", str(puerto_libre())]
    salida = correr(carpeta_de_solo_lectura(archivo.parent, argv), url)
    archivo.parent.chmod(0o755)
    assert salida.returncode == 1
    causa = RESTRICCIONES["carpeta"][1].format(carpeta=archivo.parent)
    assert salida.stderr.splitlines() == [f"Error: no se puede usar la base de datos {archivo}: {causa}"]
