"""Result models: what services return and what MCP clients receive as structuredContent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

# Money leaves us as a string with exactly two decimals: JSON numbers are floats to most readers.
# Its published schema says so (a string), which is also cheaper for clients to validate than anyOf.
Dinero = Annotated[
    Decimal,
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="always"),
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


class SaldoCliente(Modelo):
    cliente: ClienteResumen
    saldo: Dinero
    ultimos_pagos: list[PagoResumen] = Field(description="Los 5 pagos más recientes, el último primero.")
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
    resueltos_hoy: int


class EstadisticasPagos(Modelo):
    hoy_cantidad: int
    hoy_total: Dinero


class Estadisticas(Modelo):
    fecha: str = Field(description="El día de 'hoy' (AAAA-MM-DD) en la zona horaria configurada.")
    zona_horaria: str
    clientes: EstadisticasClientes
    tickets: EstadisticasTickets
    pagos: EstadisticasPagos


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


def numero_ticket(ticket_id: int) -> str:
    """The number customers see: ``#000001``."""
    return f"#{ticket_id:06d}"
