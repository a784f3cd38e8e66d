"""A scripted stand-in for an OpenAI-compatible model: a real HTTP server on 127.0.0.1.

It speaks the Chat Completions streaming wire format as OpenAI sends it (HTTP/1.1
chunked, ``data: {chunk}`` server-sent events, tool-call arguments split across chunks
by ``index``, ``finish_reason``, a usage chunk when asked for, ``data: [DONE]``), so that
the real ``openai`` SDK is exercised end to end.  Each request takes the next step of
the test's script; every request is recorded for the test to inspect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
ESPERA_MAXIMA_S = 30.0


@dataclass(frozen=True)
class Peticion:
    """One request the model received."""

    ruta: str
    cuerpo: dict[str, Any]
    cabeceras: dict[str, str]

    @property
    def mensajes(self) -> list[dict[str, Any]]:
        return self.cuerpo["messages"]

    @property
    def herramientas(self) -> list[str]:
        return [t["function"]["name"] for t in self.cuerpo.get("tools", [])]

    def resultados(self) -> list[str]:
        """The contents of the ``tool`` messages sent back after the last assistant message that called tools."""
        ultimo = max((i for i, m in enumerate(self.mensajes) if m.get("tool_calls")), default=-1)
        return [m["content"] for m in self.mensajes[ultimo + 1:] if m["role"] == "tool"]

    def resultado(self) -> Any:
        """The last tool result, parsed as JSON."""
        return json.loads(self.resultados()[-1])


Contenido = str | Callable[[Peticion], str]
Argumentos = dict[str, Any] | Callable[[Peticion], dict[str, Any]]


@dataclass(frozen=True)
class Texto:
    """Answer with text (possibly computed from the request, e.g. from a tool result), in several chunks."""

    contenido: Contenido
    trozos: int = 3


@dataclass(frozen=True)
class Llamadas:
    """Ask for one or more tool calls (parallel if several), each argument string split across chunks."""

    llamadas: Sequence[tuple[str, Argumentos]]
    texto: str = ""


@dataclass(frozen=True)
class Fallo:
    """Answer an HTTP error the way OpenAI does (``{"error": {...}}``), with optional headers."""

    estado: int
    mensaje: str
    codigo: str = "error"
    cabeceras: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Colgar:
    """Accept the request and never finish the answer (until the test ends); ``texto`` is streamed first."""

    texto: str = ""


Paso = Texto | Llamadas | Fallo | Colgar


class ModeloFalso:
    """The server; ``guion`` is the script, ``peticiones`` what it received."""

    def __init__(self, nombre: str = "gpt-4o") -> None:
        self.nombre = nombre
        self.guion: list[Paso] = []
        self.peticiones: list[Peticion] = []
        self._cambio = threading.Condition()
        self._liberar = threading.Event()
        self._llamadas = 0
        self._http = ThreadingHTTPServer((HOST, 0), _Manejador)
        self._http.daemon_threads = True
        self._http.falso = self  # type: ignore[attr-defined]
        self._hilo = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._http.server_address[1]}/v1"

    def guionar(self, *pasos: Paso) -> ModeloFalso:
        self.guion.extend(pasos)
        return self

    def iniciar(self) -> None:
        self._hilo.start()

    def detener(self) -> None:
        self._liberar.set()
        self._http.shutdown()
        self._http.server_close()
        self._hilo.join(ESPERA_MAXIMA_S)

    def esperar_peticiones(self, n: int) -> None:
        with self._cambio:
            assert self._cambio.wait_for(lambda: len(self.peticiones) >= n, ESPERA_MAXIMA_S), self.peticiones

    def _tomar(self, peticion: Peticion) -> Paso:
        with self._cambio:
            self.peticiones.append(peticion)
            self._cambio.notify_all()
            if not self.guion:
                return Fallo(500, f"el guion del modelo falso se agotó en la petición {len(self.peticiones)}")
            return self.guion.pop(0)

    def _id_llamada(self) -> str:
        self._llamadas += 1
        return f"call_{self._llamadas:04d}"


class _Manejador(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        falso: ModeloFalso = self.server.falso  # type: ignore[attr-defined]
        cuerpo = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        peticion = Peticion(self.path, cuerpo, {k.lower(): v for k, v in self.headers.items()})
        paso = falso._tomar(peticion)
        if isinstance(paso, Colgar):
            if paso.texto:
                self._sse(_eventos(falso, Texto(paso.texto, trozos=1), peticion, colgar=True), terminar=False)
            falso._liberar.wait(ESPERA_MAXIMA_S)
            self.close_connection = True
        elif isinstance(paso, Fallo):
            self._fallo(paso)
        else:
            self._sse(_eventos(falso, paso, peticion))

    def _fallo(self, paso: Fallo) -> None:
        cuerpo = json.dumps({"error": {"message": paso.mensaje, "type": "error", "param": None, "code": paso.codigo}})
        self.send_response(paso.estado)
        for nombre, valor in paso.cabeceras.items():
            self.send_header(nombre, valor)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(cuerpo.encode())))
        self.end_headers()
        self.wfile.write(cuerpo.encode())

    def _sse(self, eventos: Iterator[str], *, terminar: bool = True) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for evento in eventos:
            datos = f"data: {evento}\n\n".encode()
            self.wfile.write(f"{len(datos):x}\r\n".encode() + datos + b"\r\n")
        if terminar:
            self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep the test output clean


def _eventos(falso: ModeloFalso, paso: Texto | Llamadas, peticion: Peticion, *, colgar: bool = False) -> Iterator[str]:
    def trozo(delta: dict[str, Any], fin: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": fin}
        return json.dumps(_sobre(falso, [choice], None), ensure_ascii=False)

    if isinstance(paso, Texto):
        texto = paso.contenido(peticion) if callable(paso.contenido) else paso.contenido
        yield trozo({"role": "assistant", "content": ""})
        yield from (trozo({"content": parte}) for parte in _partir(texto, paso.trozos))
        if colgar:
            return
        yield trozo({}, "stop")
    else:
        yield trozo({"role": "assistant", "content": paso.texto or None})
        for indice, (nombre, argumentos) in enumerate(paso.llamadas):
            args = json.dumps(argumentos(peticion) if callable(argumentos) else argumentos, ensure_ascii=False)
            funcion = {"name": nombre, "arguments": ""}
            yield trozo({"tool_calls": [
                {"index": indice, "id": falso._id_llamada(), "type": "function", "function": funcion}]})
            for parte in _partir(args, 3):
                yield trozo({"tool_calls": [{"index": indice, "function": {"arguments": parte}}]})
        yield trozo({}, "tool_calls")
    if peticion.cuerpo.get("stream_options", {}).get("include_usage"):
        yield json.dumps(_sobre(falso, [], {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}))
    yield "[DONE]"


def _sobre(falso: ModeloFalso, choices: list[dict[str, Any]], uso: dict[str, int] | None) -> dict[str, Any]:
    return {"id": "chatcmpl-falso", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": falso.nombre, "system_fingerprint": "fp_falso", "choices": choices, "usage": uso}


def _partir(texto: str, n: int) -> list[str]:
    paso = max(1, -(-len(texto) // n))
    return [texto[i:i + paso] for i in range(0, len(texto), paso)] or [""]
