"""Result models: what services return and what MCP clients receive as structuredContent."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from soporte_mcp.money import en_texto

# Money leaves us as a string with exactly two decimals: JSON numbers are floats to most readers.
# Its published schema says so (a string), which is also cheaper for clients to validate than anyOf.
Dinero = Annotated[
    Decimal,
    PlainSerializer(en_texto, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$"}),
    Field(description="Importe en dólares con dos decimales, como texto: \"1250.00\"."),
]


class Modelo(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ClienteResumen(Modelo):
    id: int
    nombre: str
    email: str
    telefono: str | None
    saldo: Dinero
    activo: bool
    fecha_registro: datetime


class ResultadoBusqueda(Modelo):
    query: str
    total: int = Field(description="Clientes devueltos en esta respuesta.")
    hay_mas: bool = Field(description="True si hay más coincidencias que el límite: afine la búsqueda.")
    clientes: list[ClienteResumen]
    sugerencia: str | None = None


class PagoResumen(Modelo):
    id: int
    monto: Dinero
    metodo_pago: str
    descripcion: str
    fecha: datetime


class ResumenCuenta(Modelo):
    tickets_total: int
    tickets_abiertos: int = Field(description="Tickets abiertos, en proceso o pendientes.")
    pagos_total: int
    fecha_ultimo_pago: datetime | None
    anulaciones_total: int = Field(default=0, description="Anulaciones (totales o parciales) de sus pagos.")
    total_anulado: Dinero = Decimal("0.00")


class Movimiento(Modelo):
    tipo: Literal["pago", "anulacion"] = Field(description="pago suma al saldo; anulacion lo resta.")
    id: int = Field(description="Id del pago o de la anulación.")
    pago_id: int = Field(description="El pago (el mismo id si es un pago; el pago anulado si es una anulación).")
    monto: Dinero
    descripcion: str = Field(description="Concepto del pago o motivo de la anulación.")
    fecha: datetime


class SaldoCliente(Modelo):
    cliente: ClienteResumen
    saldo: Dinero
    ultimos_pagos: list[PagoResumen] = Field(description="Los 5 pagos más recientes, el último primero.")
    ultimos_movimientos: list[Movimiento] = Field(
        default_factory=list, description="Los 5 movimientos más recientes (pagos y anulaciones), el último primero."
    )
    resumen: ResumenCuenta


class TicketCreado(Modelo):
    id: int
    numero: str = Field(description="Número de ticket para el cliente, p. ej. #000042.")
    cliente_id: int
    cliente_nombre: str
    titulo: str
    descripcion: str
    prioridad: str
    estado: str
    fecha_creacion: datetime


class PagoRegistrado(Modelo):
    pago_id: int
    cliente_id: int
    cliente_nombre: str
    monto: Dinero
    metodo_pago: str
    descripcion: str
    saldo_anterior: Dinero
    saldo_nuevo: Dinero
    incremento: Dinero
    fecha: datetime
    repetido: bool = Field(
        default=False, description="True si era un reintento con la misma clave: no se registró otro pago."
    )


class EstadisticasClientes(Modelo):
    total: int
    con_saldo_positivo: int
    registrados_hoy: int


class EstadisticasTickets(Modelo):
    total: int
    abiertos: int
    en_proceso: int
    pendientes: int
    resueltos: int = Field(default=0, description="Tickets en estado resuelto.")
    cerrados: int = Field(default=0, description="Tickets en estado cerrado.")
    resueltos_hoy: int
    cerrados_hoy: int = 0


class EstadisticasPagos(Modelo):
    hoy_cantidad: int
    hoy_total: Dinero
    anulaciones_hoy_cantidad: int = 0
    anulaciones_hoy_total: Dinero = Decimal("0.00")


class Estadisticas(Modelo):
    fecha: str = Field(description="El día de 'hoy' (AAAA-MM-DD) en la zona horaria configurada.")
    zona_horaria: str
    clientes: EstadisticasClientes
    tickets: EstadisticasTickets
    pagos: EstadisticasPagos


class CambioTicket(Modelo):
    fecha: datetime
    usuario: str | None
    campo: str = Field(description="estado, prioridad, asignado_a, o comentario si solo se comentó.")
    anterior: str | None
    nuevo: str | None
    comentario: str | None


class TicketDetalle(Modelo):
    id: int
    numero: str
    cliente_id: int
    titulo: str
    descripcion: str
    estado: str
    prioridad: str
    asignado_a: str | None
    fecha_creacion: datetime
    fecha_resolucion: datetime | None
    version: int = Field(default=1, description="Sube con cada cambio; pásela a actualizarTicket para no pisar otro.")
    historial: list[CambioTicket] = Field(
        default_factory=list, description="Cambios del ticket, el más antiguo primero.")


class TicketResumen(Modelo):
    id: int
    numero: str = Field(description="Número de ticket para el cliente, p. ej. #000042.")
    cliente_id: int
    cliente_nombre: str
    titulo: str
    estado: str
    prioridad: str
    asignado_a: str | None
    fecha_creacion: datetime
    fecha_resolucion: datetime | None
    version: int


class ListaTickets(Modelo):
    total: int = Field(description="Tickets devueltos en esta página.")
    tickets: list[TicketResumen] = Field(description="El más reciente primero.")
    siguiente: str | None = Field(
        description="Cursor de la página siguiente (páselo como cursor); null si no hay más."
    )


class TicketActualizado(Modelo):
    ticket: TicketResumen
    cambios: list[CambioTicket] = Field(description="Las entradas añadidas al historial por esta llamada.")
    estados_siguientes: list[str] = Field(description="Estados a los que puede pasar ahora.")


class AnulacionResumen(Modelo):
    id: int
    pago_id: int
    monto: Dinero
    motivo: str
    fecha: datetime
    procesado_por: str | None


class PagoDetalle(Modelo):
    id: int
    cliente_id: int
    monto: Dinero
    metodo_pago: str
    descripcion: str
    fecha: datetime
    procesado_por: str | None
    anulado: Dinero = Field(description="Suma de sus anulaciones.")
    reversible: Dinero = Field(description="Lo que aún puede anularse: monto - anulado.")
    anulaciones: list[AnulacionResumen] = Field(description="Sus anulaciones, la más antigua primero.")


class ListaPagos(Modelo):
    cliente_id: int
    cliente_nombre: str
    desde: date | None
    hasta: date | None
    zona_horaria: str = Field(description="Zona horaria en que se interpretan desde y hasta.")
    total: int = Field(description="Pagos devueltos en esta página.")
    pagos: list[PagoDetalle] = Field(description="El más reciente primero.")
    siguiente: str | None = Field(
        description="Cursor de la página siguiente (páselo como cursor); null si no hay más."
    )


class AnulacionRegistrada(Modelo):
    anulacion_id: int
    pago_id: int
    cliente_id: int
    cliente_nombre: str
    monto: Dinero = Field(description="Importe anulado por esta operación.")
    motivo: str
    saldo_anterior: Dinero
    saldo_nuevo: Dinero
    pago_monto: Dinero = Field(description="Importe original del pago.")
    total_anulado: Dinero = Field(description="Todo lo anulado del pago, incluida esta anulación.")
    reversible: Dinero = Field(description="Lo que aún puede anularse del pago.")
    fecha: datetime
    repetido: bool = Field(
        default=False, description="True si era un reintento con la misma clave: no se anuló otra vez."
    )


def numero_ticket(ticket_id: int) -> str:
    """The number customers see: ``#000001``."""
    return f"#{ticket_id:06d}"
