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
