"""The /admin operator's credentials: the password hash format and the session secret.

Outside ``admin/`` on purpose: the settings check these values at start (``config.py``)
and the panel uses them at login, and neither should depend on the other.  No web code
here, only ``hashlib``.

A hash is ``pbkdf2_sha256$<iterations>$<salt>$<base64 sha256 digest>`` (Django's
format, so either tool can produce or check one); ``soporte-mcp admin hash-clave``
prints one.  Only the hash is configured, so the environment never holds the password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from soporte_mcp.errors import ConfiguracionInvalida

ALGORITMO = "pbkdf2_sha256"
# OWASP's 2023 figure for PBKDF2-HMAC-SHA256: about a quarter of a second a login.
ITERACIONES = 600_000
CLAVE_MINIMA = 8
SECRETO_MINIMO = 32
# Text that marks a value copied from an example rather than generated.
MARCAS_DE_EJEMPLO = ("change", "cambia", "secret", "secreto", "example", "ejemplo", "placeholder", "xxxx")


def hash_clave(clave: str, *, iteraciones: int = ITERACIONES) -> str:
    """The hash to configure as SOPORTE_ADMIN_PASSWORD_HASH for ``clave`` (a fresh salt each time).

    Raises:
        ConfiguracionInvalida: the password is shorter than 8 characters.
    """
    if len(clave) < CLAVE_MINIMA:
        raise ConfiguracionInvalida(f"la contraseña del panel debe tener al menos {CLAVE_MINIMA} caracteres")
    sal = secrets.token_urlsafe(16)
    return f"{ALGORITMO}${iteraciones}${sal}${_derivar(clave, sal, iteraciones)}"


def verificar_clave(clave: str, clave_hash: str) -> bool:
    """True if ``clave`` is the password of ``clave_hash`` (constant-time comparison).

    Raises:
        ConfiguracionInvalida: ``clave_hash`` is not in the format above.
    """
    iteraciones, sal, esperado = partes_del_hash(clave_hash)
    return hmac.compare_digest(_derivar(clave, sal, iteraciones), esperado)


def partes_del_hash(clave_hash: str) -> tuple[int, str, str]:
    """Iterations, salt and digest of a hash.

    Raises:
        ConfiguracionInvalida: not ``pbkdf2_sha256$iteraciones$sal$hash``.
    """
    partes = clave_hash.strip().split("$")
    if len(partes) != 4 or partes[0] != ALGORITMO or not partes[1].isdigit() or not all(partes[2:]):
        raise ConfiguracionInvalida(
            "SOPORTE_ADMIN_PASSWORD_HASH no tiene el formato pbkdf2_sha256$iteraciones$sal$hash: "
            "genérelo con `soporte-mcp admin hash-clave`"
        )
    return int(partes[1]), partes[2], partes[3]


def comprobar_secreto(secreto: str) -> None:
    """Refuse a session secret that is short, repetitive or copied from an example.

    Whoever knows the secret can forge a logged-in session, so it must be random.

    Raises:
        ConfiguracionInvalida: fewer than 32 characters, fewer than 10 distinct ones, or an example value.
    """
    minusculas = secreto.lower()
    de_ejemplo = any(marca in minusculas for marca in MARCAS_DE_EJEMPLO)
    if len(secreto) < SECRETO_MINIMO or len(set(secreto)) < 10 or de_ejemplo:
        raise ConfiguracionInvalida(
            f"SOPORTE_ADMIN_SECRET debe ser aleatorio y tener al menos {SECRETO_MINIMO} caracteres; "
            "genere uno con `python -c \"import secrets; print(secrets.token_urlsafe(32))\"`"
        )


def _derivar(clave: str, sal: str, iteraciones: int) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", clave.encode(), sal.encode(), iteraciones)
    return base64.b64encode(digest).decode("ascii")
