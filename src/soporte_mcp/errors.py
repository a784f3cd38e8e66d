"""The errors of soporte-mcp, raised by the services and translated once per boundary.

    SoporteError                    anything the domain refuses or cannot do
    ├── Rechazo                     the request is refused; nothing was changed
    │   ├── NoEncontrado            a referenced record does not exist
    │   │   ├── ClienteNoEncontrado
    │   │   ├── TicketNoEncontrado
    │   │   └── PagoNoEncontrado
    │   ├── HerramientaDesconocida  the client called a tool this server does not have
    │   ├── DatoInvalido            an argument is malformed or out of range
    │   │   ├── ArgumentoInvalido   rejected by the tool's input schema, before any rule ran
    │   │   ├── ConsultaVacia
    │   │   ├── ConsultaDemasiadoLarga
    │   │   ├── EmailEnUso
    │   │   ├── MontoInvalido
    │   │   ├── PrioridadInvalida
    │   │   ├── MetodoPagoInvalido
    │   │   ├── LimiteInvalido
    │   │   ├── EstadoInvalido
    │   │   ├── CursorInvalido
    │   │   ├── RangoFechasInvalido
    │   │   ├── SinCambios
    │   │   ├── MotivoRequerido
    │   │   └── MontoExcedeReversible
    │   ├── ClienteInactivo         the customer exists but is deactivated
    │   ├── ClaveIdempotenciaReutilizada
    │   ├── TransicionInvalida      a ticket state the state table does not allow next
    │   ├── TicketCerrado           a closed ticket admits no change
    │   ├── VersionDesactualizada   a change made on a stale copy of a ticket
    │   ├── PagoYaAnulado           nothing of the payment is left to reverse
    │   ├── PermisoDenegado         the caller's credential does not allow this operation
    │   ├── NoConfirmado            the person declined or cancelled the confirmation form
    │   │   ├── PagoNoConfirmado
    │   │   └── AnulacionNoConfirmada
    │   ├── ConfirmacionNoDisponible  confirmation is required and this client cannot be asked
    │   └── ConfirmacionDesactualizada  what the person confirmed no longer holds at write time
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


class PagoNoEncontrado(NoEncontrado):
    """No payment has the given id."""

    codigo = "pago_no_encontrado"

    def __init__(self, pago_id: int) -> None:
        super().__init__(
            f"No existe un pago con id {pago_id}. Use listarPagos con el id del cliente para ver sus pagos."
        )
        self.pago_id = pago_id


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


class EstadoInvalido(DatoInvalido):
    """A ticket state outside the list of states."""

    codigo = "estado_invalido"


class CursorInvalido(DatoInvalido):
    """A page cursor this server did not hand out (tampered, truncated, or of another list)."""

    codigo = "cursor_invalido"

    def __init__(self, herramienta: str) -> None:
        super().__init__(
            f"El cursor no es válido para {herramienta}: use sin cambios el valor «siguiente» de la respuesta "
            "anterior, o llame sin cursor para empezar desde el principio."
        )


class RangoFechasInvalido(DatoInvalido):
    """A date range whose start comes after its end."""

    codigo = "rango_fechas_invalido"


class SinCambios(DatoInvalido):
    """An update that names nothing to change."""

    codigo = "sin_cambios"


class MotivoRequerido(DatoInvalido):
    """A reversal needs a reason."""

    codigo = "motivo_requerido"

    def __init__(self) -> None:
        super().__init__(
            "Falta el motivo de la anulación: indique en una frase por qué se anula el pago "
            "(p. ej. \"se registró por error\")."
        )


class MontoExcedeReversible(DatoInvalido):
    """A reversal larger than what remains of the payment."""

    codigo = "monto_excede_reversible"


class TransicionInvalida(Rechazo):
    """A ticket cannot move from its state to the one asked for."""

    codigo = "transicion_invalida"


class TicketCerrado(Rechazo):
    """A closed ticket is final."""

    codigo = "ticket_cerrado"


class VersionDesactualizada(Rechazo):
    """The ticket changed since the caller read it (optimistic concurrency)."""

    codigo = "version_desactualizada"


class PagoYaAnulado(Rechazo):
    """The payment has been reversed in full already."""

    codigo = "pago_ya_anulado"


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
    """An idempotency key already used for a payment (or a reversal) with other arguments."""

    codigo = "clave_idempotencia_reutilizada"

    def __init__(self, clave: str, que: str = "un pago") -> None:
        super().__init__(
            f"La clave de idempotencia {clave!r} ya se usó para {que} con otros datos. "
            f"Use una clave nueva para {que} distinto; repita los mismos datos solo para reintentar."
        )


class NoConfirmado(Rechazo):
    """The person was asked to confirm an operation that moves money and did not accept it."""

    codigo = "no_confirmado"

    def __init__(self, mensaje: str, *, cancelada: bool) -> None:
        super().__init__(mensaje)
        # The audit row keeps which of the two it was (see services/auditoria.registrar_fallo).
        self.detalles = {"confirmacion": "cancelada" if cancelada else "rechazada"}


class PagoNoConfirmado(NoConfirmado):
    """The person declined (or cancelled) the confirmation of a payment."""

    codigo = "pago_no_confirmado"

    def __init__(self, cliente_id: int, monto: str, *, cancelada: bool) -> None:
        como = "canceló la confirmación" if cancelada else "respondió que no"
        super().__init__(
            f"El usuario no confirmó el pago de ${monto} al cliente {cliente_id} ({como}): no se registró nada. "
            "No repita la llamada salvo que el usuario lo pida de nuevo.",
            cancelada=cancelada,
        )


class AnulacionNoConfirmada(NoConfirmado):
    """The person declined (or cancelled) the confirmation of a reversal."""

    codigo = "anulacion_no_confirmada"

    def __init__(self, pago_id: int, monto: str, *, cancelada: bool) -> None:
        como = "canceló la confirmación" if cancelada else "respondió que no"
        super().__init__(
            f"El usuario no confirmó la anulación de ${monto} del pago {pago_id} ({como}): no se anuló nada. "
            "No repita la llamada salvo que el usuario lo pida de nuevo.",
            cancelada=cancelada,
        )


class ConfirmacionNoDisponible(Rechazo):
    """The server must ask the person (SOPORTE_CONFIRMAR_PAGOS=siempre) and this client cannot be asked."""

    codigo = "confirmacion_no_disponible"

    def __init__(self, que: str, motivo: str) -> None:
        super().__init__(
            f"Este servidor exige que el usuario confirme {que} en un formulario, y {motivo}: no se registró nada. "
            "Indique al usuario que use un cliente MCP que admita formularios de confirmación (elicitation)."
        )
        self.detalles = {"confirmacion": "no_posible"}


class ConfirmacionDesactualizada(Rechazo):
    """The balance or the payments changed between the person's yes and the write."""

    codigo = "confirmacion_desactualizada"

    def __init__(self, que: str) -> None:
        super().__init__(
            f"Los datos que el usuario confirmó para {que} cambiaron antes de registrarlo (otro movimiento del "
            "cliente): no se registró nada. Vuelva a llamar a la herramienta para que el usuario confirme "
            "con los datos actuales."
        )
        self.detalles = {"confirmacion": "desactualizada"}


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
