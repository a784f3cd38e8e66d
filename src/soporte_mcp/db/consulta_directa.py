"""Prebuilt statements that, on SQLite, skip SQLAlchemy's execution path and run on the driver's cursor.

Why (issue 13): on SQLite our hot reads take 10-60 µs in the database, and
``Connection.execute`` adds ≈ 65 µs around each of them (events, the execution
context, the result object, one processor call per value); a balance runs four
such statements per call, a search one to three.  Here SQLAlchemy still
writes the SQL, once, from the same Core statement; the per-call work is the
driver's ``execute`` plus the columns' own result conversions (cents to
``Decimal``, text to an aware ``datetime``, 0/1 to ``bool``), taken from the column
types once: SQLAlchemy's, or our types' own in one call (db/types.py).

On PostgreSQL (psycopg) the same holds for the reads, which run outside any
transaction (``Database.lectura``): SQLAlchemy's part was ≈ 50 µs a statement and
≈ 3 µs a row, on statements that take psycopg ≈ 100 µs; psycopg keeps each one
prepared on its connection after a few runs, as it does under SQLAlchemy.

Only what makes the shortcut safe takes it: SQLite, or PostgreSQL through psycopg
on a connection in autocommit (a read: a statement that fails there leaves no
transaction behind to abort); no statement listener on the engine (the tracing of
observabilidad/trazas.py wants a span per statement, so with it every statement
goes the usual way).  Parameters get the columns' bind conversions, as Core gives
them (a call's values per call, the statement's constants once).  A database error is not
translated here: the statement is run again through SQLAlchemy, which raises it
the one usual way (``handle_error`` events, a lost connection invalidated,
``traducir_errores``); a SELECT can be repeated harmlessly.  On SQLite a misuse
of the driver (``ProgrammingError``: a wrong number of parameters) is a bug here
and is raised as it is, not hidden behind the slower path.  Anything else (a write's
transaction on PostgreSQL) gets ``Connection.execute``, with the rows in the same
shape.

The same holds for the INSERT and UPDATE statements of a payment on SQLite (issue 13:
four statements cost ≈ 250 µs of SQLAlchemy around ≈ 40 µs of SQLite, while the writer
thread held the file's write lock).  Their parameters get the columns' own bind
conversions (``Decimal`` to cents, an aware ``datetime`` to UTC text, JSON), and an
INSERT is compiled for the columns the call gives (all those with a default in Python,
else it goes through SQLAlchemy, which fills them).  An error repeats the statement
through SQLAlchemy only while SQLite's transaction survived it (a failed statement
changed nothing); if SQLite rolled the transaction back, the error is raised as the
database's unavailability, never repeated outside the transaction.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections import namedtuple
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Insert, Select, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import ExpandedState, SQLCompiler

from soporte_mcp.db.escritor import PERDIDA
from soporte_mcp.errors import BaseDeDatosNoDisponible


@dataclass(frozen=True)
class _Compilada:
    """One statement as SQLite's driver takes it: SQL text, where each parameter goes, how to read each column."""

    sql: str
    # Per "?" in the SQL: the name of a call's parameter, or (None, the constant SQLAlchemy bound it to).
    posiciones: tuple[tuple[str | None, Any], ...]
    # (position, its type's bind conversion), for the parameters that have one.
    entradas: tuple[tuple[int, Callable[[Any], Any]], ...]
    # (column index, its type's result conversion), for the columns that have one.
    conversiones: tuple[tuple[int, Callable[[Any], Any]], ...]
    # The same, to each value's JSON form (``filas_json``).
    conversiones_json: tuple[tuple[int, Callable[[Any], Any]], ...]


@dataclass(frozen=True)
class _CompiladaPg:
    """One statement as psycopg takes it: SQL with %(name)s parameters, the constants, the conversions."""

    sql: str
    constantes: dict[str, Any]
    # (parameter name, its type's bind conversion), for the parameters that have one.
    entradas: tuple[tuple[str, Callable[[Any], Any]], ...]
    conversiones: tuple[tuple[int, Callable[[Any], Any]], ...]


class ConsultaDirecta:
    """A SELECT (or an INSERT/UPDATE ... RETURNING) built once, run with ``filas(conn, **parametros)``:
    a list of tuples, converted like Core's rows; ``primera`` gives the first as a named tuple."""

    def __init__(self, statement: Select | Insert | Update) -> None:
        self.statement = statement
        # The attribute names of the result columns, in order (e.g. to build a model from a row).
        self.columnas: tuple[str, ...] = tuple(c.key for c in statement.exported_columns)
        self._fila = namedtuple("Fila", self.columnas, rename=True)
        self._escribe = not isinstance(statement, Select)
        # An INSERT's columns are the call's parameters: one compilation per set of names (None otherwise).
        self._compiladas: dict[frozenset[str] | None, _Compilada] = {}
        self._compilada_pg: _CompiladaPg | None = None
        tabla = getattr(statement, "table", None)
        # The columns whose default SQLAlchemy computes in Python: an INSERT without them takes its way.
        self._con_defecto = frozenset(
            c.key for c in tabla.columns if c.default is not None) if isinstance(statement, Insert) else frozenset()
        # What _a_json applies to rows read by another way than SQLite's driver.
        self._de_leidas_a_json = tuple((i, c.type.a_json) for i, c in enumerate(statement.exported_columns)
                                       if hasattr(c.type, "a_json"))

    def primera(self, conn: Connection, **parametros: Any) -> Any:
        """The first row (its columns by name, as Core's rows), or None when there is none."""
        filas = self.filas(conn, **parametros)
        return self._fila._make(filas[0]) if filas else None

    def filas(self, conn: Connection, **parametros: Any) -> list[tuple]:
        """The rows of the statement with ``parametros`` bound, on ``conn`` (inside its transaction)."""
        return self._filas(conn, parametros, en_json=False)

    def filas_json(self, conn: Connection, **parametros: Any) -> list[tuple]:
        """The rows as ``filas`` gives them, each value in its JSON form instead: money as text with two
        decimals, dates as ISO text in UTC ("…Z"), what our result models write for them (the hot reads
        send these, services/clientes.py).  On SQLite's driver straight from the stored cents and text
        (issue 13)."""
        return self._filas(conn, parametros, en_json=True)

    def _filas(self, conn: Connection, parametros: dict[str, Any], en_json: bool) -> list[tuple]:
        if conn.dispatch.before_cursor_execute:
            return self._a_json(self._por_sqlalchemy(conn, parametros), en_json)
        if conn.dialect.name != "sqlite":
            return self._a_json(self._por_psycopg(conn, parametros), en_json)
        nombres = frozenset(parametros) if isinstance(self.statement, Insert) else None
        if nombres is not None and not self._con_defecto <= nombres:
            return self._por_sqlalchemy(conn, parametros)
        compilada = self._compiladas.get(nombres) or self._compilar(conn.dialect, nombres)
        valores = [valor if nombre is None else parametros[nombre] for nombre, valor in compilada.posiciones]
        for i, convertir in compilada.entradas:
            valores[i] = convertir(valores[i])
        driver = conn.connection.driver_connection
        try:
            crudas = driver.execute(compilada.sql, valores).fetchall()
        except sqlite3.ProgrammingError:
            raise
        except sqlite3.Error as exc:
            if self._escribe and not driver.in_transaction:  # SQLite rolled it all back: not again, alone
                raise BaseDeDatosNoDisponible(PERDIDA) from exc
            return self._a_json(self._por_sqlalchemy(conn, parametros), en_json)
        conversiones = compilada.conversiones_json if en_json else compilada.conversiones
        return [self._convertir(fila, conversiones) for fila in crudas] if conversiones else crudas

    def _a_json(self, filas: list[tuple], en_json: bool) -> list[tuple]:
        """Rows already read (``Decimal``, ``datetime``) in their JSON form, when ``en_json``."""
        if not en_json or not filas:
            return filas
        conversiones = self._de_leidas_a_json
        return [self._convertir(fila, conversiones) for fila in filas] if conversiones else filas

    @staticmethod
    def _convertir(cruda: tuple, conversiones: tuple[tuple[int, Callable[[Any], Any]], ...]) -> tuple:
        fila = list(cruda)
        for i, convertir in conversiones:
            fila[i] = convertir(fila[i])
        return tuple(fila)

    def _por_psycopg(self, conn: Connection, parametros: dict[str, Any]) -> list[tuple]:
        driver = conn.connection.driver_connection
        if conn.dialect.driver != "psycopg" or not getattr(driver, "autocommit", False):
            return self._por_sqlalchemy(conn, parametros)
        compilada = self._compilada_pg or self._compilar_pg(conn.dialect)
        valores = compilada.constantes | parametros
        for nombre, convertir in compilada.entradas:
            valores[nombre] = convertir(valores[nombre])
        try:
            with driver.cursor() as cursor:
                crudas = cursor.execute(compilada.sql, valores).fetchall()
        except conn.dialect.loaded_dbapi.Error:  # psycopg's: a misuse, too, is raised as SQLAlchemy raises it
            return self._por_sqlalchemy(conn, parametros)
        return [self._convertir(fila, compilada.conversiones) for fila in crudas] if compilada.conversiones else crudas

    def _compilar_pg(self, dialecto: Dialect) -> _CompiladaPg:
        compilado, variables, expandido = self._expandido(dialecto)
        entradas = []
        for bind in compilado.binds.values():
            convertir = bind.type.dialect_impl(dialecto).bind_processor(dialecto)
            if convertir is not None:
                entradas.append((bind.key, convertir))
        constantes = {nombre: valor for nombre, valor in expandido.parameters.items() if nombre not in variables}
        conversiones = self._conversiones(dialecto)
        self._compilada_pg = _CompiladaPg(expandido.statement, constantes, tuple(entradas), conversiones)
        return self._compilada_pg

    def _expandido(
        self, dialecto: Dialect, nombres: frozenset[str] | None = None
    ) -> tuple[SQLCompiler, set[str], ExpandedState]:
        """The statement compiled for ``dialecto`` (an INSERT for the columns ``nombres``), the names
        of its parameters, and its SQL with the constants bound (an IN over constants becomes one
        placeholder per value, a LIMIT 5 a bound 5)."""
        compilado = self.statement.compile(dialect=dialecto, column_keys=sorted(nombres) if nombres else None)
        variables = {b.key for b in compilado.binds.values() if b.required} | (nombres or set())
        return compilado, variables, compilado.construct_expanded_state(dict.fromkeys(variables))

    def _conversiones(self, dialecto: Dialect, en_json: bool = False) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
        # Our column types offer their conversion as one call (db/types.py), and one to JSON; others get
        # SQLAlchemy's (SQLite's 0/1 to a bool, already JSON).
        procesadores = (c.type.conversion_json(dialecto) if en_json and hasattr(c.type, "conversion_json")
                        else c.type.conversion_directa(dialecto) if hasattr(c.type, "conversion_directa")
                        else c.type.dialect_impl(dialecto).result_processor(dialecto, None)
                        for c in self.statement.exported_columns)
        return tuple((i, p) for i, p in enumerate(procesadores) if p is not None)

    def _por_sqlalchemy(self, conn: Connection, parametros: dict[str, Any]) -> list[tuple]:
        resultado = conn.execute(self.statement, parametros)
        return [tuple(fila) for fila in resultado] if resultado.returns_rows else []  # an INSERT returns none

    def _compilar(self, dialecto: Dialect, nombres: frozenset[str] | None) -> _Compilada:
        compilado, variables, expandido = self._expandido(dialecto, nombres)
        procesadores = {nombre: bind.type.dialect_impl(dialecto).bind_processor(dialecto)
                        for nombre, bind in compilado.binds.items()}

        def constante(nombre: str) -> Any:  # converted once, here
            valor, convertir = expandido.parameters[nombre], procesadores.get(nombre)
            return valor if convertir is None else convertir(valor)

        posiciones = tuple(
            (nombre, None) if nombre in variables else (None, constante(nombre))
            for nombre in expandido.positiontup or ()
        )
        entradas = tuple((i, procesadores[nombre]) for i, (nombre, _) in enumerate(posiciones)
                         if nombre is not None and procesadores.get(nombre) is not None)
        compilada = _Compilada(expandido.statement, posiciones, entradas, self._conversiones(dialecto),
                               self._conversiones(dialecto, en_json=True))
        self._compiladas[nombres] = compilada
        return compilada


class InsercionEnLote:
    """Rows of one INSERT committed as a batch: on SQLite's driver, one statement for all of them.

    Why (issue 13): the reads' audit rows are written behind, by a thread, ≈ 150 at a
    time (db/diferido.py).  Through ``Connection.execute`` (an executemany) the driver
    released and took back the interpreter's lock around every row's step: with the
    event loop waiting for that lock on every request, the two threads handed it back
    and forth ≈ 150 times a batch.  Measured over HTTP (one worker, 32 connections,
    three alternating pairs of runs), a search cost ≈ 50 µs of server CPU more with its
    audit row than without; in-process, this batch cut ≈ 10 µs a call of it (two
    alternating pairs), while the writer thread alone costs about the same per row
    either way (≈ 10 µs: the JSON, SQLite's insert, the commit).  Here the rows travel
    as one JSON array, with each column's own bind conversion applied first (dates to
    SQLite's text, JSON to its text), and ``INSERT … SELECT … FROM json_each(?)``
    unpacks them inside SQLite in one step: the same values, the same storage types
    (tests/db/test_consulta_directa.py).

    Anything else (another backend, a statement listener, rows of different columns, a
    value JSON cannot carry, an SQLite without JSON functions) goes through
    ``Connection.execute`` as before.
    """

    def __init__(self, statement: Insert) -> None:
        self.statement = statement
        # Per set of column names (in the rows' order): the SQL and the columns' bind conversions, or None
        # for Core.
        self._compiladas: dict[tuple[str, ...], tuple[str, tuple[Any, ...]] | None] = {}

    def insertar(self, conn: Connection, filas: list[dict[str, Any]]) -> None:
        """Insert ``filas`` on ``conn``, inside its transaction."""
        if not filas:
            return
        if conn.dialect.name != "sqlite" or conn.dispatch.before_cursor_execute:
            conn.execute(self.statement, filas)
            return
        nombres = tuple(filas[0])
        compilada = self._compiladas.get(nombres, False)
        if compilada is False:
            compilada = self._compiladas[nombres] = self._compilar(conn.dialect, nombres)
        if compilada is None or any(tuple(fila) != nombres for fila in filas):
            conn.execute(self.statement, filas)
            return
        sql, conversiones = compilada
        try:
            datos = json.dumps([[valor if convertir is None else convertir(valor)
                                 for valor, convertir in zip(fila.values(), conversiones, strict=True)]
                                for fila in filas], allow_nan=False)
        except (TypeError, ValueError):  # bytes, a NaN: not JSON
            conn.execute(self.statement, filas)
            return
        driver = conn.connection.driver_connection
        try:
            driver.execute(sql, (datos,))
        except sqlite3.ProgrammingError:
            raise
        except sqlite3.Error as exc:  # as ConsultaDirecta's writes: again through Core only if nothing was lost
            if not driver.in_transaction:
                raise BaseDeDatosNoDisponible(PERDIDA) from exc
            conn.execute(self.statement, filas)

    def _compilar(self, dialecto: Dialect, nombres: tuple[str, ...]) -> tuple[str, tuple[Any, ...]] | None:
        tabla = self.statement.table
        columnas = [tabla.c.get(nombre) for nombre in nombres]
        con_defecto = {c.key for c in tabla.columns if c.default is not None}
        if any(c is None for c in columnas) or not con_defecto <= set(nombres) or not _json_en_sqlite():
            return None
        preparador = dialecto.identifier_preparer
        destino = ", ".join(preparador.format_column(c) for c in columnas)
        valores = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columnas)))
        sql = f"INSERT INTO {preparador.format_table(tabla)} ({destino}) SELECT {valores} FROM json_each(?)"
        conversiones = tuple(c.type.dialect_impl(dialecto).bind_processor(dialecto) for c in columnas)
        return sql, conversiones


@functools.cache
def _json_en_sqlite() -> bool:
    """Whether this SQLite has its JSON functions (built in since 3.38, an option before)."""
    with closing(sqlite3.connect(":memory:")) as prueba:
        try:
            prueba.execute("SELECT json_extract(value, '$[0]') FROM json_each('[[1]]')").fetchall()
        except sqlite3.OperationalError:
            return False
    return True
