"""One turn of the web chat: the engine's events as a stream for the page, and the page's answers back.

``TurnoWeb`` is the web front-end of ``conversacion.Conversacion``: it is its ``Salida``
(text deltas, tool call started/finished, notices become events), its ``Aprobador``
(an event asks the page, the turn waits for Aprobar/Rechazar) and its ``Elicitador``
(a server's form is shown in the page, the turn waits for the answer).  It also keeps
what the page shows of the turn (``vista``), so a reloaded page draws the same thing.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.types import ElicitRequestFormParams, ElicitResult
from openai import AsyncOpenAI

from soporte_mcp.chat.conversacion import Conversacion
from soporte_mcp.chat.errores import ErrorDelModelo
from soporte_mcp.chat.herramientas import Caja, Herramienta, Resultado
from soporte_mcp.chat.modelo import Modelo

DETENIDA = "Respuesta detenida; la conversación sigue."
ACCIONES = ("accept", "decline", "cancel")


@dataclass(frozen=True)
class Motor:
    """What every turn shares: the model's client (the key stays here), the MCP tools, the options."""

    cliente: AsyncOpenAI
    caja: Caja
    modelo: str
    solo_lectura: bool
    max_rondas: int
    reintentos: int
    espera_base: float

    def conversacion(self, turno: TurnoWeb, historial: list[dict[str, Any]]) -> Conversacion:
        modelo = Modelo(self.cliente, nombre=self.modelo, reintentos=self.reintentos, espera_base=self.espera_base,
                        avisar=turno.aviso)
        conversacion = Conversacion(modelo=modelo, caja=self.caja, salida=turno, aprobar=turno.confirmar,
                                    auto_aprobar=False, solo_lectura=self.solo_lectura, max_rondas=self.max_rondas,
                                    elicitar=turno.elicitar)
        if historial:
            conversacion.mensajes = historial
        return conversacion


class _Espera:
    """An answer the turn waits for from the page."""

    def __init__(self) -> None:
        self.listo = anyio.Event()
        self.valor: Any = None

    def responder(self, valor: Any) -> None:
        if not self.listo.is_set():
            self.valor = valor
            self.listo.set()


class TurnoWeb:
    """A turn in progress: its events for the page, what it waits for, and how to stop it."""

    def __init__(self, primero: int = 0) -> None:
        """``primero``: how many items the conversation already shows (card ids go on from there)."""
        self.primero = primero
        self._envio, self.recepcion = anyio.create_memory_object_stream[dict[str, Any]](math.inf)
        self.alcance = anyio.CancelScope()
        self.vista: list[dict[str, Any]] = []
        self.terminado = False
        self._texto = ""
        self._tarjeta: dict[str, Any] | None = None
        self._confirmacion: _Espera | None = None
        self._formularios: dict[str, _Espera] = {}

    # The engine's Salida
    def texto(self, trozo: str) -> None:
        self._texto += trozo
        self._emitir({"tipo": "texto", "trozo": trozo})

    def fin_ronda(self, *, con_llamadas: bool) -> None:
        self._cerrar_texto()
        self._emitir({"tipo": "fin_ronda", "con_llamadas": con_llamadas})

    def llamada(self, herramienta: Herramienta, argumentos: Mapping[str, Any]) -> None:
        self._cerrar_texto()
        self._tarjeta = {"tipo": "herramienta", "id": self.primero + len(self.vista),
                         "herramienta": herramienta.expuesta,
                         "servidor": herramienta.servidor, "argumentos": dict(argumentos),
                         "escribe": not herramienta.solo_lectura, "estado": "en_curso", "resumen": ""}
        self.vista.append(self._tarjeta)
        self._emitir({**self._tarjeta, "tipo": "llamada"})

    def resultado(self, herramienta: Herramienta, resultado: Resultado) -> None:
        if self._tarjeta is None:
            return
        if self._tarjeta["estado"] != "rechazada":
            self._tarjeta["estado"] = "error" if resultado.es_error else "ok"
        self._tarjeta["resumen"] = resultado.resumen
        if herramienta.vista is not None and self._tarjeta["estado"] == "ok":
            # An MCP App: the page shows its view, fed with the arguments and this result.
            self._tarjeta["vista"] = True
            self._tarjeta["resultado_mcp"] = resultado.como_mcp()
        self._emitir({"tipo": "resultado", **{k: v for k, v in self._tarjeta.items() if k != "tipo"}})
        self._tarjeta = None

    def aviso(self, mensaje: str) -> None:
        self.nota("aviso", mensaje)

    def error(self, exc: ErrorDelModelo) -> None:
        self.nota("error", exc.mensaje, codigo=exc.codigo)

    # The engine's Aprobador and Elicitador
    async def confirmar(self, herramienta: Herramienta, argumentos: Mapping[str, Any]) -> bool:
        assert self._tarjeta is not None
        self._tarjeta["estado"] = "esperando"
        self._confirmacion = espera = _Espera()
        self._emitir({"tipo": "confirmacion", "id": self._tarjeta["id"]})
        try:
            await espera.listo.wait()
        finally:
            self._confirmacion = None
        if not espera.valor:
            self._tarjeta["estado"] = "rechazada"
        else:
            self._tarjeta["estado"] = "en_curso"
        return bool(espera.valor)

    async def elicitar(self, servidor: str, params: ElicitRequestFormParams) -> ElicitResult:
        ident = secrets.token_urlsafe(8)
        self._formularios[ident] = espera = _Espera()
        self._emitir({"tipo": "elicitacion", "id": ident, "servidor": servidor, "mensaje": params.message,
                      "esquema": params.requested_schema})
        try:
            await espera.listo.wait()
        finally:
            del self._formularios[ident]
        accion, contenido = espera.valor
        self.vista.append({"tipo": "formulario", "servidor": servidor, "mensaje": params.message, "accion": accion})
        self._emitir({"tipo": "elicitacion_fin", "id": ident, "accion": accion})
        return ElicitResult(action=accion, content=contenido if accion == "accept" else None)

    # The page's answers
    def responder_confirmacion(self, aprobar: bool) -> bool:
        """Approve or reject the call waiting for it; False if none is waiting."""
        if self._confirmacion is None:
            return False
        self._confirmacion.responder(aprobar)
        return True

    def responder_formulario(self, ident: str, accion: str, contenido: dict[str, Any] | None) -> bool:
        espera = self._formularios.get(ident)
        if espera is None or accion not in ACCIONES:
            return False
        espera.responder((accion, contenido or {}))
        return True

    def detener(self) -> None:
        """Stop the answer: forms are cancelled, a call waiting for approval does not run, calls sent finish."""
        for espera in list(self._formularios.values()):
            espera.responder(("cancel", None))
        self.alcance.cancel()

    # Running
    async def correr(self, conversacion: Conversacion, texto: str) -> str:
        """Run the turn until it ends or is stopped; the outcome ('ok', 'detenida', 'error', 'limite')."""
        self.vista.append({"tipo": "usuario", "texto": texto})
        desenlace = "detenida"
        with self.alcance:
            try:
                turno = await conversacion.turno(texto)
                desenlace = "limite" if turno.limite_alcanzado else "ok"
            except ErrorDelModelo as exc:
                self.error(exc)
                desenlace = "error"
        if desenlace == "detenida":
            self._cerrar_texto()
            for tarjeta in self.vista:
                if tarjeta.get("estado") in ("esperando", "en_curso"):
                    tarjeta["estado"] = "cancelada"
            self.nota("aviso", DETENIDA)
        return desenlace

    def terminar(self, desenlace: str, titulo: str) -> None:
        self.terminado = True
        self._emitir({"tipo": "fin", "desenlace": desenlace, "titulo": titulo})
        self._envio.close()

    def nota(self, tipo: str, mensaje: str, **extra: str) -> None:
        self._cerrar_texto()
        nota = {"tipo": tipo, "mensaje": mensaje, **extra}
        self.vista.append(nota)
        self._emitir(nota)

    def _cerrar_texto(self) -> None:
        if self._texto.strip():
            self.vista.append({"tipo": "asistente", "texto": self._texto})
        self._texto = ""

    def _emitir(self, evento: dict[str, Any]) -> None:
        try:
            self._envio.send_nowait(evento)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the page went away; the turn still ends and is saved
