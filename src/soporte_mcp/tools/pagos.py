"""registrarPago, listarPagos and anularPago."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Resolve
from mcp.types import ToolAnnotations
from pydantic import Field

from soporte_mcp.dominio import METODOS_PAGO, PAGOS_LIMITE_MAXIMO, PAGOS_LIMITE_POR_DEFECTO, Tipo
from soporte_mcp.perezoso import perezoso
from soporte_mcp.services.confirmacion import PreviaAnulacion, PreviaPago
from soporte_mcp.services.schemas import AnulacionRegistrada, ListaPagos, PagoRegistrado
from soporte_mcp.tools._comun import ESCRITURA, LECTURA, ejecutar, estado, publicar
from soporte_mcp.tools._confirmacion import (
    ConfirmarPago,
    confirmables,
    confirmacion,
    pregunta_anulacion,
    pregunta_pago,
    preguntar_anulacion,
    preguntar_pago,
    previa_anulacion,
    previa_pago,
)
from soporte_mcp.tools.clientes import ClienteId
from soporte_mcp.tools.tickets import Cursor

# Imported by the first call (see tools/clientes.py).
servicio = perezoso("soporte_mcp.services.pagos")
movimientos = perezoso("soporte_mcp.services.movimientos")
anulaciones = perezoso("soporte_mcp.services.anulaciones")


async def registrar_pago(
    clienteId: ClienteId,
    # Decimal | str: a JSON number becomes an exact Decimal here, a string is parsed by the service.
    monto: Annotated[
        Decimal | str,
        Field(
            description="Importe en dólares, mayor que 0 y hasta 999999.99, con dos decimales como máximo: "
            "500, 150.5, \"1250.75\" o \"$1250.75\" (sin separador de miles ni exponente)."
        ),
    ],
    ctx: Context,
    # Filled by the SDK before the body runs, never by the client (hidden from the input schema).
    previa: Annotated[PreviaPago | None, Resolve(previa_pago)],
    respuesta: Annotated[ElicitationResult[ConfirmarPago], Resolve(preguntar_pago)],
    descripcion: Annotated[str | None, Field(description="Concepto del pago, opcional.")] = None,
    metodoPago: Annotated[
        str,
        Field(
            description="efectivo, tarjeta, transferencia (por defecto) o cheque. "
            "\"Transferencia bancaria\" → transferencia; \"con tarjeta de crédito\" → tarjeta.",
            json_schema_extra={"enum": list(METODOS_PAGO)},
        ),
    ] = "transferencia",
    idempotencyKey: Annotated[
        str | None,
        Field(
            description="Clave única de este pago (p. ej. un UUID). Si reintenta tras un error de red, "
            "repita la misma clave: el pago no se duplica."
        ),
    ] = None,
) -> PagoRegistrado:
    (  # the description the model reads, split only to fit the line (one string, unchanged)
        "Registra un pago de un cliente activo: AUMENTA su saldo en el monto y devuelve el saldo anterior, "
        """el nuevo y el incremento.

    Úsela cuando el usuario diga que un cliente pagó o pida registrar un pago. Confirme el
    cliente (con buscarCliente si solo hay nombre) y el monto antes de llamarla; no la repita
    para "comprobar": cada llamada sin idempotencyKey registra otro pago. Si el cliente MCP lo
    admite, el servidor pide al usuario que confirme el pago en un formulario; si el usuario no
    lo confirma, el error es pago_no_confirmado y no se registra nada: no insista.
    """
    )
    return await ejecutar(
        ctx, servicio.registrar_pago, cliente_id=clienteId, monto=monto, descripcion=descripcion,
        metodo_pago=metodoPago, clave_idempotencia=idempotencyKey,
        confirmacion=confirmacion(respuesta, pregunta_pago(previa)),
    )


# It takes money back from a balance: hosts should ask the user before each call.
ANULACION = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)

PagoId = Annotated[
    int,
    Field(
        description="Id numérico del pago (p. ej. 17). Si no lo conoce, búsquelo con listarPagos.",
        json_schema_extra={"minimum": 1},
    ),
]


async def listar_pagos(
    clienteId: ClienteId,
    ctx: Context,
    desde: Annotated[
        date | None,
        Field(description="Primer día incluido, AAAA-MM-DD, en la zona horaria del servidor (campo zona_horaria). "
                          "\"Este mes\" → el día 1 del mes en curso."),
    ] = None,
    hasta: Annotated[date | None, Field(description="Último día incluido, AAAA-MM-DD.")] = None,
    limite: Annotated[
        int, Field(description="Máximo de pagos por página (1 a 50).",
                   json_schema_extra={"minimum": 1, "maximum": PAGOS_LIMITE_MAXIMO})
    ] = PAGOS_LIMITE_POR_DEFECTO,
    cursor: Cursor = None,
) -> ListaPagos:
    """Lista los pagos de un cliente, el más reciente primero, cada uno con sus anulaciones y lo que aún puede anularse.

    Úsela para "muéstrame los pagos de Juan Pérez de este mes" (busque antes el id con
    buscarCliente) y para encontrar el id de un pago antes de anularlo con anularPago.
    Si «siguiente» no es null hay más: vuelva a llamarla con cursor=siguiente. Solo consulta.
    """
    return await ejecutar(
        ctx, movimientos.listar_pagos, zona=estado(ctx).settings.zone, cliente_id=clienteId, desde=desde,
        hasta=hasta, limite=limite, cursor=cursor,
    )


async def anular_pago(
    pagoId: PagoId,
    motivo: Annotated[
        str,
        Field(description="Por qué se anula, en una frase (obligatorio): \"se registró por error\", "
                          "\"devolución al cliente\"."),
    ],
    ctx: Context,
    # Filled by the SDK before the body runs, never by the client (hidden from the input schema).
    previa: Annotated[PreviaAnulacion | None, Resolve(previa_anulacion)],
    respuesta: Annotated[ElicitationResult[ConfirmarPago], Resolve(preguntar_anulacion)],
    monto: Annotated[
        Decimal | str | None,
        Field(
            description="Importe a anular en dólares, para una anulación parcial (\"50\", 50.25). "
            "Si lo omite, se anula todo lo que queda por anular del pago."
        ),
    ] = None,
    idempotencyKey: Annotated[
        str | None,
        Field(
            description="Clave única de esta anulación (p. ej. un UUID). Si reintenta tras un error de red, "
            "repita la misma clave: no se anula dos veces."
        ),
    ] = None,
) -> AnulacionRegistrada:
    (  # the description the model reads, split only to fit the line (one string, unchanged)
        "Anula un pago, total o parcialmente: DISMINUYE el saldo del cliente en ese importe y devuelve el "
        """saldo anterior, el nuevo y lo que aún puede anularse.

    Úsela cuando el usuario pida anular, revertir o devolver un pago ("se registró por error",
    "devuélvale 50 dólares del pago 12"). El pago no se borra: la anulación queda registrada
    aparte, enlazada a él. Si no conoce el id del pago, use antes listarPagos con el cliente.
    Confirme con el usuario el pago y el importe antes de llamarla; sin idempotencyKey cada
    llamada anula otra vez. Rechaza montos mayores que lo que queda por anular. Si el cliente MCP
    lo admite, el servidor pide al usuario que confirme la anulación en un formulario; si no la
    confirma, el error es anulacion_no_confirmada y no se anula nada: no insista.
    """
    )
    return await ejecutar(
        ctx, anulaciones.anular_pago, pago_id=pagoId, motivo=motivo, monto=monto, clave_idempotencia=idempotencyKey,
        confirmacion=confirmacion(respuesta, pregunta_anulacion(previa)),
    )


def registrar(server: MCPServer) -> None:
    publicar(server, registrar_pago, "registrarPago", "Registrar pago", ESCRITURA, Tipo.PAGO)
    publicar(server, listar_pagos, "listarPagos", "Listar pagos", LECTURA, Tipo.CONSULTA)
    publicar(server, anular_pago, "anularPago", "Anular pago", ANULACION, Tipo.ANULACION)
    confirmables(server, "registrarPago", "anularPago")
