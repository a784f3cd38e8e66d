"""Asking the person before money moves: an MCP elicitation form before registrarPago (and anularPago).

The question is a pair of SDK resolvers on the tool: one reads what the form
shows (``previa``, a read transaction, never the write lock), the other turns it
into ``Elicit(mensaje, ConfirmarPago)`` or, when nobody is to be asked, a
``Confirmacion`` saying why.  The SDK carries the question the way the
negotiated protocol wants: on 2026-07-28 the call answers ``input_required`` and
the client retries with the answer inside a sealed ``requestState`` (any worker
can take the retry when they share SOPORTE_REQUEST_STATE_SECRET); on 2025-11-25
it sends ``elicitation/create`` in the middle of the call, which needs a
connection that can carry it (stdio, or an HTTP session answered with SSE; see
http.py).  The tool body gets the person's answer and hands the service a
``Confirmacion``; the service decides and audits (services/confirmacion.py).

Policy (SOPORTE_CONFIRMAR_PAGOS): ``auto`` asks whenever the client can be
asked and otherwise goes on, recording ``no_posible``; ``siempre`` refuses a
client that cannot be asked; ``nunca`` never asks.

A new operation plugs in with a ``previa`` resolver of its own and
``preguntar(ctx, Pregunta(...))`` in a second one (see tools/pagos.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from soporte_mcp.services.confirmacion import SIN_PREGUNTA, Confirmacion, Estado, Vista
from soporte_mcp.tools._comun import estado

# Declared in the tool's _meta when the server asks the person itself, so that a client that would
# ask too (soporte-chat) can leave it to the server. Absent under SOPORTE_CONFIRMAR_PAGOS=nunca.
META_CONFIRMA = "soporte/confirmacion"
CONFIRMAN = ("registrarPago", "anularPago")
# The first protocol revision that carries the question inside the call (input_required).
PROTOCOLO_EN_LLAMADA = "2026-07-28"


# The form: the data are in its message (every host shows it, and a person cannot edit them there);
# the person answers one yes/no field. Its docstring is the schema's description, which hosts may show.
class ConfirmarPago(BaseModel):
    """Confirmación de la operación descrita en el mensaje."""

    confirmar: bool = Field(
        title="¿Confirma la operación?",
        description="Sí: se registra tal como se muestra. No: no se registra nada.",
    )


@dataclass(frozen=True)
class Pregunta:
    """What the person is asked to confirm: the form's message, and the data it shows that must still hold."""

    mensaje: str
    vista: Vista


def declarar(server: MCPServer) -> None:
    """Mark the tools that ask for confirmation in their ``_meta`` (call only when the policy may ask)."""
    for tool in server._tool_manager.list_tools():  # noqa: SLF001 - the SDK has no public way to set _meta later
        if tool.name in CONFIRMAN:
            tool.meta = {**(tool.meta or {}), META_CONFIRMA: "elicitation"}


def preguntar(ctx: Context, pregunta: Pregunta | None) -> Elicit[ConfirmarPago] | Confirmacion:
    """The form for ``pregunta``, or why nobody is asked (None: the service will refuse the call anyway)."""
    politica = estado(ctx).settings.confirmar_pagos
    if politica == "nunca" or pregunta is None:
        return SIN_PREGUNTA
    motivo = _impedimento(ctx)
    if motivo is not None:
        return Confirmacion(Estado.NO_POSIBLE, motivo=motivo, exigida=politica == "siempre")
    return Elicit(pregunta.mensaje, ConfirmarPago)


def confirmacion(respuesta: ElicitationResult[ConfirmarPago], pregunta: Pregunta | None) -> Confirmacion:
    """The service's view of how the question ended (``respuesta`` as the resolver left it)."""
    if isinstance(respuesta, CancelledElicitation):
        return Confirmacion(Estado.CANCELADA)
    if not isinstance(respuesta, AcceptedElicitation):
        return Confirmacion(Estado.RECHAZADA)
    if isinstance(respuesta.data, Confirmacion):  # nobody was asked
        return respuesta.data
    if respuesta.data.confirmar and pregunta is not None:
        return Confirmacion(Estado.CONFIRMADA, vista=pregunta.vista)
    return Confirmacion(Estado.RECHAZADA)  # "accept" with the box left at no


def _impedimento(ctx: Context) -> str | None:
    """Why this client cannot be asked mid-call, in words for the refusal; None when it can."""
    version = ctx.protocol_version
    en_llamada = version is not None and is_version_at_least(version, PROTOCOLO_EN_LLAMADA)
    # First: over stateless HTTP a 2025-11-25 request carries no capabilities at all (they were in an
    # `initialize` that no process kept), so this is the real reason there.
    if not en_llamada and not ctx.session.can_send_request:
        return ("esta conexión no permite preguntar en mitad de una llamada (protocolo 2025-11-25 sobre HTTP "
                "sin sesión, p. ej. con varios procesos)")
    capacidades = ctx.client_capabilities
    elicitation = capacidades.elicitation if capacidades is not None else None
    # A bare `elicitation: {}` means form support (the only mode before modes existed); url-only does not.
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return "su cliente MCP no admite formularios de confirmación (elicitation)"
    return None
