"""The web chat's own data: operator accounts, browser sessions and conversations, in one SQLite file.

It lives beside the chat's other data (the platformdirs user data directory of
soporte-chat, or ``--data-dir``), never in the support database: the chat is a client
of the MCP servers and reaches business data only through them.  Every call is short
(one statement or one small transaction), so the web app calls it on the event loop.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

NOMBRE_APP = "soporte-chat"
ARCHIVO = "web.db"
DURACION_SESION_S = 12 * 3600
TITULO_MAXIMO = 80

ESQUEMA = """
CREATE TABLE IF NOT EXISTS cuentas (
    nombre TEXT PRIMARY KEY,
    clave_hash TEXT NOT NULL,
    creada REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sesiones (
    huella TEXT PRIMARY KEY,          -- sha256 of the cookie: a stolen file yields no usable cookie
    cuenta TEXT REFERENCES cuentas(nombre) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    expira REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS conversaciones (
    id TEXT PRIMARY KEY,
    duenio TEXT NOT NULL,             -- 'cuenta:NOMBRE', or 'sesion:HUELLA' without login
    titulo TEXT NOT NULL,
    historial TEXT NOT NULL,          -- the messages the model sees (JSON)
    vista TEXT NOT NULL,              -- what the page shows: messages, tool cards, notices (JSON)
    creada REAL NOT NULL,
    actualizada REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversaciones_duenio ON conversaciones (duenio, actualizada);
"""


def carpeta_por_defecto() -> Path:
    return Path(platformdirs.user_data_dir(NOMBRE_APP))


def huella(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Sesion:
    """One browser session: who (an account, or nobody when login is not required) and its CSRF token."""

    huella: str
    cuenta: str | None
    csrf: str

    @property
    def duenio(self) -> str:
        return f"cuenta:{self.cuenta}" if self.cuenta else f"sesion:{self.huella}"


class Almacen:
    """The SQLite file of the web chat."""

    def __init__(self, carpeta: Path) -> None:
        carpeta.mkdir(parents=True, exist_ok=True)
        self.ruta = carpeta / ARCHIVO
        self._db = sqlite3.connect(self.ruta, check_same_thread=False, isolation_level=None, timeout=5)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(ESQUEMA)
        self.ruta.chmod(0o600)

    def cerrar(self) -> None:
        self._db.close()

    # Accounts
    def crear_cuenta(self, nombre: str, clave_hash: str) -> bool:
        """Create the account or change its password; True if it is new.  Ends its open sessions."""
        nueva = self.hash_de(nombre) is None
        with self._db:
            self._db.execute("INSERT INTO cuentas VALUES (?, ?, ?) ON CONFLICT(nombre) DO UPDATE "
                             "SET clave_hash = excluded.clave_hash", (nombre, clave_hash, time.time()))
            self._db.execute("DELETE FROM sesiones WHERE cuenta = ?", (nombre,))
        return nueva

    def borrar_cuenta(self, nombre: str) -> bool:
        with self._db:
            return self._db.execute("DELETE FROM cuentas WHERE nombre = ?", (nombre,)).rowcount > 0

    def cuentas(self) -> list[str]:
        return [f["nombre"] for f in self._db.execute("SELECT nombre FROM cuentas ORDER BY nombre")]

    def hash_de(self, nombre: str) -> str | None:
        fila = self._db.execute("SELECT clave_hash FROM cuentas WHERE nombre = ?", (nombre,)).fetchone()
        return None if fila is None else fila["clave_hash"]

    # Sessions
    def abrir_sesion(self, cuenta: str | None) -> tuple[str, Sesion]:
        """A new session; its cookie value (shown once) and the session."""
        token = secrets.token_urlsafe(32)
        sesion = Sesion(huella(token), cuenta, secrets.token_urlsafe(32))
        with self._db:
            self._db.execute("DELETE FROM sesiones WHERE expira < ?", (time.time(),))
            self._db.execute("INSERT INTO sesiones VALUES (?, ?, ?, ?)",
                             (sesion.huella, cuenta, sesion.csrf, time.time() + DURACION_SESION_S))
        return token, sesion

    def sesion(self, token: str) -> Sesion | None:
        fila = self._db.execute("SELECT * FROM sesiones WHERE huella = ? AND expira > ?",
                                (huella(token), time.time())).fetchone()
        return None if fila is None else Sesion(fila["huella"], fila["cuenta"], fila["csrf"])

    def cerrar_sesion(self, sesion: Sesion) -> None:
        with self._db:
            self._db.execute("DELETE FROM sesiones WHERE huella = ?", (sesion.huella,))

    # Conversations
    def nueva_conversacion(self, duenio: str, titulo: str = "Conversación nueva") -> str:
        ident = secrets.token_urlsafe(12)
        ahora = time.time()
        with self._db:
            self._db.execute("INSERT INTO conversaciones VALUES (?, ?, ?, '[]', '[]', ?, ?)",
                             (ident, duenio, titulo, ahora, ahora))
        return ident

    def conversaciones(self, duenio: str) -> list[dict[str, Any]]:
        filas = self._db.execute("SELECT id, titulo, actualizada FROM conversaciones WHERE duenio = ? "
                                 "ORDER BY actualizada DESC", (duenio,))
        return [dict(f) for f in filas]

    def conversacion(self, duenio: str, ident: str) -> dict[str, Any] | None:
        """The conversation if it belongs to ``duenio`` (anyone else gets None, as for one that does not exist)."""
        fila = self._db.execute("SELECT * FROM conversaciones WHERE id = ? AND duenio = ?", (ident, duenio)).fetchone()
        if fila is None:
            return None
        datos = dict(fila)
        datos["historial"] = json.loads(datos["historial"])
        datos["vista"] = json.loads(datos["vista"])
        return datos

    def guardar(self, duenio: str, ident: str, *, historial: list[dict[str, Any]], vista: list[dict[str, Any]],
                titulo: str | None = None) -> None:
        with self._db:
            self._db.execute(
                "UPDATE conversaciones SET historial = ?, vista = ?, titulo = COALESCE(?, titulo), actualizada = ? "
                "WHERE id = ? AND duenio = ?",
                (json.dumps(historial, ensure_ascii=False), json.dumps(vista, ensure_ascii=False),
                 titulo, time.time(), ident, duenio))

    def renombrar(self, duenio: str, ident: str, titulo: str) -> bool:
        with self._db:
            return self._db.execute("UPDATE conversaciones SET titulo = ? WHERE id = ? AND duenio = ?",
                                    (titulo[:TITULO_MAXIMO], ident, duenio)).rowcount > 0

    def borrar(self, duenio: str, ident: str) -> bool:
        with self._db:
            return self._db.execute("DELETE FROM conversaciones WHERE id = ? AND duenio = ?",
                                    (ident, duenio)).rowcount > 0
