"""Payments in the panel: the read-only list, and the form that registers one through the same
service as the registrarPago tool (balance, payment and audit row in one transaction)."""

from __future__ import annotations

import uuid
from typing import Any

from sqladmin import Flash, expose
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from soporte_mcp.admin.acceso import llamada
from soporte_mcp.admin.anulaciones import enlace_anular
from soporte_mcp.admin.vistas import (
    ETIQUETAS,
    FiltroCliente,
    FiltroValores,
    SoloLectura,
    cliente_para_pagos,
    enlace_cliente,
    entero,
    opciones,
)
from soporte_mcp.db.models import Pago
from soporte_mcp.dominio import METODOS_PAGO
from soporte_mcp.errors import SoporteError
from soporte_mcp.services.pagos import registrar_pago

CAMPOS = ("monto", "metodo_pago", "descripcion", "clave")


class PagosAdmin(SoloLectura, model=Pago):
    name, name_plural, icon = "Pago", "Pagos", "fa-solid fa-money-bill"
    # "anular" next to the amount: the table scrolls sideways and the action should not hide at its far end.
    column_list = ["id", "fecha", "cliente_id", "monto", "anular", "metodo_pago", "descripcion", "saldo_anterior",
                   "saldo_posterior", "procesado_por"]
    column_details_exclude_list = ["huella"]
    column_searchable_list = ["descripcion", "procesado_por"]
    column_sortable_list = ["id", "fecha", "monto"]
    column_filters = [FiltroCliente(Pago.cliente_id),
                      FiltroValores(Pago.metodo_pago, opciones(METODOS_PAGO), title="Método")]
    column_formatters = column_formatters_detail = {"cliente_id": enlace_cliente, "anular": enlace_anular}
    column_labels = {**ETIQUETAS, "anular": "Anulación"}
    list_template = "soporte/pagos_list.html"

    async def list_context(self, request: Request) -> dict[str, Any]:
        # Filtered by one customer, the page offers to register a payment for them.
        cliente_id = entero(request.query_params.get("cliente_id"))
        return {"cliente": await self._cliente(cliente_id)} if cliente_id else {}

    @expose("/registrar", methods=["GET", "POST"])
    async def registrar(self, request: Request) -> Response:
        """GET ?cliente_id=N: the form; POST: registrar_pago, then back to the customer's payments."""
        cliente = await self._cliente(entero(request.query_params.get("cliente_id")))
        if cliente is None:
            raise HTTPException(404, "No existe ese cliente.")
        if request.method == "GET":
            # A key per form: submitting the same form twice pays once.
            nuevo = {"metodo_pago": "transferencia", "clave": uuid.uuid4().hex}
            return await self._formulario(request, cliente, nuevo)
        formulario = await request.form()
        valores = {campo: str(formulario.get(campo, "")) for campo in CAMPOS}
        try:
            pago = await self.escribir(
                registrar_pago,
                llamada=llamada(request, "registrarPago", _argumentos(cliente["id"], valores)),
                cliente_id=cliente["id"], monto=valores["monto"], descripcion=valores["descripcion"],
                metodo_pago=valores["metodo_pago"], clave_idempotencia=_clave(valores),
            )
        except SoporteError as exc:
            return await self._formulario(request, cliente, valores, error=exc.mensaje, status_code=400)
        aviso = "ya estaba registrado" if pago.repetido else "registrado"
        Flash.success(request, f"Pago {pago.pago_id} de {pago.monto:.2f} {aviso}: saldo "
                               f"{pago.saldo_anterior:.2f} → {pago.saldo_nuevo:.2f}.")
        destino = request.url_for("admin:list", identity=self.identity)
        destino = destino.include_query_params(cliente_id=cliente["id"])
        return RedirectResponse(destino, status_code=303)

    async def _cliente(self, cliente_id: int | None) -> dict[str, Any] | None:
        return None if cliente_id is None else await self.db.run(cliente_para_pagos, self.db, cliente_id)

    async def _formulario(self, request: Request, cliente: dict[str, Any], valores: dict[str, str], *,
                          error: str | None = None, status_code: int = 200) -> Response:
        contexto = {"cliente": cliente, "valores": valores, "metodos": METODOS_PAGO, "error": error,
                    "model_view": self, "title": f"Registrar pago · {cliente['nombre']}"}
        return await self.templates.TemplateResponse(request, "soporte/pago_registrar.html", contexto,
                                                     status_code=status_code)


def _argumentos(cliente_id: int, valores: dict[str, str]) -> dict[str, Any]:
    # Named as the registrarPago tool names them, so that the audit reads the same.
    return {"clienteId": cliente_id, "monto": valores["monto"], "metodoPago": valores["metodo_pago"],
            "descripcion": valores["descripcion"], "idempotencyKey": _clave(valores)}


def _clave(valores: dict[str, str]) -> str | None:
    # Prefixed so that a form's key can never collide with one an MCP client chose.
    return f"admin-{valores['clave']}" if valores["clave"].strip() else None
