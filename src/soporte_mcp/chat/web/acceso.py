"""Who may use the web chat: login with operator accounts, the session cookie, CSRF, login throttling.

- Accounts hold PBKDF2-SHA256 hashes in the format of /admin (``soporte-chat web cuenta crear``).
- Login is required whenever an account exists or the chat listens beyond loopback (where it
  refuses to start without accounts); on loopback without accounts each browser still gets its
  own anonymous session, so two browsers never share conversations.
- The cookie is an opaque random token (only its SHA-256 is stored), HttpOnly, SameSite=Strict,
  Secure over TLS or when told.  Every state-changing request must carry the session's CSRF
  token in ``X-CSRF-Token`` and, if the browser sends one, an ``Origin`` of this same site.
- Failed logins are counted per account name and per address: past the limit, 429 with
  Retry-After, without even checking the password.
"""

from __future__ import annotations

import hmac
import time
from collections import deque
from collections.abc import Callable
from functools import cache
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from soporte_mcp.chat.web.almacen import DURACION_SESION_S, Almacen, Sesion
from soporte_mcp.claves import hash_clave, verificar_clave

COOKIE = "soporte_chat_sesion"
CABECERA_CSRF = "x-csrf-token"
FALLOS_POR_CUENTA = 5
FALLOS_POR_DIRECCION = 20
VENTANA_S = 15 * 60
NOMBRES_LOCALES = ("127.0.0.1", "localhost", "[::1]")

__all__ = ["hash_clave", "verificar_clave"]


class Limitador:
    """Failed logins within the last ``ventana`` seconds, per key ('cuenta:…', 'ip:…')."""

    def __init__(self, *, ventana: float = VENTANA_S, reloj: Callable[[], float] = time.monotonic) -> None:
        self.ventana = ventana
        self.reloj = reloj
        self._fallos: dict[str, deque[float]] = {}

    def espera(self, nombre: str, direccion: str) -> float:
        """Seconds until a login for ``nombre`` from ``direccion`` may be tried again (0: now)."""
        return max(self._espera(f"cuenta:{nombre}", FALLOS_POR_CUENTA), self._espera(f"ip:{direccion}",
                                                                                     FALLOS_POR_DIRECCION))

    def fallo(self, nombre: str, direccion: str) -> None:
        for clave in (f"cuenta:{nombre}", f"ip:{direccion}"):
            self._fallos.setdefault(clave, deque()).append(self.reloj())

    def exito(self, nombre: str) -> None:
        self._fallos.pop(f"cuenta:{nombre}", None)

    def _espera(self, clave: str, limite: int) -> float:
        fallos = self._fallos.get(clave)
        if not fallos:
            return 0.0
        ahora = self.reloj()
        while fallos and fallos[0] <= ahora - self.ventana:
            fallos.popleft()
        return 0.0 if len(fallos) < limite else fallos[0] + self.ventana - ahora


def clave_correcta(almacen: Almacen, nombre: str, clave: str) -> bool:
    """True if ``clave`` is the password of account ``nombre`` (slow on purpose: run it in a thread)."""
    guardado = almacen.hash_de(nombre)
    correcta = verificar_clave(clave, guardado or _señuelo())
    return correcta and guardado is not None


@cache
def _señuelo() -> str:
    # Checked when the account does not exist, so that a wrong name takes as long as a wrong password.
    return hash_clave("señuelo-sin-uso")


def sesion_de(request: Request, almacen: Almacen) -> Sesion | None:
    token = request.cookies.get(COOKIE)
    return almacen.sesion(token) if token else None


def poner_cookie(respuesta: Response, token: str, *, segura: bool) -> None:
    respuesta.set_cookie(COOKIE, token, max_age=DURACION_SESION_S, path="/", httponly=True, samesite="strict",
                         secure=segura)


def csrf_valido(request: Request, sesion: Sesion) -> bool:
    enviado = request.headers.get(CABECERA_CSRF, "")
    return bool(enviado) and hmac.compare_digest(enviado, sesion.csrf)


def mismo_origen(request: Request) -> bool:
    """No Origin (some clients send none), or one naming this host.

    Only the host is compared, not the scheme: behind a TLS proxy the browser says https
    while this server is spoken to in http.
    """
    origen = request.headers.get("origin")
    return origen is None or urlsplit(origen).netloc == request.headers.get("host", "")


def host_local(request: Request) -> bool:
    """On loopback, the Host must be a loopback name: a foreign name pointed at 127.0.0.1 is DNS rebinding."""
    host = request.headers.get("host", "")
    nombre = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return nombre in NOMBRES_LOCALES
