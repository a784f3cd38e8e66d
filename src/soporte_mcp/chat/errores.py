"""The chat's branch of the soporte-mcp error tree (rooted at ``soporte_mcp.errors.SoporteError``).

    SoporteError
    ├── ConfiguracionInvalida        (soporte_mcp.errors) options, --config file or credentials
    └── ErrorDelChat                 anything the chat cannot do
        ├── ServidorNoDisponible     an MCP server could not be started or reached
        └── ErrorDelModelo           the model endpoint failed the request
            ├── CredencialesRechazadas   401/403: the key is missing, wrong or not allowed
            ├── LimiteDePeticiones       429 still after the retries
            ├── TiempoAgotado            no answer within --timeout
            └── SinConexion              nothing listens at the endpoint

The CLI turns these into one ``Error: ...`` line; in the interactive chat the line is
printed and the chat goes on.  They live here rather than in ``errors.py`` only so that
the chat stays in its own package; they share its root, so one ``except SoporteError``
still catches everything.
"""

from __future__ import annotations

import socket
import ssl

from soporte_mcp.errors import ConfiguracionInvalida, SoporteError

__all__ = ["ConfiguracionInvalida"]  # the server's own: one class for an unusable setting, chat or server


class ErrorDelChat(SoporteError):
    """Base of the chat's errors."""

    codigo = "chat"


class ServidorNoDisponible(ErrorDelChat):
    """An MCP server could not be started, reached or listed."""

    codigo = "servidor_no_disponible"


class ErrorDelModelo(ErrorDelChat):
    """The model endpoint failed the request."""

    codigo = "error_del_modelo"


class CredencialesRechazadas(ErrorDelModelo):
    """The endpoint refused the API key (401) or its permissions (403)."""

    codigo = "credenciales_rechazadas"


class LimiteDePeticiones(ErrorDelModelo):
    """The endpoint kept answering 429 after every retry."""

    codigo = "limite_de_peticiones"


class TiempoAgotado(ErrorDelModelo):
    """The endpoint did not answer within the timeout."""

    codigo = "tiempo_agotado"


class SinConexion(ErrorDelModelo):
    """The endpoint could not be reached at all."""

    codigo = "sin_conexion"


def causa_legible(exc: BaseException) -> str:
    """Why a connection (or a server's start) failed, in Spanish for the usual causes; else the innermost
    error's own text.

    Follows the chain of causes (the SDKs wrap the socket error two or three times) and
    the first error of each exception group (the MCP client's task groups).
    """
    actual: BaseException | None = exc
    ultimo = exc
    for _ in range(20):  # a chain is a handful of links; never loop on a cycle
        if actual is None:
            break
        if isinstance(actual, BaseExceptionGroup) and actual.exceptions:
            actual = actual.exceptions[0]
            continue
        if isinstance(actual, ConnectionRefusedError):
            return "conexión rechazada (no hay nada escuchando en esa dirección)"
        if isinstance(actual, socket.gaierror):
            return "no se encontró ese nombre de servidor"
        if isinstance(actual, FileNotFoundError) and actual.filename:
            return f"no existe el programa {actual.filename}"
        if isinstance(actual, PermissionError) and actual.filename:
            return f"no hay permiso para ejecutar {actual.filename}"
        if isinstance(actual, ssl.SSLCertVerificationError):
            return f"el certificado TLS del servidor no es válido ({actual.verify_message})"
        if isinstance(actual, ssl.SSLError):
            return "falló la conexión segura (TLS)"
        ultimo = actual
        actual = actual.__cause__ or actual.__context__
    return str(ultimo) or type(ultimo).__name__
