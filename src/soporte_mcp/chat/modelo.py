"""One streamed Chat Completion with tools, retried on 429/5xx; the SDK's errors mapped once.

Everything OpenAI-compatible (OpenAI, Azure, Ollama, vLLM, llama.cpp, LM Studio) speaks
this endpoint.  The SDK's own retries are off (``max_retries=0``) so that each retry is
announced to the user and its wait can be set for tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import openai
from openai import AsyncOpenAI

from soporte_mcp.chat.errores import (
    ConfiguracionInvalida,
    CredencialesRechazadas,
    ErrorDelModelo,
    LimiteDePeticiones,
    SinConexion,
    TiempoAgotado,
    causa_legible,
)

URL_OPENAI = "https://api.openai.com/v1"
# Local servers (Ollama, vLLM, llama.cpp) ignore the key, but the SDK wants one.
CLAVE_SIN_USO = "sk-no-key"
ESPERA_MAXIMA_S = 60.0


@dataclass(frozen=True)
class LlamadaPedida:
    """A tool call as the model asked for it (arguments still as the JSON text it wrote)."""

    id: str
    nombre: str
    argumentos: str

    def como_mensaje(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.nombre, "arguments": self.argumentos}}


@dataclass
class Respuesta:
    """One completion, assembled from its chunks."""

    texto: str = ""
    llamadas: list[LlamadaPedida] = field(default_factory=list)
    fin: str | None = None
    uso: dict[str, int] = field(default_factory=dict)

    def como_mensaje(self) -> dict[str, Any]:
        """The assistant message to append to the history."""
        mensaje: dict[str, Any] = {"role": "assistant", "content": self.texto or None}
        if self.llamadas:
            mensaje["tool_calls"] = [ll.como_mensaje() for ll in self.llamadas]
        return mensaje


def clave_api(clave: str | None, base_url: str | None) -> str:
    """The key to send: OPENAI_API_KEY, or a placeholder for an endpoint other than OpenAI's.

    Raises ConfiguracionInvalida when OpenAI's own endpoint would be called without a key.
    """
    if clave:
        return clave
    if base_url is None or urlsplit(base_url).hostname == urlsplit(URL_OPENAI).hostname:
        raise ConfiguracionInvalida(
            "Falta la clave del modelo: defina OPENAI_API_KEY (o use --base-url con un servidor local, "
            "p. ej. Ollama, que no la pide)."
        )
    return CLAVE_SIN_USO


def cliente_openai(*, clave: str, base_url: str | None, timeout: float) -> AsyncOpenAI:
    return AsyncOpenAI(api_key=clave, base_url=base_url, timeout=timeout, max_retries=0)


class Acumulador:
    """Puts a completion back together from streamed chunks (text, and tool calls by ``index``)."""

    def __init__(self) -> None:
        self.respuesta = Respuesta()
        self._llamadas: dict[int, dict[str, str]] = {}

    def agregar(self, trozo: Any) -> str:
        """Take one chunk in; return the text it adds, if any."""
        if trozo.usage is not None:
            self.respuesta.uso = trozo.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"})
        texto = ""
        for choice in trozo.choices:
            texto += choice.delta.content or ""
            for parcial in choice.delta.tool_calls or []:
                self._sumar(parcial)
            self.respuesta.fin = choice.finish_reason or self.respuesta.fin
        self.respuesta.texto += texto
        return texto

    def _sumar(self, parcial: Any) -> None:
        llamada = self._llamadas.setdefault(parcial.index, {"id": "", "nombre": "", "argumentos": ""})
        # id and name come once, in the first chunk of a call; some servers repeat them.
        llamada["id"] = llamada["id"] or (parcial.id or "")
        if parcial.function is not None:
            llamada["nombre"] = llamada["nombre"] or (parcial.function.name or "")
            llamada["argumentos"] += parcial.function.arguments or ""

    def terminar(self) -> Respuesta:
        self.respuesta.llamadas = [
            LlamadaPedida(ll["id"] or f"llamada_{i}", ll["nombre"], ll["argumentos"])
            for i, ll in sorted(self._llamadas.items())
        ]
        return self.respuesta


class Modelo:
    """A chat model behind an OpenAI-compatible endpoint."""

    def __init__(
        self, cliente: AsyncOpenAI, *, nombre: str, reintentos: int, espera_base: float, avisar: Callable[[str], None]
    ) -> None:
        self.cliente = cliente
        self.nombre = nombre
        self.reintentos = reintentos
        self.espera_base = espera_base
        self.avisar = avisar

    async def completar(
        self, mensajes: Sequence[dict[str, Any]], herramientas: Sequence[dict[str, Any]],
        al_escribir: Callable[[str], None],
    ) -> Respuesta:
        """Stream one completion, calling ``al_escribir`` with each piece of text as it arrives.

        429 and 5xx answers are retried (they come before any text).  Raises
        ErrorDelModelo (CredencialesRechazadas, LimiteDePeticiones, TiempoAgotado,
        SinConexion, or the base class for anything else the endpoint refuses).
        """
        intento = 0
        while True:
            try:
                return await self._una_vez(mensajes, herramientas, al_escribir)
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                if intento >= self.reintentos:
                    raise self._traducir(exc) from exc
                espera = _espera(exc, intento, self.espera_base)
                intento += 1
                self.avisar(f"El modelo respondió {exc.status_code}; reintento {intento} de {self.reintentos} "
                            f"en {espera:.1f} s…")
                await anyio.sleep(espera)
            except openai.APIError as exc:
                raise self._traducir(exc) from exc

    async def _una_vez(
        self, mensajes: Sequence[dict[str, Any]], herramientas: Sequence[dict[str, Any]],
        al_escribir: Callable[[str], None],
    ) -> Respuesta:
        opcionales: dict[str, Any] = {"tools": list(herramientas)} if herramientas else {}
        flujo = await self.cliente.chat.completions.create(
            model=self.nombre, messages=list(mensajes), stream=True, stream_options={"include_usage": True},
            **opcionales,
        )
        acumulador = Acumulador()
        async with flujo:
            async for trozo in flujo:
                if texto := acumulador.agregar(trozo):
                    al_escribir(texto)
        return acumulador.terminar()

    def _traducir(self, exc: openai.APIError) -> ErrorDelModelo:
        donde = str(self.cliente.base_url).rstrip("/")
        if isinstance(exc, openai.APITimeoutError):
            return TiempoAgotado(f"El modelo no respondió a tiempo ({donde}, límite {self.cliente.timeout} s). "
                                 "Reintente, o aumente --timeout.")
        if isinstance(exc, openai.APIConnectionError):
            return SinConexion(f"No se pudo conectar con el modelo en {donde}: {causa_legible(exc)}. "
                               "Compruebe la dirección (--base-url) y que el servidor del modelo "
                               "esté en marcha.")
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return CredencialesRechazadas(f"El modelo rechazó la clave ({exc.status_code}): {_mensaje(exc)} "
                                          "Revise OPENAI_API_KEY.")
        if isinstance(exc, openai.RateLimitError):
            return LimiteDePeticiones(f"Límite de peticiones del modelo (429) tras {self.reintentos} reintentos: "
                                      f"{_mensaje(exc)}")
        if isinstance(exc, openai.NotFoundError):
            return ErrorDelModelo(f"{donde} no conoce el modelo {self.nombre!r} o esta ruta (404): {_mensaje(exc)}")
        if isinstance(exc, openai.APIStatusError):
            return ErrorDelModelo(f"El modelo respondió {exc.status_code}: {_mensaje(exc)}")
        return ErrorDelModelo(f"El modelo falló: {_mensaje(exc)}")


def _espera(exc: openai.APIStatusError, intento: int, base: float) -> float:
    """Seconds before retry ``intento``: what the server asks for (retry-after-ms, retry-after), else base·2ⁿ."""
    for cabecera, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            return min(float(exc.response.headers[cabecera]) / divisor, ESPERA_MAXIMA_S)
        except (KeyError, ValueError):
            continue
    return min(base * 2**intento, ESPERA_MAXIMA_S)


def _mensaje(exc: openai.APIError) -> str:
    """The endpoint's own message (``{"error": {"message": ...}}``), not the SDK's dump of the body."""
    cuerpo = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else None
    mensaje = cuerpo.get("message") if isinstance(cuerpo, dict) else None
    return str(mensaje or exc.message)

