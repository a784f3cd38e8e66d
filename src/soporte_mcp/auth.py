"""Bearer tokens for the HTTP server: the operator's tokens file and the verifier the SDK calls.

The file holds one token per line, ``nombre:scopes:sha256``, e.g.
``agente-1:read,write:9f86d081884c7d65...``; only hashes are stored, so the
file leaks no usable secret.  ``soporte-mcp token crear`` writes the lines.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from mcp.server.auth.provider import AccessToken

from soporte_mcp.errors import ConfiguracionInvalida

SCOPES = ("read", "write")
PREFIJO = "sop_"


@dataclass(frozen=True)
class Credencial:
    nombre: str
    scopes: tuple[str, ...]
    huella: str


def huella(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def leer_tokens(ruta: Path) -> dict[str, Credencial]:
    """The tokens of ``ruta`` by hash.

    Raises:
        ConfiguracionInvalida: the file is missing, unreadable, malformed or names an unknown scope.
    """
    try:
        lineas = ruta.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfiguracionInvalida(f"no se puede leer el archivo de tokens {ruta}: {exc.strerror}") from exc
    credenciales = {}
    for numero, linea in enumerate(lineas, start=1):
        if linea.strip() and not linea.lstrip().startswith("#"):
            credencial = _linea(linea.strip(), ruta, numero)
            credenciales[credencial.huella] = credencial
    if not credenciales:
        raise ConfiguracionInvalida(f"el archivo de tokens {ruta} no tiene ningún token")
    return credenciales


def _linea(linea: str, ruta: Path, numero: int) -> Credencial:
    partes = linea.split(":")
    if len(partes) != 3 or len(partes[2]) != 64:
        raise ConfiguracionInvalida(f"{ruta}:{numero}: se esperaba nombre:scopes:sha256")
    nombre, scopes, hash_hex = partes
    lista = tuple(s.strip() for s in scopes.split(",") if s.strip())
    if not lista or any(s not in SCOPES for s in lista):
        raise ConfiguracionInvalida(f"{ruta}:{numero}: scopes válidos: {', '.join(SCOPES)} (hay {scopes!r})")
    return Credencial(nombre=nombre.strip(), scopes=lista, huella=hash_hex.lower())


def crear_token(ruta: Path, nombre: str, scopes: tuple[str, ...]) -> str:
    """Append a new token for ``nombre`` to ``ruta`` (created 0600) and return it; it is shown only once.

    Raises:
        ConfiguracionInvalida: a bad name, or a name already in the file.
    """
    if not nombre or any(c in nombre for c in ":\n#") or nombre != nombre.strip():
        raise ConfiguracionInvalida("el nombre del token no puede estar vacío ni contener ':' o '#'")
    if ruta.exists() and any(c.nombre == nombre for c in leer_tokens(ruta).values()):
        raise ConfiguracionInvalida(f"ya hay un token llamado {nombre!r} en {ruta}")
    token = PREFIJO + secrets.token_urlsafe(32)
    ruta.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(ruta, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as archivo:
        archivo.write(f"{nombre}:{','.join(scopes)}:{huella(token)}\n")
    return token


class VerificadorTokens:
    """The SDK's TokenVerifier over the tokens file (read once, at start)."""

    def __init__(self, credenciales: dict[str, Credencial]) -> None:
        self._credenciales = credenciales

    async def verify_token(self, token: str) -> AccessToken | None:
        buscada = huella(token)
        for clave, credencial in self._credenciales.items():
            # Constant-time comparison: the hash of a guess must not leak how close it came.
            if hmac.compare_digest(clave, buscada):
                return AccessToken(token=buscada[:12], client_id=credencial.nombre, scopes=list(credencial.scopes))
        return None
