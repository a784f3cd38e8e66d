"""Bearer tokens for the HTTP server: the operator's tokens file, or JWTs from an OAuth issuer.

The file holds one token per line, ``nombre:scopes:sha256``, e.g.
``agente-1:read,write:9f86d081884c7d65...``; only hashes are stored, so the
file leaks no usable secret.  ``soporte-mcp token crear`` writes the lines.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings

from soporte_mcp.config import SCOPES, Settings
from soporte_mcp.errors import ConfiguracionInvalida

log = logging.getLogger(__name__)

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


class VerificadorJWT:
    """OAuth 2.1 resource-server mode: JWT access tokens signed by the issuer's keys (JWKS).

    The token must name our ``audience``, come from ``issuer``, be unexpired and
    carry its scopes in ``scope`` (space-separated) or ``scp`` (a list); ``read``
    and ``write`` mean what they mean for static tokens.
    """

    ALGORITMOS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")

    def __init__(self, *, issuer: str, jwks_url: str, audience: str) -> None:
        import jwt  # PyJWT and cryptography cost ≈0.1 s to import: only when OAuth is configured

        self._jwt = jwt
        self.issuer = issuer
        self.audience = audience
        # Keys are cached for five minutes; an unknown "kid" makes PyJWKClient fetch again.
        self._claves = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=10)

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            clave = await anyio.to_thread.run_sync(self._claves.get_signing_key_from_jwt, token)
            claims = self._jwt.decode(
                token, clave.key, algorithms=list(self.ALGORITMOS), audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]}, leeway=30,
            )
        except self._jwt.PyJWTError as exc:
            log.info("token JWT rechazado: %s", exc)
            return None
        scopes = claims.get("scope", "").split() if isinstance(claims.get("scope"), str) else claims.get("scp", [])
        return AccessToken(
            token=huella(token)[:12], client_id=str(claims.get("client_id") or claims.get("azp") or claims["sub"]),
            scopes=list(scopes), expires_at=int(claims["exp"]), subject=str(claims["sub"]), resource=self.audience,
        )


def autenticacion(settings: Settings) -> tuple[TokenVerifier | None, AuthSettings | None]:
    """The verifier and the SDK's auth settings the configuration asks for (both None: no authentication).

    Raises:
        ConfiguracionInvalida: both modes at once, an incomplete OAuth set-up, or a bad tokens file.
    """
    if settings.tokens_file and settings.oauth_issuer:
        raise ConfiguracionInvalida("use tokens estáticos (--tokens-file) u OAuth (--oauth-issuer), no ambos")
    if settings.tokens_file:
        # Static tokens have no authorization server, so no protected-resource metadata is published;
        # the SDK still requires an issuer URL, which nothing reads when resource_server_url is None.
        ajustes = AuthSettings(issuer_url="http://127.0.0.1", resource_server_url=None, required_scopes=["read"])
        return VerificadorTokens(leer_tokens(settings.tokens_file)), ajustes
    if settings.oauth_issuer:
        if not settings.public_url:
            raise ConfiguracionInvalida("con --oauth-issuer indique --public-url, la URL pública de /mcp")
        jwks = settings.oauth_jwks_url or settings.oauth_issuer.rstrip("/") + "/.well-known/jwks.json"
        verificador = VerificadorJWT(issuer=settings.oauth_issuer, jwks_url=jwks, audience=settings.public_url)
        ajustes = AuthSettings(
            issuer_url=settings.oauth_issuer, resource_server_url=settings.public_url, required_scopes=["read"]
        )
        return verificador, ajustes
    return None, None
