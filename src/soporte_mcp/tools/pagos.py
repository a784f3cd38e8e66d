"""registrarPago."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from soporte_mcp.db.models import METODOS_PAGO
from soporte_mcp.services import pagos as servicio
from soporte_mcp.services.auditoria import Tipo
from soporte_mcp.services.schemas import PagoRegistrado
from soporte_mcp.tools._comun import ESCRITURA, ejecutar, publicar
from soporte_mcp.tools.clientes import ClienteId


async def registrar_pago(
    clienteId: ClienteId,  # noqa: N803
    # Decimal | str: a JSON number becomes an exact Decimal here, a string is parsed by the service.
    monto: Annotated[
        Decimal | str,
        Field(
            description="Importe en dólares, mayor que 0 y hasta 999999.99, con dos decimales como máximo: "
            "500, 150.5, \"1250.75\" o \"$1250.75\" (sin separador de miles ni exponente)."
        ),
    ],
    ctx: Context,
    descripcion: Annotated[str | None, Field(description="Concepto del pago, opcional.")] = None,
    metodoPago: Annotated[  # noqa: N803
        str,
        Field(
            description="efectivo, tarjeta, transferencia (por defecto) o cheque. "
            "\"Transferencia bancaria\" → transferencia; \"con tarjeta de crédito\" → tarjeta.",
            json_schema_extra={"enum": list(METODOS_PAGO)},
        ),
    ] = "transferencia",
    idempotencyKey: Annotated[  # noqa: N803
        str | None,
        Field(
            description="Clave única de este pago (p. ej. un UUID). Si reintenta tras un error de red, "
            "repita la misma clave: el pago no se duplica."
        ),
    ] = None,
) -> PagoRegistrado:
    """Registra un pago de un cliente activo: AUMENTA su saldo en el monto y devuelve el saldo anterior, el nuevo y el incremento.

    Úsela cuando el usuario diga que un cliente pagó o pida registrar un pago. Confirme el
    cliente (con buscarCliente si solo hay nombre) y el monto antes de llamarla; no la repita
    para "comprobar": cada llamada sin idempotencyKey registra otro pago.
    """
    return await ejecutar(
        ctx, servicio.registrar_pago, cliente_id=clienteId, monto=monto, descripcion=descripcion,
        metodo_pago=metodoPago, clave_idempotencia=idempotencyKey,
    )


def registrar(server: MCPServer) -> None:
    publicar(server, registrar_pago, "registrarPago", "Registrar pago", ESCRITURA, Tipo.PAGO)
