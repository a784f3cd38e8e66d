"""Who may use the panel: one operator account, a signed session cookie, and the caller for the audit."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from sqladmin.authentication import AuthenticationBackend, get_current_user_id
from starlette.requests import Request

from soporte_mcp.claves import verificar_clave
from soporte_mcp.services.auditoria import Llamada

HERRAMIENTA = "admin"
# A working day: after it the operator logs in again.
DURACION_SESION_S = 8 * 3600


class Acceso(AuthenticationBackend):
    """The operator configured by SOPORTE_ADMIN_USER / SOPORTE_ADMIN_PASSWORD_HASH.

    The session remembers the user and a fingerprint of the hash, so that
    configuring a new password ends every session opened with the old one.
    """

    def __init__(self, *, usuario: str, clave_hash: str, secreto: str, ruta: str) -> None:
        super().__init__(
            secret_key=secreto, session_cookie="soporte_admin", max_age=DURACION_SESION_S, path=ruta,
            same_site="lax",
        )
        self._usuario = usuario
        self._hash = clave_hash
        self._version = hashlib.sha256(clave_hash.encode()).hexdigest()[:16]

    async def login(self, request: Request) -> bool:
        formulario = await request.form()
        usuario, clave = str(formulario.get("username", "")), str(formulario.get("password", ""))
        # The hash is checked even for a wrong user name, so that timing does not tell which one was wrong;
        # in a worker thread, because it takes a CPU-bound quarter of a second.
        clave_ok = await anyio.to_thread.run_sync(verificar_clave, clave, self._hash)
        if not (hmac.compare_digest(usuario.encode(), self._usuario.encode()) and clave_ok):
            return False
        request.session.clear()
        request.session.update({"usuario": self._usuario, "version": self._version})
        return True

    async def logout(self, request: Request) -> bool:
        request.session.clear()
        return True

    async def authenticate(self, request: Request) -> bool:
        sesion = request.session
        return sesion.get("usuario") == self._usuario and sesion.get("version") == self._version

    async def get_user_id(self, request: Request) -> Any:
        return request.session.get("usuario")


def llamada(request: Request, accion: str, argumentos: Mapping[str, Any]) -> Llamada:
    """The audit's caller for a change made in the panel: the operator and their address."""
    return Llamada(
        herramienta=HERRAMIENTA,
        argumentos={"accion": accion, **argumentos},
        usuario=get_current_user_id(request),
        ip=request.client.host if request.client else None,
    )
