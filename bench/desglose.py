"""Where the time of an in-process call goes: timers on the layers an MCP tool call crosses.

Each layer is timed by wrapping the function that implements it (``perf_counter_ns``
around the original, ≈ 1 µs each), over the same kind of series as the main table:

- client, outputSchema check: ``ClientSession.validate_tool_result`` (jsonschema, in the SDK client);
- server, arguments: ``FuncMetadata.validate_arguments`` (pydantic, SDK);
- server, result: ``FuncMetadata.convert_result`` (pydantic validation, JSON text and
  ``structuredContent``, SDK);
- our service: ``Database.run`` (everything our tool does with the database), split into
  SQLite statements (timed at the DB-API cursor, by statement: ``BEGIN``, the audit
  ``INSERT``, the tool's own SQL, whose rows' fetching counts too), ``COMMIT``
  (``dialect.do_commit``) and the Python around them (SQLAlchemy Core, our code,
  pydantic models of the answer);
- our adapter: ``FuncMetadata.call_fn`` minus the service (the audit caller, context);
- the rest of the SDK: the whole call minus all of the above (JSON-RPC messages, protocol
  models, the in-memory streams, dispatch, the client's parsing of the result).

The no-op of the reference server goes through the same timers, so each bucket of
ours can be read next to what the protocol itself costs there.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mcp import Client
from mcp.client.session import ClientSession
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from sqlalchemy import event
from sqlalchemy.engine.cursor import CursorFetchStrategy

from bench.bases import Datos
from bench.inproceso import fijo, llamador, pagos
from bench.medicion import Limites, calentar, medir
from bench.referencia import NOOP, build_referencia
from soporte_mcp.config import Settings
from soporte_mcp.db.engine import Database
from soporte_mcp.server import build_server

CAPAS = [
    ("client: outputSchema validation (jsonschema)", "cliente_validacion"),
    ("server SDK: argument validation (pydantic)", "argumentos"),
    ("server SDK: result → structuredContent + JSON text (pydantic)", "resultado"),
    ("server SDK: Tool.run glue", "tool_run_resto"),
    ("ours: tool adapter outside the service", "adaptador"),
    ("ours: SQLite BEGIN IMMEDIATE", "sql_begin"),
    ("ours: SQLite audit INSERT (historial_acciones)", "sql_auditoria"),
    ("ours: SQLite, the tool's own statements (execute + fetch)", "sql_propio"),
    ("ours: SQLite COMMIT", "sql_commit"),
    ("ours: Python in the service (SQLAlchemy Core, our code, pydantic models)", "servicio_python"),
    ("SDK protocol: JSON-RPC, protocol models, streams, dispatch", "protocolo"),
]


@dataclass
class Cronos:
    """Accumulated nanoseconds per layer over ``llamadas`` calls."""

    ns: defaultdict[str, int]
    llamadas: int = 0

    def us(self, capa: str) -> float:
        return self.ns[capa] / 1000 / max(self.llamadas, 1)


def _envolver_async(acumulado: defaultdict[str, int], nombre: str, original: Callable) -> Callable:
    async def envoltura(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter_ns()
        try:
            return await original(*args, **kwargs)
        finally:
            acumulado[nombre] += time.perf_counter_ns() - t0

    return envoltura


def _envolver(acumulado: defaultdict[str, int], nombre: str, original: Callable) -> Callable:
    def envoltura(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter_ns()
        try:
            return original(*args, **kwargs)
        finally:
            acumulado[nombre] += time.perf_counter_ns() - t0

    return envoltura


@contextmanager
def cronometrado(db: Database | None) -> Iterator[defaultdict[str, int]]:
    """Install the timers (and remove them on exit); yields the accumulated ns per raw timer."""
    ns: defaultdict[str, int] = defaultdict(int)
    parches = [
        (ClientSession, "validate_tool_result", _envolver_async),
        (Tool, "run", _envolver_async),
        (FuncMetadata, "call_fn", _envolver_async),
        (FuncMetadata, "validate_arguments", _envolver),
        (FuncMetadata, "convert_result", _envolver),
        (Database, "run", _envolver_async),
    ]
    originales = [(cls, nombre, cls.__dict__[nombre]) for cls, nombre, _ in parches]
    for cls, nombre, envolver in parches:
        setattr(cls, nombre, envolver(ns, f"{cls.__name__}.{nombre}", cls.__dict__[nombre]))
    quitar = _cronometrar_sql(db, ns) if db is not None else lambda: None
    try:
        yield ns
    finally:
        for cls, nombre, original in originales:
            setattr(cls, nombre, original)
        quitar()


def _cronometrar_sql(db: Database, ns: defaultdict[str, int]) -> Callable[[], None]:
    inicio: list[int] = []

    def antes(conn, cursor, sentencia, parametros, contexto, executemany) -> None:
        inicio.append(time.perf_counter_ns())

    def despues(conn, cursor, sentencia, parametros, contexto, executemany) -> None:
        if not inicio:  # a statement that began before the timers were installed (a persistent connection)
            return
        s = sentencia.lstrip().upper()
        capa = (
            "sql_begin"
            if s.startswith("BEGIN")
            else "sql_auditoria"
            if s.startswith("INSERT INTO HISTORIAL_ACCIONES")
            else "sql_propio"
        )
        ns[capa] += time.perf_counter_ns() - inicio.pop()

    event.listen(db.engine, "before_cursor_execute", antes)
    event.listen(db.engine, "after_cursor_execute", despues)
    dialecto = db.engine.dialect
    dialecto.do_commit = _envolver(ns, "sql_commit", dialecto.do_commit)
    # SQLite does much of a query's work while rows are fetched (an FTS5 match, for one).
    lecturas = {m: CursorFetchStrategy.__dict__[m] for m in ("fetchone", "fetchmany", "fetchall")}
    for metodo, original in lecturas.items():
        setattr(CursorFetchStrategy, metodo, _envolver(ns, "sql_propio", original))

    def quitar() -> None:
        event.remove(db.engine, "before_cursor_execute", antes)
        event.remove(db.engine, "after_cursor_execute", despues)
        del dialecto.do_commit  # back to the class's method
        for metodo, original in lecturas.items():
            setattr(CursorFetchStrategy, metodo, original)

    return quitar


def capas(ns: defaultdict[str, int], total_ns: int) -> dict[str, int]:
    """Exclusive layers from the inclusive timers."""
    sql = ns["sql_begin"] + ns["sql_auditoria"] + ns["sql_propio"] + ns["sql_commit"]
    servicio = ns["Database.run"]
    return {
        "cliente_validacion": ns["ClientSession.validate_tool_result"],
        "argumentos": ns["FuncMetadata.validate_arguments"],
        "resultado": ns["FuncMetadata.convert_result"],
        "tool_run_resto": ns["Tool.run"]
        - ns["FuncMetadata.validate_arguments"]
        - ns["FuncMetadata.call_fn"]
        - ns["FuncMetadata.convert_result"],
        "adaptador": ns["FuncMetadata.call_fn"] - servicio,
        "sql_begin": ns["sql_begin"],
        "sql_auditoria": ns["sql_auditoria"],
        "sql_propio": ns["sql_propio"],
        "sql_commit": ns["sql_commit"],
        "servicio_python": servicio - sql,
        "protocolo": total_ns - ns["ClientSession.validate_tool_result"] - ns["Tool.run"],
    }


async def _medir_capas(
    client: Client, db: Database | None, herramienta: str, argumentos, limites: Limites
) -> Cronos:
    llamar = llamador(client, herramienta, argumentos)
    await calentar(llamar, limites)
    with cronometrado(db) as ns:
        serie = await medir(llamar, Limites(limites.llamadas, limites.segundos, 0))
        total = int(sum(serie.latencias_ms) * 1e6)
    return Cronos(defaultdict(int, capas(ns, total) | {"total": total}), serie.n)


async def desglose(url: str, datos: Datos, limites: Limites) -> str:
    """A Markdown table: µs per call and layer, for the no-op, consultarSaldo, the searches, registrarPago."""
    columnas: list[tuple[str, Cronos]] = []
    async with Client(build_referencia()) as ref:
        columnas.append(("no-op (reference)", await _medir_capas(ref, None, NOOP, fijo({}), limites)))
    db = Database.from_url(url)
    try:
        async with Client(build_server(Settings(database_url=url), db)) as client:
            busquedas = [
                (f"buscarCliente, {tipo}", "buscarCliente", fijo({"query": datos.busquedas[tipo]}))
                for tipo in ("common surname", "rare surname pair", "email fragment", "matches nobody")
            ]
            for titulo, herramienta, argumentos in (
                ("consultarSaldo", "consultarSaldo", fijo({"clienteId": datos.cliente_saldo})),
                *busquedas,
                ("registrarPago", "registrarPago", pagos(datos)),
            ):
                columnas.append((titulo, await _medir_capas(client, db, herramienta, argumentos, limites)))
    finally:
        db.dispose()
    return _tabla(columnas)


NUESTRAS = ("adaptador", "sql_begin", "sql_auditoria", "sql_propio", "sql_commit", "servicio_python")


def _sdk(c: Cronos) -> float:
    """What the call would cost if our adapter and service took no time at all."""
    return c.us("total") - sum(c.us(capa) for capa in NUESTRAS)


def _tabla(columnas: list[tuple[str, Cronos]]) -> str:
    cab = "| µs per call (mean) | " + " | ".join(t for t, _ in columnas) + " |"
    lineas = [cab, "| --- |" + " --- |" * len(columnas)]
    for etiqueta, capa in CAPAS:
        lineas.append(f"| {etiqueta} | " + " | ".join(f"{c.us(capa):,.0f}" for _, c in columnas) + " |")
    lineas.append(
        "| **total (client call_tool)** | "
        + " | ".join(f"**{c.us('total'):,.0f}**" for _, c in columnas)
        + " |"
    )
    noop = columnas[0][1].us("total")
    lineas.append(
        "| ratio to the no-op | " + " | ".join(f"{c.us('total') / noop:.2f}×" for _, c in columnas) + " |"
    )
    lineas.append(
        "| the SDK's part alone (total minus ours) | "
        + " | ".join(f"{_sdk(c):,.0f} µs = {_sdk(c) / noop:.2f}×" for _, c in columnas)
        + " |"
    )
    return "\n".join(lineas)


GRUPOS = [
    ("SQLite (sqlite3: execute, fetch, commit)", lambda f, n: "sqlite3." in n),
    (
        "SQLAlchemy sql/ (statement building, cache keys, bind parameters)",
        lambda f, n: "/sqlalchemy/sql/" in f,
    ),
    (
        "SQLAlchemy engine/, pool/, event/ (execution, results, events)",
        lambda f, n: "/sqlalchemy/" in f or "sqlalchemy" in n,
    ),
    ("pydantic (models of the answer, audit JSON)", lambda f, n: "pydantic" in f or "pydantic" in n),
    ("soporte_mcp (our Python)", lambda f, n: "/soporte_mcp/" in f),
    ("other (stdlib: datetime, json, hashlib, decimal, ...)", lambda f, n: True),
]


def perfil_servicios(url: str, datos: Datos, llamadas: int) -> str:
    """cProfile of the three services called directly (no MCP): their time by library, in %.

    The profiler inflates Python relative to C, so read the shares, not the sums.
    """
    import cProfile
    import pstats

    from soporte_mcp.services import clientes
    from soporte_mcp.services import pagos as servicio_pagos
    from soporte_mcp.services.auditoria import Llamada

    db = Database.from_url(url)
    proximo = pagos(datos)
    casos = {
        "consultarSaldo": lambda: clientes.consultar_saldo(
            db=db, llamada=Llamada("consultarSaldo"), cliente_id=datos.cliente_saldo
        ),
        "buscarCliente 'garcia'": lambda: clientes.buscar_clientes(
            db=db, llamada=Llamada("buscarCliente"), query="garcia"
        ),
        "registrarPago": lambda: _pagar(servicio_pagos, db, proximo()),
    }
    columnas: dict[str, dict[str, float]] = {}
    try:
        for titulo, caso in casos.items():
            for _ in range(50):
                caso()
            t0 = time.perf_counter()
            for _ in range(llamadas):
                caso()
            sin_perfil = (time.perf_counter() - t0) / llamadas * 1e6
            perfil = cProfile.Profile()
            perfil.runcall(lambda caso=caso: [caso() for _ in range(llamadas)])
            columnas[titulo] = _agrupar(pstats.Stats(perfil)) | {"_us": sin_perfil}
    finally:
        db.dispose()
    lineas = [
        "| share of the service's profiled time | " + " | ".join(columnas) + " |",
        "| --- |" + " --- |" * len(columnas),
    ]
    for grupo, _ in GRUPOS:
        lineas.append(f"| {grupo} | " + " | ".join(f"{c[grupo]:.0%}" for c in columnas.values()) + " |")
    lineas.append(
        "| **service alone, µs per call without the profiler** | "
        + " | ".join(f"**{c['_us']:,.0f}**" for c in columnas.values())
        + " |"
    )
    return "\n".join(lineas)


def _pagar(servicio, db: Database, argumentos: dict[str, Any]) -> object:
    from soporte_mcp.services.auditoria import Llamada

    return servicio.registrar_pago(
        db=db,
        llamada=Llamada("registrarPago"),
        cliente_id=argumentos["clienteId"],
        monto=argumentos["monto"],
        descripcion=argumentos["descripcion"],
        metodo_pago=argumentos["metodoPago"],
    )


def _agrupar(stats) -> dict[str, float]:
    por_grupo: defaultdict[str, float] = defaultdict(float)
    for (archivo, _linea, nombre), (_cc, _nc, propio, _acum, _llamadores) in stats.stats.items():
        grupo = next(g for g, pertenece in GRUPOS if pertenece(archivo, nombre))
        por_grupo[grupo] += propio
    total = sum(por_grupo.values())
    return {g: por_grupo[g] / total for g, _ in GRUPOS}


def _servicio_en_bucle(url: str, segundos: float, cola) -> None:
    """In a child process: buscarCliente's service ('garcia') in a loop; puts (calls, median ms, p99 ms)."""
    from soporte_mcp.services import clientes
    from soporte_mcp.services.auditoria import Llamada

    db = Database.from_url(url)
    llamada = Llamada("buscarCliente", {"query": "garcia"})
    for _ in range(50):
        clientes.buscar_clientes(db=db, llamada=llamada, query="garcia")
    latencias: list[float] = []
    fin = time.perf_counter() + segundos
    while time.perf_counter() < fin:
        t0 = time.perf_counter()
        clientes.buscar_clientes(db=db, llamada=llamada, query="garcia")
        latencias.append((time.perf_counter() - t0) * 1000)
    db.dispose()
    latencias.sort()
    cola.put((len(latencias), latencias[len(latencias) // 2], latencias[int(0.99 * len(latencias))]))


def escalado_sqlite(url: str, segundos: float) -> str:
    """buscarCliente's service in 1 and in 2 processes at once, as 1 and 2 uvicorn workers would run it.

    Every call, reads included, is a write transaction (BEGIN IMMEDIATE ... audit INSERT
    ... COMMIT), so the processes take turns on SQLite's one write lock.
    """
    import multiprocessing

    contexto = multiprocessing.get_context("spawn")
    lineas = ["| processes | calls/s, all processes | median / p99 ms per process |", "| --- | --- | --- |"]
    for procesos in (1, 2):
        cola = contexto.Queue()
        hijos = [
            contexto.Process(target=_servicio_en_bucle, args=(url, segundos, cola)) for _ in range(procesos)
        ]
        for h in hijos:
            h.start()
        resultados = [cola.get() for _ in hijos]
        for h in hijos:
            h.join()
        lat = ", ".join(f"{m:.2f} / {p:.2f}" for _, m, p in resultados)
        lineas.append(f"| {procesos} | {sum(n for n, _, _ in resultados) / segundos:,.0f} | {lat} |")
    return "\n".join(lineas)


async def esquemas(url: str, datos: Datos, veces: int = 2000) -> str:
    """What the client's outputSchema check would cost with a simpler schema (same result, same validator).

    The SDK client compiles each tool's outputSchema once (``validator_for(schema)(schema,
    registry=Registry())``) and checks every result with ``best_match(iter_errors(...))``;
    this does the same, on our published schemas and on two rewrites of them.
    """
    from jsonschema import exceptions
    from jsonschema.validators import validator_for
    from referencing import Registry

    def coste(esquema: dict, instancia: object) -> float:
        validador = validator_for(esquema)(esquema, registry=Registry())
        t0 = time.perf_counter()
        for _ in range(veces):
            assert exceptions.best_match(validador.iter_errors(instancia)) is None
        return (time.perf_counter() - t0) / veces * 1e6

    db = Database.from_url(url)
    lineas = [
        '| µs per result | as published | `$defs` inlined | inlined, money as `{"type": "string"}` |',
        "| --- | --- | --- | --- |",
    ]
    try:
        async with Client(build_server(Settings(database_url=url), db)) as client:
            publicados = {t.name: t.output_schema for t in (await client.list_tools()).tools}
            for titulo, herramienta, argumentos in (
                ("consultarSaldo", "consultarSaldo", {"clienteId": datos.cliente_saldo}),
                ("buscarCliente 'garcia' (10 customers)", "buscarCliente", {"query": "garcia"}),
                ("registrarPago", "registrarPago", pagos(datos)()),
            ):
                resultado = (await client.call_tool(herramienta, argumentos)).structured_content
                esquema = publicados[herramienta]
                en_linea = _sin_refs(esquema, esquema.get("$defs", {}))
                cifras = [coste(e, resultado) for e in (esquema, en_linea, _dinero_texto(en_linea))]
                lineas.append(f"| {titulo} | " + " | ".join(f"{c:,.0f}" for c in cifras) + " |")
    finally:
        db.dispose()
    return "\n".join(lineas)


def _sin_refs(esquema: Any, defs: dict) -> Any:
    if isinstance(esquema, dict):
        if "$ref" in esquema:
            return _sin_refs(defs[esquema["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _sin_refs(v, defs) for k, v in esquema.items() if k != "$defs"}
    if isinstance(esquema, list):
        return [_sin_refs(x, defs) for x in esquema]
    return esquema


def _dinero_texto(esquema: Any) -> Any:
    """Money fields (``anyOf: [number, string]`` in the published schema) as the strings they always are."""
    if isinstance(esquema, dict):
        if esquema.get("anyOf") == [{"type": "number"}, {"type": "string"}]:
            return {k: v for k, v in esquema.items() if k != "anyOf"} | {"type": "string"}
        return {k: _dinero_texto(v) for k, v in esquema.items()}
    if isinstance(esquema, list):
        return [_dinero_texto(x) for x in esquema]
    return esquema
