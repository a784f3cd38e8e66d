"""The conversation: its history, and one turn of model rounds and tool calls.

A turn is: the user's message, then rounds of (stream a completion; run the tool calls
it asks for, after approval; send the results back) until the model answers without
tools or the round limit is hit.  The history stays valid for the API whatever happens:
every assistant message with ``tool_calls`` is followed by one ``tool`` message per call,
even when the turn is interrupted.

The engine drives every front-end (the terminal, ``soporte-chat web``) through one small
interface: a ``Salida`` that receives the events of the turn (text delta, end of a round,
tool call started, tool call finished, notices), an ``Aprobador`` asked before a tool
that may write runs (a plain function in the terminal, a coroutine in the web page that
waits for the Aprobar/Rechazar click), and an optional ``Elicitador`` that answers a
server's elicitation request (a form) while one of this turn's tool calls runs (for a
``Formularios`` whose responder is ``formulario.a_quien_llama``; the terminal's answer
on stdin and leave it unset).  Model errors are raised (``ErrorDelModelo``) for the
front-end to show; the history stays usable.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import anyio

from soporte_mcp.chat.errores import ErrorDelModelo
from soporte_mcp.chat.formulario import Elicitador
from soporte_mcp.chat.herramientas import Caja, Herramienta, Resultado
from soporte_mcp.chat.modelo import LlamadaPedida, Modelo, Respuesta

# Registro: usted, en todo lo que lee una persona o un modelo (este prompt, los mensajes del
# chat, los errores), como las instrucciones del servidor; y el modelo trata de usted al usuario.
INSTRUCCIONES = """\
Usted es el asistente de un equipo de atención al cliente y trabaja con datos reales, a los que \
accede con las herramientas disponibles.
- Use siempre las herramientas para consultar o cambiar datos; nunca invente ni suponga \
clientes, ids, saldos, tickets ni importes.
- Si el usuario nombra a un cliente por su nombre o email, búsquelo primero para obtener su id. \
Si coinciden varios clientes o ninguno, pregunte a cuál se refiere antes de seguir.
- Antes de registrar un pago, asegúrese de que el cliente y el monto son los que el usuario \
indicó; si falta alguno o es ambiguo, pregúntelo en lugar de suponerlo. Si el usuario ya los \
dijo con claridad, no vuelva a preguntar: la aplicación pide al usuario la confirmación final \
de cada operación que modifica datos.
- Si el usuario da el número de un ticket o el id de un pago ("el ticket 3", "el pago 17"), \
actúe sobre él directamente. Si no lo da ("el ticket de María", "su último pago"), liste antes \
(listarTickets, listarPagos) y actúe sobre el que corresponda; si hay varios candidatos, pregunte \
cuál. Si da el id y además nombra al cliente ("del pago 12 a Carlos"), compruebe con listarPagos \
que el pago es de ese cliente antes de cambiarlo. Para "tickets abiertos" pida los estados \
abierto, en_proceso y pendiente.
- Antes de anular un pago, asegúrese del pago y del importe (todo lo que queda o una parte) y \
ponga el motivo que dio el usuario; una anulación no se deshace.
- Si una herramienta devuelve un error, explíquelo con sencillez y proponga cómo seguir; si el \
usuario rechaza una operación, no la repita sin que él lo pida.
- Trate al usuario de usted. Responda siempre en el idioma en que le escribe, de forma breve y \
clara; los importes, con dos decimales."""

RECHAZO = ("El usuario no autorizó ejecutar {nombre}; no se ejecutó ni cambió nada. "
           "No la repita salvo que el usuario lo pida.")
CANCELADA = "Cancelada por el usuario antes de ejecutarse; no se ejecutó."


class Salida(Protocol):
    """What the user sees of a turn (see salida.py)."""

    def texto(self, trozo: str) -> None: ...
    def fin_ronda(self, *, con_llamadas: bool) -> None: ...
    def llamada(self, herramienta: Herramienta, argumentos: Mapping[str, Any]) -> None: ...
    def resultado(self, herramienta: Herramienta, resultado: Resultado) -> None: ...
    def aviso(self, mensaje: str) -> None: ...


# May answer at once (the terminal reads stdin) or later (the web page waits for a click).
Aprobador = Callable[[Herramienta, Mapping[str, Any]], bool | Awaitable[bool]]


@dataclass
class LlamadaHecha:
    """A tool call of this turn and how it ended, for --json."""

    herramienta: str
    servidor: str | None
    argumentos: Any
    resultado: Resultado
    aprobada: bool = True

    def como_dict(self) -> dict[str, Any]:
        r = self.resultado
        return {"herramienta": self.herramienta, "servidor": self.servidor, "argumentos": self.argumentos,
                "aprobada": self.aprobada, "es_error": r.es_error, "codigo": r.codigo,
                "resultado": r.estructurado if r.estructurado is not None else r.para_modelo}


@dataclass
class Turno:
    """What one turn produced."""

    respuesta: str = ""
    llamadas: list[LlamadaHecha] = field(default_factory=list)
    uso: dict[str, int] = field(default_factory=dict)
    limite_alcanzado: bool = False


class Conversacion:
    """The chat's history and the rules of a turn."""

    def __init__(self, *, modelo: Modelo, caja: Caja, salida: Salida, aprobar: Aprobador,
                 auto_aprobar: bool, solo_lectura: bool, max_rondas: int,
                 elicitar: Elicitador | None = None) -> None:
        self.modelo = modelo
        self.elicitar = elicitar
        self.salida = salida
        self.caja = caja
        self.aprobar = aprobar
        self.auto_aprobar = auto_aprobar
        self.max_rondas = max_rondas
        self.ofrecidas = {h.expuesta: h for h in caja.ofrecidas(solo_lectura=solo_lectura)}
        self.mensajes: list[dict[str, Any]] = []
        self._parcial: list[str] = []  # the text streamed so far in this round, kept if interrupted
        self.limpiar()

    def limpiar(self) -> None:
        """Forget everything but the system prompt."""
        self.mensajes = [{"role": "system", "content": instrucciones(self.caja.instrucciones)}]

    async def turno(self, texto: str, en_curso: Turno | None = None) -> Turno:
        """Answer one user message.  Raises ErrorDelModelo; on cancellation keeps what was said.

        The turn is filled in as it goes (into ``en_curso`` if given), so that a caller that
        catches the error still knows which tools ran before it.
        """
        inicio = len(self.mensajes)
        self.mensajes.append({"role": "user", "content": texto})
        turno = en_curso if en_curso is not None else Turno()
        try:
            await self._rondas(turno)
        except ErrorDelModelo:
            if len(self.mensajes) == inicio + 1:  # nothing came back: let the user simply try again
                del self.mensajes[inicio:]
            raise
        except anyio.get_cancelled_exc_class():
            if self._parcial:
                self.mensajes.append({"role": "assistant", "content": "".join(self._parcial)})
            raise
        return turno

    async def _rondas(self, turno: Turno) -> None:
        for ronda in range(self.max_rondas + 1):
            respuesta = await self._pedir(turno)
            if respuesta.llamadas and ronda == self.max_rondas:
                turno.limite_alcanzado = True
                self.salida.aviso(f"Se alcanzó el límite de {self.max_rondas} rondas de herramientas en este turno; "
                                  "la respuesta quedó incompleta. Reformule la petición o amplíe --max-tool-rounds.")
            if not respuesta.llamadas or turno.limite_alcanzado:
                turno.respuesta = respuesta.texto
                self.mensajes.append({"role": "assistant", "content": respuesta.texto})
                return
            await self._usar_herramientas(respuesta, turno)

    async def _pedir(self, turno: Turno) -> Respuesta:
        self._parcial = []
        herramientas = [h.para_openai() for h in self.ofrecidas.values()]
        respuesta = await self.modelo.completar(self.mensajes, herramientas, self._escribir)
        self._parcial = []
        self.salida.fin_ronda(con_llamadas=bool(respuesta.llamadas))
        for clave, valor in respuesta.uso.items():
            turno.uso[clave] = turno.uso.get(clave, 0) + valor
        return respuesta

    def _escribir(self, trozo: str) -> None:
        self._parcial.append(trozo)
        self.salida.texto(trozo)

    async def _usar_herramientas(self, respuesta: Respuesta, turno: Turno) -> None:
        self.mensajes.append(respuesta.como_mensaje())
        pendientes = list(respuesta.llamadas)
        try:
            while pendientes:
                hecha = await self._ejecutar(pendientes[0])
                self._responder_llamada(pendientes.pop(0), hecha.resultado.para_modelo)
                turno.llamadas.append(hecha)
        finally:
            for pedida in pendientes:
                self._responder_llamada(pedida, CANCELADA)

    def _responder_llamada(self, pedida: LlamadaPedida, contenido: str) -> None:
        self.mensajes.append({"role": "tool", "tool_call_id": pedida.id, "content": contenido})

    async def _ejecutar(self, pedida: LlamadaPedida) -> LlamadaHecha:
        herramienta = self.ofrecidas.get(pedida.nombre)
        if herramienta is None:
            disponibles = ", ".join(self.ofrecidas) or "ninguna"
            error = Resultado(f"no hay ninguna herramienta {pedida.nombre!r}; disponibles: {disponibles}.",
                              es_error=True)
            return self._avisar_error(pedida, error)
        argumentos = _argumentos(pedida.argumentos)
        if not isinstance(argumentos, dict):
            error = Resultado(f"los argumentos de {pedida.nombre} no son un objeto JSON: {pedida.argumentos!r}.",
                              es_error=True)
            return self._avisar_error(pedida, error)
        self.salida.llamada(herramienta, argumentos)
        # A tool whose server asks the person in a form of its own is not asked about twice (see Caja).
        confirma_el_servidor = self.caja.confirma_el_servidor(herramienta)
        if not (herramienta.solo_lectura or self.auto_aprobar or confirma_el_servidor
                or await self._aprobada(herramienta, argumentos)):
            resultado = Resultado(RECHAZO.format(nombre=herramienta.nombre))
            self.salida.resultado(herramienta, resultado)
            return LlamadaHecha(herramienta.expuesta, herramienta.servidor, argumentos, resultado, aprobada=False)
        # Shielded: a payment that reached the server must be reported to the model, not forgotten.
        # (Waiting for the approval above is not: stopping there runs nothing.)
        with anyio.CancelScope(shield=True):
            resultado = await self.caja.llamar(herramienta, argumentos, elicitar=self.elicitar)
            if resultado.aviso:
                self.salida.aviso(resultado.aviso)
            self.salida.resultado(herramienta, resultado)
        return LlamadaHecha(herramienta.expuesta, herramienta.servidor, argumentos, resultado)

    async def _aprobada(self, herramienta: Herramienta, argumentos: Mapping[str, Any]) -> bool:
        respuesta = self.aprobar(herramienta, argumentos)
        return bool(await respuesta) if inspect.isawaitable(respuesta) else bool(respuesta)

    def _avisar_error(self, pedida: LlamadaPedida, error: Resultado) -> LlamadaHecha:
        self.salida.aviso(f"{pedida.nombre}: {error.texto}")
        return LlamadaHecha(pedida.nombre, None, pedida.argumentos, error)


def instrucciones(de_servidores: Mapping[str, str], hoy: date | None = None) -> str:
    """The system prompt with today's date (for "este mes", "ayer"), then what each server says about its tools."""
    hoy = hoy or datetime.now().astimezone().date()
    partes = [f"{INSTRUCCIONES}\n- Hoy es {hoy.isoformat()}: úsalo para fechas relativas (\"hoy\", \"este mes\")."]
    partes += [f"Instrucciones del servidor {nombre}:\n{texto}" for nombre, texto in de_servidores.items()]
    return "\n\n".join(partes)


def _argumentos(texto: str) -> Any:
    try:
        return json.loads(texto or "{}")
    except ValueError:
        return None
