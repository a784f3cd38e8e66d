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

The questions of registrarPago and anularPago are at the end of this module: a
new operation plugs in with a ``previa_*`` resolver (its service's read of what
the form shows), a ``pregunta_*`` (the message) and a ``preguntar_*`` resolver,
and takes ``Annotated[ElicitationResult[ConfirmarPago], Resolve(preguntar_*)]``
in its tool (see tools/pagos.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.server.mcpserver.tools import Tool
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field, PrivateAttr

from soporte_mcp.perezoso import perezoso
from soporte_mcp.services.confirmacion import (
    SIN_PREGUNTA,
    Confirmacion,
    Estado,
    PreviaAnulacion,
    PreviaPago,
    Vista,
)
from soporte_mcp.tools._comun import estado
from soporte_mcp.tools.catalogo import CONFIRMAN, META_CONFIRMA

# Imported by the first question asked (see tools/clientes.py).
pagos = perezoso("soporte_mcp.services.pagos")
anulaciones = perezoso("soporte_mcp.services.anulaciones")

T = TypeVar("T")

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
    for tool in server._tool_manager.list_tools():
        if tool.name in CONFIRMAN:
            tool.meta = {**(tool.meta or {}), META_CONFIRMA: "elicitation"}


def preguntar(ctx: Context, pregunta: Pregunta | None) -> Elicit[ConfirmarPago] | Confirmacion:
    """The form for ``pregunta``, or why nobody is asked (None: the service will refuse the call anyway)."""
    # Before looking at ``pregunta``: when nobody can be asked, ``previa_*`` did not read it (``_leer``).
    # The service refuses a call that fails its own checks (unknown customer, a repeated key's other
    # data…) before it looks at the confirmation, so "no_posible" changes nothing for those.
    sin_pregunta = sin_formulario(ctx)
    if sin_pregunta is not None:
        return sin_pregunta
    if pregunta is None:
        return SIN_PREGUNTA
    return Elicit(pregunta.mensaje, ConfirmarPago)


def sin_formulario(ctx: Context) -> Confirmacion | None:
    """How the confirmation ends when nobody is to be asked (the policy is ``nunca``, or this client
    cannot be asked); None when the person can be asked."""
    politica = estado(ctx).settings.confirmar_pagos
    if politica == "nunca":
        return SIN_PREGUNTA
    motivo = _impedimento(ctx)
    if motivo is None:
        return None
    return Confirmacion(Estado.NO_POSIBLE, motivo=motivo, exigida=politica == "siempre")


class Confirmable(Tool):
    """A tool whose resolvers ask the person, run without them when nobody can be asked.

    Why (issue 13): when nobody can be asked (a client that declares no elicitation, a
    2025-11-25 call over stateless HTTP, the ``nunca`` policy), the resolvers only ever
    come to "no preview read, nobody asked" (``_leer``, ``preguntar``), yet the SDK's
    resolution around them (its per-call state, decoding ``requestState``, awaiting each
    resolver) took ≈ 80 µs of a payment's ≈ 1 ms.  Then this hands the body exactly what
    the resolvers would have given it, ``None`` for the preview and the answer accepted
    with that ``Confirmacion`` (as the SDK wraps a resolver's plain value), through a
    copy of the tool without resolvers, one per distinct answer.  Whenever a person can
    be asked, the SDK's own resolution runs as before.
    """

    previa: str
    respuesta: str
    _sin_resolvers: dict[Confirmacion, Tool] = PrivateAttr(default_factory=dict)

    @classmethod
    def de(cls, herramienta: Tool, *, previa: str, respuesta: str) -> Confirmable:
        """``herramienta`` (registered with resolvers for its parameters ``previa`` and ``respuesta``) as one."""
        if set(herramienta.resolved_params) != {previa, respuesta}:
            raise ValueError(f"{herramienta.name}: se esperaban resolvers para {previa!r} y {respuesta!r}")
        campos = {campo: getattr(herramienta, campo) for campo in Tool.model_fields}
        return cls.model_construct(**campos, previa=previa, respuesta=respuesta)

    async def run(self, arguments: dict[str, Any], context: Context, convert_result: bool = False) -> Any:
        sin_pregunta = sin_formulario(context)
        if sin_pregunta is None:
            return await super().run(arguments, context, convert_result)
        return await self._sin_preguntar(sin_pregunta).run(arguments, context, convert_result)

    def _sin_preguntar(self, sin_pregunta: Confirmacion) -> Tool:
        herramienta = self._sin_resolvers.get(sin_pregunta)
        if herramienta is None:
            respuesta = AcceptedElicitation[Any].model_construct(data=sin_pregunta)
            fn = functools.partial(self.fn, **{self.previa: None, self.respuesta: respuesta})
            campos = {campo: getattr(self, campo) for campo in Tool.model_fields}
            herramienta = Tool.model_construct(**campos | {"fn": fn, "resolved_params": {}, "resolver_plans": {}})
            self._sin_resolvers[sin_pregunta] = herramienta
        return herramienta


def confirmables(server: MCPServer, *nombres: str, previa: str = "previa", respuesta: str = "respuesta") -> None:
    """Make the registered tools ``nombres`` ``Confirmable`` (their resolvers fill ``previa`` and ``respuesta``)."""
    for nombre in nombres:
        server._tool_manager._tools[nombre] = Confirmable.de(
            server._tool_manager.get_tool(nombre), previa=previa, respuesta=respuesta)


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


async def _leer(ctx: Context, servicio: Callable[..., T | None], **kwargs: Any) -> T | None:
    """The service's read of what the form shows; nothing when nobody will be asked (``nunca``, or a
    client that cannot be asked: ``preguntar`` then answers without a form, whatever the read says).

    Skipping it matters for speed (issue 13): a client that declares no elicitation (a load
    generator, most programs) paid a customer read before every payment for a form never shown.
    """
    if sin_formulario(ctx) is not None:
        return None
    db = await estado(ctx).db()
    return await db.run(servicio, db=db, **kwargs)


def _mensaje(titulo: str, lineas: dict[str, str], ultimo_pago: int) -> str:
    # The last line names the customer's last payment: with the balance, it makes the question a
    # new one after any movement, so that a recorded "yes" cannot be replayed into a second write.
    ultimo = f"#{ultimo_pago}" if ultimo_pago else "ninguno"
    cuerpo = [f"{etiqueta}: {valor}" for etiqueta, valor in lineas.items()]
    return "\n".join([titulo, *cuerpo, f"Último pago registrado del cliente: {ultimo}"])


# registrarPago


async def previa_pago(
    ctx: Context,
    clienteId: int,
    monto: Decimal | str,
    metodoPago: str,
    descripcion: str | None,
    idempotencyKey: str | None,
) -> PreviaPago | None:
    return await _leer(ctx, pagos.previa_pago, cliente_id=clienteId, monto=monto, metodo_pago=metodoPago,
                       descripcion=descripcion, clave_idempotencia=idempotencyKey)


def pregunta_pago(previa: PreviaPago | None) -> Pregunta | None:
    if previa is None or previa.repetido:  # a retry of a payment already made answers without asking
        return None
    mensaje = _mensaje("Confirme el pago antes de registrarlo:", {
        "Cliente": f"#{previa.cliente_id} {previa.cliente_nombre}",
        "Monto": f"${previa.monto:.2f}",
        "Método de pago": previa.metodo_pago,
        "Concepto": previa.descripcion,
        "Saldo actual": f"${previa.saldo:.2f}",
        "Saldo después del pago": f"${previa.saldo_despues:.2f}",
    }, previa.ultimo_pago)
    return Pregunta(mensaje, previa.vista)


async def preguntar_pago(
    ctx: Context, previa: Annotated[PreviaPago | None, Resolve(previa_pago)]
) -> Elicit[ConfirmarPago] | Confirmacion:
    return preguntar(ctx, pregunta_pago(previa))


# anularPago


async def previa_anulacion(
    ctx: Context,
    pagoId: int,
    motivo: str,
    monto: Decimal | str | None,
    idempotencyKey: str | None,
) -> PreviaAnulacion | None:
    return await _leer(ctx, anulaciones.previa_anulacion, pago_id=pagoId, motivo=motivo, monto=monto,
                       clave_idempotencia=idempotencyKey)


def pregunta_anulacion(previa: PreviaAnulacion | None) -> Pregunta | None:
    if previa is None or previa.repetido:
        return None
    mensaje = _mensaje("Confirme la anulación antes de registrarla:", {
        "Pago": f"#{previa.pago_id} de ${previa.pago_monto:.2f} ({previa.metodo_pago}); "
                f"ya anulado: ${previa.anulado:.2f}",
        "Cliente": f"#{previa.cliente_id} {previa.cliente_nombre}",
        "Monto a anular": f"${previa.monto:.2f}",
        "Motivo": previa.motivo,
        "Saldo actual": f"${previa.saldo:.2f}",
        "Saldo después de la anulación": f"${previa.saldo_despues:.2f}",
    }, previa.ultimo_pago)
    return Pregunta(mensaje, previa.vista)


async def preguntar_anulacion(
    ctx: Context, previa: Annotated[PreviaAnulacion | None, Resolve(previa_anulacion)]
) -> Elicit[ConfirmarPago] | Confirmacion:
    return preguntar(ctx, pregunta_anulacion(previa))
