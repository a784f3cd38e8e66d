"""The panel's pages: customers and tickets (search, filter, edit), payments and the audit trail (read-only).

Reads go through sqladmin on a read-only session; every write calls a service that
owns the rules, the transaction and the audit row (``services.ficha_cliente``,
``services.tickets``, ``services.pagos``), never sqladmin's own ORM writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from markupsafe import Markup
from sqladmin import ModelView
from sqladmin.filters import BooleanFilter, StaticValuesFilter
from sqladmin.formatters import BASE_FORMATTERS
from sqlalchemy import Select, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from wtforms import Form, SelectField

from soporte_mcp.admin.acceso import llamada
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import (
    RESULTADOS,
    TIPOS_ACCION,
    Cliente,
    HistorialAccion,
    HistorialTicket,
    Ticket,
)
from soporte_mcp.dominio import ESTADOS_TICKET, PRIORIDADES
from soporte_mcp.services import ficha_cliente, seguimiento
from soporte_mcp.services.texto import normalizar

T = TypeVar("T")


def formatos(zona: tzinfo) -> dict[type, Callable[[Any], Any]]:
    """Money with two decimals; instants in the operator's time zone."""
    return {
        **BASE_FORMATTERS,
        Decimal: lambda v: f"{v:.2f}",
        datetime: lambda v: v.astimezone(zona).strftime("%Y-%m-%d %H:%M"),
    }


def entero(valor: str | None) -> int | None:
    """A positive id from a query parameter (None when absent).

    Raises:
        HTTPException: 400 for anything else.
    """
    if valor is None or valor in ("", "__all"):
        return None
    if not valor.isdigit():
        raise HTTPException(400, f"se esperaba un número de cliente, no {valor!r}")
    return int(valor)


class FiltroSiNo(BooleanFilter):
    """sqladmin's yes/no filter with its choices in Spanish (its own are literals, outside the catalog)."""

    async def lookups(
        self, request: Request, model: Any, run_query: Callable
    ) -> list[tuple[str, str]]:
        return [("all", "Todos"), ("true", "Sí"), ("false", "No")]


class FiltroValores(StaticValuesFilter):
    """sqladmin's filter by a fixed list of values, with "Todos" rather than its literal "All"."""

    async def lookups(
        self, request: Request, model: Any, run_query: Callable
    ) -> list[tuple[str, str]]:
        return [("__all", "Todos"), *self.values]


class FiltroCliente:
    """Filter by customer id (``?cliente_id=N``), listing only the chosen customer: there may be millions."""

    has_operator = False
    template = "sqladmin/filters/lookup_filter.html"
    title = "Cliente"
    parameter_name = "cliente_id"

    def __init__(self, columna: Any) -> None:
        self.columna = columna

    async def lookups(
        self, request: Request, model: Any, run_query: Callable
    ) -> list[tuple[str, str]]:
        actual = entero(request.query_params.get(self.parameter_name))
        if actual is None:
            return [("__all", "Todos")]
        filas = await run_query(select(Cliente.id, Cliente.nombre).where(Cliente.id == actual))
        return [("__all", "Todos"), *((str(i), f"{nombre} (#{i})") for i, nombre in filas)]

    async def get_filtered_query(self, query: Select, value: Any, model: Any) -> Select:
        cliente_id = entero(value)
        return query if cliente_id is None else query.where(self.columna == cliente_id)


def _enlace(ruta: str, texto: str, **params: Any) -> Callable[[Any, str, Request], Markup]:
    def formatear(obj: Any, _atributo: str, request: Request) -> Markup:
        valores = {k: getattr(obj, v) for k, v in params.items()}
        url = request.url_for("admin:list", identity=ruta).include_query_params(**valores)
        return Markup('<a href="{}">{}</a>').format(str(url), texto.format(**valores))

    return formatear


def enlace_cliente(obj: Any, atributo: str, request: Request) -> Markup:
    url = request.url_for("admin:details", identity="cliente", pk=getattr(obj, atributo))
    return Markup('<a href="{}">#{}</a>').format(str(url), getattr(obj, atributo))


class Formulario(Form):
    """The forms' base: WTForms' own Spanish for its validation messages ("Este campo es obligatorio.")."""

    class Meta:
        locales = ("es",)


class Vista(ModelView):
    """What every page shares: the database for writes, Spanish labels, no deleting, no export."""

    db: ClassVar[Database]
    form_base_class = Formulario
    can_delete = False
    can_export = False
    page_size = 25
    column_default_sort = ("id", True)

    async def escribir(self, fn: Callable[..., T], **kwargs: Any) -> T:
        """Run a write service on this panel's database, off the event loop (``Database.escribir``:
        on SQLite, in the writer's batches with the tools' writes, never waiting on the loop for the lock).

        Raises whatever the service raises: a ``SoporteError`` (the database's own failures
        included, translated where the transaction opens), which the page shows as its message.
        """
        return await self.db.escribir(fn, db=self.db, **kwargs)


ETIQUETAS = {
    "id": "Id", "nombre": "Nombre", "email": "Email", "telefono": "Teléfono", "saldo": "Saldo",
    "saldo_inicial": "Saldo inicial", "activo": "Activo", "fecha_registro": "Registro", "pagos": "Pagos",
    "cliente_id": "Cliente", "titulo": "Título", "descripcion": "Descripción", "estado": "Estado",
    "prioridad": "Prioridad", "asignado_a": "Asignado a", "fecha_creacion": "Creado",
    "fecha_resolucion": "Resuelto", "monto": "Monto", "metodo_pago": "Método", "fecha": "Fecha",
    "procesado_por": "Procesado por", "saldo_anterior": "Saldo anterior",
    "saldo_posterior": "Saldo posterior",
    "clave_idempotencia": "Clave de idempotencia", "tipo": "Tipo", "herramienta": "Herramienta",
    "resultado": "Resultado", "usuario": "Usuario", "ip_address": "IP", "metadatos": "Metadatos",
}


class ClientesAdmin(Vista, model=Cliente):
    name, name_plural, icon = "Cliente", "Clientes", "fa-solid fa-user"
    column_list = ["id", "nombre", "email", "telefono", "saldo", "activo", "fecha_registro", "pagos"]
    column_details_list = ["id", "nombre", "email", "telefono", "saldo", "saldo_inicial", "activo",
                           "fecha_registro", "pagos"]
    column_labels = ETIQUETAS
    column_searchable_list = ["nombre", "email"]
    column_sortable_list = ["id", "nombre", "saldo", "fecha_registro"]
    column_default_sort = ("nombre", False)
    column_filters = [FiltroSiNo(Cliente.activo, title="Activo")]
    column_formatters = column_formatters_detail = {"pagos": _enlace("pago", "Ver pagos", cliente_id="id")}
    # Balances are not in the form: only a payment changes them.
    form_columns = ["nombre", "email", "telefono", "activo"]

    def search_query(self, stmt: Select, term: str) -> Select:
        # Every word, accents and case ignored, in the normalised column buscarCliente uses.
        for palabra in normalizar(term).split():
            stmt = stmt.where(Cliente.busqueda.contains(palabra, autoescape=True))
        return stmt

    async def insert_model(self, request: Request, data: dict) -> Cliente:
        origen = llamada(request, "crearCliente", data)
        creado = await self.escribir(ficha_cliente.crear_cliente, llamada=origen, **_ficha(data))
        return Cliente(id=creado.id)

    async def update_model(self, request: Request, pk: str, data: dict) -> Cliente:
        origen = llamada(request, "editarCliente", {"clienteId": int(pk), **data})
        await self.escribir(ficha_cliente.editar_cliente, llamada=origen, cliente_id=int(pk), **_ficha(data))
        return Cliente(id=int(pk))


def _ficha(data: Mapping[str, Any]) -> dict[str, Any]:
    # The form shows every field: a blank one means "empty" (refused for name and email), never "unchanged";
    # an unticked checkbox is simply absent.
    return {"nombre": data.get("nombre") or "", "email": data.get("email") or "",
            "telefono": data.get("telefono") or "", "activo": bool(data.get("activo"))}


def opciones(valores: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v) for v in valores]


class TicketsAdmin(Vista, model=Ticket):
    name, name_plural, icon = "Ticket", "Tickets", "fa-solid fa-ticket"
    column_list = ["id", "cliente_id", "titulo", "estado", "prioridad", "asignado_a", "fecha_creacion",
                   "fecha_resolucion"]
    column_labels = ETIQUETAS
    column_searchable_list = ["titulo", "descripcion", "asignado_a"]
    column_sortable_list = ["id", "estado", "prioridad", "fecha_creacion", "fecha_resolucion"]
    column_filters = [
        FiltroValores(Ticket.estado, opciones(ESTADOS_TICKET), title="Estado"),
        FiltroValores(Ticket.prioridad, opciones(PRIORIDADES), title="Prioridad"),
        FiltroCliente(Ticket.cliente_id),
    ]
    column_list = [*column_list, "historial"]
    column_details_list = [*column_list[:-1], "descripcion", "version", "historial"]
    column_formatters = column_formatters_detail = {
        "cliente_id": enlace_cliente, "historial": _enlace("historial-ticket", "Ver historial", ticket_id="id")}
    # Tickets are opened with crearTicket (which checks the customer); here they are worked on.
    can_create = False
    form_columns = ["estado", "prioridad", "asignado_a"]
    form_overrides = {"estado": SelectField, "prioridad": SelectField}
    form_args = {"estado": {"choices": opciones(ESTADOS_TICKET)},
                 "prioridad": {"choices": opciones(PRIORIDADES)}}

    async def update_model(self, request: Request, pk: str, data: dict) -> Ticket:
        # The same service as actualizarTicket: the state table, the history, the version.
        argumentos = {"ticketId": int(pk), **data}
        await self.escribir(seguimiento.actualizar_ticket, llamada=llamada(request, "actualizarTicket", argumentos),
                            ticket_id=int(pk), estado=data.get("estado"), prioridad=data.get("prioridad"),
                            asignado_a=data.get("asignado_a") or "")
        return Ticket(id=int(pk))


class SoloLectura(Vista):
    can_create = False
    can_edit = False


class FiltroTicket(FiltroCliente):
    """Filter by ticket id (``?ticket_id=N``), the link from a ticket to its history."""

    title = "Ticket"
    parameter_name = "ticket_id"

    async def lookups(
        self, request: Request, model: Any, run_query: Callable
    ) -> list[tuple[str, str]]:
        actual = entero(request.query_params.get(self.parameter_name))
        return [("__all", "Todos"), *([(str(actual), f"#{actual:06d}")] if actual else [])]


def enlace_ticket(obj: Any, atributo: str, request: Request) -> Markup:
    url = request.url_for("admin:details", identity="ticket", pk=getattr(obj, atributo))
    return Markup('<a href="{}">#{:06d}</a>').format(str(url), getattr(obj, atributo))


class HistorialTicketsAdmin(SoloLectura, model=HistorialTicket):
    """Every change of every ticket: appended by actualizarTicket (and the ticket form), never edited."""

    name, name_plural, icon = "Cambio de ticket", "Historial de tickets", "fa-solid fa-list-check"
    column_list = ["id", "fecha", "ticket_id", "campo", "anterior", "nuevo", "comentario", "usuario"]
    column_labels = {**ETIQUETAS, "ticket_id": "Ticket", "campo": "Campo", "anterior": "Antes", "nuevo": "Después",
                     "comentario": "Comentario"}
    column_searchable_list = ["comentario", "usuario"]
    column_sortable_list = ["id", "fecha"]
    column_filters = [FiltroTicket(HistorialTicket.ticket_id),
                      FiltroValores(HistorialTicket.campo, opciones(("estado", "prioridad", "asignado_a",
                                                                          "comentario")), title="Campo")]
    column_formatters = column_formatters_detail = {"ticket_id": enlace_ticket}


class HistorialAdmin(SoloLectura, model=HistorialAccion):
    name, name_plural, icon = "Acción", "Historial", "fa-solid fa-clock-rotate-left"
    column_list = ["id", "fecha", "tipo", "herramienta", "resultado", "descripcion", "cliente_id", "usuario",
                   "ip_address"]
    column_labels = ETIQUETAS
    column_searchable_list = ["descripcion", "herramienta", "usuario"]
    column_sortable_list = ["id", "fecha"]
    column_filters = [
        FiltroValores(HistorialAccion.tipo, opciones(TIPOS_ACCION), title="Tipo"),
        FiltroValores(HistorialAccion.resultado, opciones(RESULTADOS), title="Resultado"),
        FiltroCliente(HistorialAccion.cliente_id),
    ]
    column_formatters = column_formatters_detail = {"cliente_id": enlace_cliente}


def cliente_para_pagos(db: Database, cliente_id: int) -> Mapping[str, Any] | None:
    """Name, balance (as text) and active flag of a customer, for the payments pages."""
    with db.lectura() as conn:
        fila = conn.execute(
            select(Cliente.id, Cliente.nombre, Cliente.saldo, Cliente.activo).where(Cliente.id == cliente_id)
        ).first()
    return None if fila is None else {**fila._asdict(), "saldo": f"{fila.saldo:.2f}"}
