"""Reversals in the panel: the read-only list, and the "Anular pago" form that reverses through the same
service as the anularPago tool (reversal, balance and audit row in one transaction; the payment untouched)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from sqladmin import Flash, expose
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from soporte_mcp.admin.acceso import llamada
from soporte_mcp.admin.vistas import ETIQUETAS, FiltroCliente, SoloLectura, enlace_cliente, entero
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, Cliente, Pago
from soporte_mcp.errors import SoporteError
from soporte_mcp.services.anulaciones import anular_pago

CAMPOS = ("monto", "motivo", "clave")


def enlace_anular(obj: Any, _atributo: str, request: Request) -> Markup:
    """The "Anular" link of a payment row."""
    url = request.url_for("admin:view-anulacion-anular").include_query_params(pago_id=obj.id)
    return Markup('<a class="anular-pago" href="{}">Anular</a>').format(str(url))


def enlace_pago(obj: Any, atributo: str, request: Request) -> Markup:
    url = request.url_for("admin:details", identity="pago", pk=getattr(obj, atributo))
    return Markup('<a href="{}">#{}</a>').format(str(url), getattr(obj, atributo))


def pago_para_anular(db: Database, pago_id: int) -> dict[str, Any] | None:
    """The payment, its customer and what remains reversible (as text), for the form."""
    with db.lectura() as conn:
        fila = conn.execute(
            select(Pago.id, Pago.cliente_id, Pago.monto, Pago.descripcion, Cliente.nombre, Cliente.saldo)
            .join(Cliente, Cliente.id == Pago.cliente_id)
            .where(Pago.id == pago_id)
        ).first()
        if fila is None:
            return None
        anuladas = conn.execute(select(Anulacion.monto).where(Anulacion.pago_id == pago_id)).scalars().all()
    restante = fila.monto - sum(anuladas, Decimal("0.00"))
    return {"id": fila.id, "cliente_id": fila.cliente_id, "cliente_nombre": fila.nombre, "monto": f"{fila.monto:.2f}",
            "descripcion": fila.descripcion, "saldo": f"{fila.saldo:.2f}", "reversible": f"{restante:.2f}",
            "anulable": restante > 0}


class AnulacionesAdmin(SoloLectura, model=Anulacion):
    name, name_plural, icon = "Anulación", "Anulaciones", "fa-solid fa-rotate-left"
    column_list = ["id", "fecha", "pago_id", "cliente_id", "monto", "motivo", "saldo_anterior", "saldo_posterior",
                   "procesado_por"]
    column_details_exclude_list = ["huella"]
    column_labels = {**ETIQUETAS, "pago_id": "Pago", "motivo": "Motivo"}
    column_searchable_list = ["motivo", "procesado_por"]
    column_sortable_list = ["id", "fecha", "monto"]
    column_filters = [FiltroCliente(Anulacion.cliente_id)]
    column_formatters = column_formatters_detail = {"cliente_id": enlace_cliente, "pago_id": enlace_pago}

    @expose("/anular", methods=["GET", "POST"])
    async def anular(self, request: Request) -> Response:
        """GET ?pago_id=N: the form; POST: anular_pago, then back to the customer's payments."""
        pago = await self._pago(entero(request.query_params.get("pago_id")))
        if pago is None:
            raise HTTPException(404, "No existe ese pago.")
        if request.method == "GET":
            # A key per form: submitting the same form twice reverses once.
            return await self._formulario(request, pago, {"monto": "", "motivo": "", "clave": uuid.uuid4().hex})
        formulario = await request.form()
        valores = {campo: str(formulario.get(campo, "")) for campo in CAMPOS}
        clave = f"admin-{valores['clave']}" if valores["clave"].strip() else None
        argumentos = {"pagoId": pago["id"], "monto": valores["monto"] or None, "motivo": valores["motivo"],
                      "idempotencyKey": clave}
        try:
            hecha = await self.escribir(
                anular_pago, llamada=llamada(request, "anularPago", argumentos), pago_id=pago["id"],
                motivo=valores["motivo"], monto=valores["monto"].strip() or None, clave_idempotencia=clave,
            )
        except SoporteError as exc:
            return await self._formulario(request, pago, valores, error=exc.mensaje, status_code=400)
        aviso = "ya estaba anulado" if hecha.repetido else "anulado"
        Flash.success(request, f"Pago {hecha.pago_id}: {hecha.monto:.2f} {aviso}; saldo {hecha.saldo_anterior:.2f} → "
                               f"{hecha.saldo_nuevo:.2f}; quedan {hecha.reversible:.2f} por anular.")
        destino = request.url_for("admin:list", identity="pago").include_query_params(cliente_id=pago["cliente_id"])
        return RedirectResponse(destino, status_code=303)

    async def _pago(self, pago_id: int | None) -> dict[str, Any] | None:
        return None if pago_id is None else await self.db.run(pago_para_anular, self.db, pago_id)

    async def _formulario(self, request: Request, pago: dict[str, Any], valores: dict[str, str], *,
                          error: str | None = None, status_code: int = 200) -> Response:
        contexto = {"pago": pago, "valores": valores, "error": error, "model_view": self,
                    "title": f"Anular pago {pago['id']} · {pago['cliente_nombre']}"}
        return await self.templates.TemplateResponse(request, "soporte/pago_anular.html", contexto,
                                                     status_code=status_code)
