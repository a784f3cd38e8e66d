"""The errors of soporte-mcp, raised by the services and translated once per boundary.

    SoporteError                    anything the domain refuses or cannot do
    ├── Rechazo                     the request is refused; nothing was changed
    │   ├── NoEncontrado            a referenced record does not exist
    │   │   ├── ClienteNoEncontrado
    │   │   └── TicketNoEncontrado
    │   ├── HerramientaDesconocida  the client called a tool this server does not have
    │   ├── DatoInvalido            an argument is malformed or out of range
    │   │   ├── ArgumentoInvalido   rejected by the tool's input schema, before any rule ran
    │   │   ├── ConsultaVacia
    │   │   ├── ConsultaDemasiadoLarga
    │   │   ├── EmailEnUso
    │   │   ├── MontoInvalido
    │   │   ├── PrioridadInvalida
    │   │   ├── MetodoPagoInvalido
    │   │   └── LimiteInvalido
    │   ├── ClienteInactivo         the customer exists but is deactivated
    │   ├── ClaveIdempotenciaReutilizada
    │   └── PermisoDenegado         the caller's credential does not allow this operation
    ├── BaseDeDatosNoDisponible     the database cannot be reached or opened (retryable)
    ├── ErrorInterno                a bug: the details stay in the server's log
    └── ConfiguracionInvalida       a setting is unusable (tokens file, admin panel, chat options)

Messages are Spanish because the people and the models reading them work in
Spanish; each one says what to do next.  ``codigo`` is stable for programs: it
reaches MCP clients in every refused call (``_meta["soporte/codigo"]``, see
tools/_errores.py) and the README lists them.
Register: everything a person or a model reads says "usted", never "tú".
"""

from __future__ import annotations


class SoporteError(Exception):
    """Base of every error this package raises on purpose."""

    codigo = "error"
    # Whether the same call may succeed later as it is (a busy database), or needs other input.
    reintentable = False

    def __init__(self, mensaje: str) -> None:
        super().__init__(mensaje)
        self.mensaje = mensaje


class Rechazo(SoporteError):
    """The request was refused and changed no business data."""

    codigo = "rechazado"


class NoEncontrado(Rechazo):
    """A record the request names does not exist."""

    codigo = "no_encontrado"


class ClienteNoEncontrado(NoEncontrado):
    """No customer has the given id."""

    codigo = "cliente_no_encontrado"

    def __init__(self, cliente_id: int) -> None:
        super().__init__(
            f"No existe un cliente con id {cliente_id}. "
            "Use buscarCliente con el nombre o el email para obtener el id correcto."
        )
        self.cliente_id = cliente_id


class TicketNoEncontrado(NoEncontrado):
    """No ticket has the given id."""

    codigo = "ticket_no_encontrado"

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"No existe un ticket con id {ticket_id}.")
        self.ticket_id = ticket_id


class DatoInvalido(Rechazo):
    """An argument is malformed or out of range."""

    codigo = "dato_invalido"


class ArgumentoInvalido(DatoInvalido):
    """The arguments do not fit the tool's input schema (a missing field, a wrong type)."""

    codigo = "argumento_invalido"


class HerramientaDesconocida(Rechazo):
    """The client named a tool this server does not publish."""

    codigo = "herramienta_desconocida"

    def __init__(self, nombre: str, disponibles: list[str]) -> None:
        super().__init__(
            f"No existe la herramienta {nombre!r}. Las disponibles son: {', '.join(sorted(disponibles))}."
        )


class ConsultaVacia(DatoInvalido):
    """A search needs some text."""

    codigo = "consulta_vacia"

    def __init__(self) -> None:
        super().__init__("La búsqueda está vacía. Indique un nombre, apellido o email (o parte de él).")


class ConsultaDemasiadoLarga(DatoInvalido):
    """A search with more words than any name or email has."""

    codigo = "consulta_demasiado_larga"


class EmailEnUso(DatoInvalido):
    """Another customer already has that email (emails identify customers)."""

    codigo = "email_en_uso"


class MontoInvalido(DatoInvalido):
    """A money amount is not a positive number with at most two decimals within the limit."""

    codigo = "monto_invalido"


class PrioridadInvalida(DatoInvalido):
    """A ticket priority outside the allowed values."""

    codigo = "prioridad_invalida"


class MetodoPagoInvalido(DatoInvalido):
    """A payment method outside the allowed values."""

    codigo = "metodo_pago_invalido"


class LimiteInvalido(DatoInvalido):
    """A result limit outside its bounds."""

    codigo = "limite_invalido"


class ClienteInactivo(Rechazo):
    """The customer exists but is deactivated, and the operation needs an active one."""

    codigo = "cliente_inactivo"

    def __init__(self, cliente_id: int, nombre: str) -> None:
        super().__init__(
            f"El cliente {cliente_id} ({nombre}) está inactivo y no admite esta operación. "
            "Confirme con el usuario si se trata de otro cliente o si debe reactivarse."
        )
        self.cliente_id = cliente_id


class ClaveIdempotenciaReutilizada(Rechazo):
    """An idempotency key already used for a payment with other arguments."""

    codigo = "clave_idempotencia_reutilizada"

    def __init__(self, clave: str) -> None:
        super().__init__(
            f"La clave de idempotencia {clave!r} ya se usó para un pago con otros datos. "
            "Use una clave nueva para un pago distinto; repita los mismos datos solo para reintentar."
        )


class BaseDeDatosNoDisponible(SoporteError):
    """The database cannot be opened or reached, or stayed locked past the wait."""

    codigo = "base_de_datos_no_disponible"
    reintentable = True


class ErrorInterno(SoporteError):
    """Something failed that should not have: a bug. The client learns only that, the log has the rest."""

    codigo = "error_interno"


class PermisoDenegado(Rechazo):
    """The caller's credential lacks the scope the operation needs."""

    codigo = "permiso_denegado"

    def __init__(self) -> None:
        super().__init__(
            "Este acceso solo permite consultas (scope read): no puede registrar pagos ni crear tickets. "
            "Indique al usuario que lo haga alguien con permiso de escritura (scope write)."
        )


class ConfiguracionInvalida(SoporteError):
    """An operator setting cannot be used as given."""

    codigo = "configuracion_invalida"
