"""Customers: search, balance, and the customer record."""

from __future__ import annotations

import functools
import re
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Connection,
    Integer,
    bindparam,
    column,
    func,
    select,
    table,
    text,
    tuple_,
    type_coerce,
)

from soporte_mcp.db.consulta_directa import ConsultaDirecta
from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, Cliente, Pago, Ticket
from soporte_mcp.dominio import BUSQUEDA_LARGO_MAXIMO as LARGO_MAXIMO_CONSULTA
from soporte_mcp.dominio import BUSQUEDA_LIMITE_MAXIMO as LIMITE_MAXIMO
from soporte_mcp.dominio import BUSQUEDA_LIMITE_POR_DEFECTO as LIMITE_POR_DEFECTO
from soporte_mcp.errors import ClienteNoEncontrado, ConsultaDemasiadoLarga, ConsultaVacia, LimiteInvalido
from soporte_mcp.money import centavos_en_texto
from soporte_mcp.services.auditoria import Llamada, Tipo, operacion
from soporte_mcp.services.schemas import (
    ClienteResumen,
    ResultadoBusqueda,
    SaldoCliente,
)
from soporte_mcp.services.texto import normalizar, palabras_indexadas

clientes = Cliente.__table__
pagos = Pago.__table__
tickets = Ticket.__table__
anulaciones = Anulacion.__table__
# SQLite's two search indexes over clientes.busqueda (virtual tables, not models): whole words
# and their beginnings (migration 0003), and trigrams for the substring fallback (0001).
indice_palabras = table("clientes_palabras", column("rowid"))
indice_trigramas = table("clientes_fts", column("rowid"))

ESTADOS_ABIERTOS = ("abierto", "en_proceso", "pendiente")
# The trigram index needs at least three characters to look a word up.
MIN_TRIGRAMA = 3
# The prefix lengths the word index keeps (migration 0003, prefix='1 2 3 4 5'): a beginning this
# short is looked up as cheaply as a whole word, and read only as far as the LIMIT.
PREFIJO_INDEXADO = 5
# No name or email has more words (nor is longer than LARGO_MAXIMO_CONSULTA): the caps also bound the
# statement cache below.
PALABRAS_MAXIMAS = 8

COLUMNAS_CLIENTE = (
    clientes.c.id,
    clientes.c.nombre,
    clientes.c.email,
    clientes.c.telefono,
    clientes.c.saldo,
    clientes.c.activo,
    clientes.c.fecha_registro,
)
NOMBRE, EMAIL_CLIENTE = 1, 2  # where the name and the email are in a row of COLUMNAS_CLIENTE
# What a whole email looks like (the customer record refuses anything else: services/ficha_cliente.py).
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def buscar_clientes(
    *, db: Database, llamada: Llamada, query: str, limite: int = LIMITE_POR_DEFECTO, incluir_inactivos: bool = False
) -> ResultadoBusqueda:
    """``buscar_clientes_json``'s result as its model (see there)."""
    return ResultadoBusqueda.model_validate(buscar_clientes_json(
        db=db, llamada=llamada, query=query, limite=limite, incluir_inactivos=incluir_inactivos))


def buscar_clientes_json(
    *, db: Database, llamada: Llamada, query: str, limite: int = LIMITE_POR_DEFECTO, incluir_inactivos: bool = False
) -> dict[str, Any]:
    """Customers with words that start with each word of ``query``, accents and case ignored: a
    ``ResultadoBusqueda`` in its JSON form, what the tool sends (see ``_ordenar``).

    Each word of ``query`` matches the words of the name or email that start with
    it, in any order; a word with punctuation ("maria.garcia") matches its parts in
    order, the last one as a beginning.  A query with an "@" is an email or a piece of
    one: on SQLite a whole email is looked up as such (that email and those that start
    with it), anything else with an "@" as text.  When no customer matches so, the
    words are looked for anywhere in the name or email (the substring search).  An
    exact email match comes first, the rest by name.  Only active customers unless
    ``incluir_inactivos``.

    Raises:
        ConsultaVacia: ``query`` is empty or blank.
        ConsultaDemasiadoLarga: more than 200 characters or 8 words.
        LimiteInvalido: ``limite`` is outside 1..50.
    """
    with operacion(db, llamada, Tipo.CONSULTA) as op:
        palabras = normalizar(query or "").split()
        if not palabras:
            raise ConsultaVacia()
        if len(query) > LARGO_MAXIMO_CONSULTA or len(palabras) > PALABRAS_MAXIMAS:
            raise ConsultaDemasiadoLarga(
                f"La búsqueda admite como máximo {PALABRAS_MAXIMAS} palabras y {LARGO_MAXIMO_CONSULTA} "
                "caracteres. Busque por el nombre y un apellido, o por el email."
            )
        if not 1 <= limite <= LIMITE_MAXIMO:
            raise LimiteInvalido(f"El límite debe estar entre 1 y {LIMITE_MAXIMO} (recibido: {limite}).")
        email = query.strip().lower()
        encontrados = _buscar(op.conn, email, palabras, limite, incluir_inactivos)
        exacto = _por_email(op.conn, email, encontrados, incluir_inactivos)
        resultado = _ordenar(query, encontrados, exacto, limite)
        op.descripcion = f"Búsqueda {query!r}: {resultado['total']} resultado(s)"
        op.detalles = {"resultados": [c["id"] for c in resultado["clientes"]]}
        if resultado["total"] == 1:
            op.cliente_id = resultado["clientes"][0]["id"]
        return resultado


def _buscar(conn: Connection, email: str, palabras: list[str], limite: int, incluir_inactivos: bool) -> list[tuple]:
    """Up to ``limite`` + 1 matching customers (rows of COLUMNAS_CLIENTE): by whole email (SQLite) or
    by words; by substring when those find nobody, and for any other query with an "@".

    An "@" brings an email's domain into the query, and a domain is shared by a large
    share of the customers (gmail.com, empresa.com): intersecting its words with the
    others' costs FTS5 ≈ 8 ms on a million customers when few match ("perez@empresa"),
    the trigram index ≈ 0.4 ms.
    """
    sqlite = conn.dialect.name == "sqlite"
    if "@" in email:
        entero = sqlite and EMAIL.fullmatch(email)
        if entero and (filas := _por_comienzo_de_email(conn, email, limite, incluir_inactivos)):
            return filas
    elif frases := [partes for partes in map(palabras_indexadas, palabras) if partes]:
        por_palabras = _por_palabras if sqlite else _por_palabras_postgresql
        if filas := por_palabras(conn, frases, limite, incluir_inactivos):
            return filas
    return _por_subcadena(conn, palabras, limite, incluir_inactivos)


def _por_comienzo_de_email(conn: Connection, email: str, limite: int, incluir_inactivos: bool) -> list[tuple]:
    """Customers whose email is ``email`` or starts with it: a range of the unique email index.

    As words, a whole email is a phrase of common words and its domain ("juan perez
    empresa com"): FTS5 intersects their lists reading the domain's almost to the end
    (≈ 8 ms on a million customers), the trigram index its 20 trigrams' (≈ 0.5 ms);
    here it takes ≈ 10 µs.  An email inside a longer one ("x.juan.perez@…") is left
    to the substring search, which runs when this finds nobody.
    """
    consulta = POR_COMIENZO_DE_EMAIL[incluir_inactivos]
    return consulta.filas_json(conn, email=email, hasta=email + CARACTER_MAXIMO, limite=limite + 1)


def _por_palabras(conn: Connection, frases: list[list[str]], limite: int, incluir_inactivos: bool) -> list[tuple]:
    """Customers with, for each query word, a word that starts with it (an FTS5 prefix query per word).

    FTS5 reads a whole word's posting list, or a beginning's of up to five letters (the
    prefix indexes), only as far as the LIMIT; a longer beginning it first merges, in
    full, from every word that starts so: "garcia"* on a million customers merges
    garcia and thousands of garcia123 from emails, ≈ 2 ms. So the query's words are
    looked up as whole words first, and only if that finds no more than ``limite``
    customers as beginnings too: the same customers in the end, and "garcia" or a pair
    of surnames costs a whole-word lookup (when there are more than ``limite``, the
    ones shown then have the words whole).
    """
    consulta = BUSQUEDA_POR_PALABRAS[incluir_inactivos]
    enteras, comienzos = _expresion_fts(frases, comienzos=False), _expresion_fts(frases, comienzos=True)
    filas = consulta.filas_json(conn, fts=enteras, limite=limite + 1)
    if enteras != comienzos and len(filas) <= limite:
        vistos = {fila[0] for fila in filas}
        filas += [f for f in consulta.filas_json(conn, fts=comienzos, limite=limite + 1) if f[0] not in vistos]
    return filas[: limite + 1]


def _expresion_fts(frases: list[list[str]], *, comienzos: bool) -> str:
    """The FTS5 query: every query word as a phrase of its parts, ANDed.

    ``"juan perez"*`` matches "juan" followed by a word that starts with "perez".  A
    last part of up to PREFIJO_INDEXADO letters is always a beginning: its prefix
    index makes that as cheap as a whole word.  Parts are letters and digits only,
    so nothing in them is FTS5 syntax.
    """
    return " AND ".join(
        f'"{" ".join(partes)}"' + ("*" if comienzos or len(partes[-1]) <= PREFIJO_INDEXADO else "")
        for partes in frases
    )


def _consulta_por_palabras(incluir_inactivos: bool) -> ConsultaDirecta:
    stmt = (
        select(*COLUMNAS_CLIENTE)
        .select_from(clientes.join(indice_palabras, indice_palabras.c.rowid == clientes.c.id))
        .where(text("clientes_palabras MATCH :fts"))
    )
    if not incluir_inactivos:
        stmt = stmt.where(clientes.c.activo.is_(True))
    return ConsultaDirecta(stmt.limit(bindparam("limite")))


BUSQUEDA_POR_PALABRAS = {incluir: _consulta_por_palabras(incluir) for incluir in (False, True)}

# PostgreSQL's word table (migration 0003): one row per word of each customer's busqueda.
palabras_pg = table("clientes_palabras", column("palabra"), column("cliente_id"))
# A word boundary in busqueda, as the word table splits it (runs of letters and digits).
SEPARADOR = "[^[:alnum:]]+"


def _por_palabras_postgresql(
    conn: Connection, frases: list[list[str]], limite: int, incluir_inactivos: bool
) -> list[tuple]:
    """The same matches as ``_por_palabras``, from the word table's b-tree.

    The longest part of the query (the likeliest to be rare) is read as a range of the
    b-tree ("garcia" ≤ palabra < "garcib") in index order, in batches that grow (22,
    88, 352 … ids for 10 customers); the customers of each batch that match every query
    word (a regular expression on their busqueda: a word that starts with it, the parts
    of an email in order) are fetched, as many as are still missing, until ``limite`` + 1
    match or the range ends.  A common surname is one statement: its first batch (twice
    what is missing) nearly all matches.

    A batch is a subquery under ``ARRAY(...)``, rather than a join under a LIMIT:
    PostgreSQL's estimates for a text range and a regular expression are guesses, and
    with a join it read the whole range of "garcia" (21,000 ids on a million customers)
    into a bitmap, or scanned the customers table, instead of stopping at the LIMIT
    (issue 13's bench: 161 calls/s against the Django peer's 979).  ``ARRAY`` makes the
    batch an InitPlan read once along the index, and its ids a lookup of the primary key,
    whatever the estimates, prepared or not.  Fetching the ids to send them back cost a
    round trip a batch and, on a rare pair, arrays of thousands of ids through the driver.
    """
    guia = max((parte for partes in frases for parte in partes), key=len)
    patrones = {f"re{i}": "[^[:alnum:]]" + SEPARADOR.join(partes) for i, partes in enumerate(frases)}
    hasta = guia[:-1] + chr(ord(guia[-1]) + 1)
    del_lote = _del_lote_pg(len(frases), incluir_inactivos)
    encontrados: dict[int, tuple] = {}
    desde, despues_de, lote = guia, 0, 2 * (limite + 1)
    while True:
        rango = {"desde": desde, "despues_de": despues_de, "hasta": hasta, "lote": lote}
        for fila in del_lote.filas_json(conn, **rango, **patrones, vistos=list(encontrados),
                                        faltan=limite + 1 - len(encontrados)):
            encontrados[fila[0]] = fila
        if len(encontrados) > limite:
            break
        ultima = FIN_DEL_LOTE.filas(conn, **rango, salto=lote - 1)
        if not ultima:  # the range ended within this batch
            break
        desde, despues_de = ultima[0]
        lote = min(lote * 4, 16_384)
    return list(encontrados.values())


# Where a batch of the range ends: its last (palabra, cliente_id), none when the range ends before.
FIN_DEL_LOTE = ConsultaDirecta(
    select(palabras_pg.c.palabra, palabras_pg.c.cliente_id)
    .where(
        tuple_(palabras_pg.c.palabra, palabras_pg.c.cliente_id) > tuple_(bindparam("desde"), bindparam("despues_de")),
        palabras_pg.c.palabra < bindparam("hasta"),
    )
    .order_by(palabras_pg.c.palabra, palabras_pg.c.cliente_id)
    .offset(bindparam("salto"))
    .limit(1)
)


@functools.lru_cache(maxsize=2 * PALABRAS_MAXIMAS)
def _del_lote_pg(frases: int, incluir_inactivos: bool) -> ConsultaDirecta:
    # Text, for ARRAY(SELECT …), which Core does not write. The regular expressions go on
    # " " || busqueda, not the bare column: the trigram index can serve a regular expression,
    # and the planner would read it (46 ms for a pair of surnames) instead of the ids.
    filtros = [f"(' ' || clientes.busqueda) ~ :re{i}" for i in range(frases)]
    if not incluir_inactivos:
        filtros.append("clientes.activo")
    columnas = ", ".join(f"clientes.{c.name}" for c in COLUMNAS_CLIENTE)
    sql = (
        f"SELECT {columnas} FROM clientes WHERE clientes.id = ANY(ARRAY("
        "SELECT cliente_id FROM clientes_palabras WHERE (palabra, cliente_id) > (:desde, :despues_de) "
        "AND palabra < :hasta ORDER BY palabra, cliente_id LIMIT :lote)) "
        f"AND NOT clientes.id = ANY(:vistos) AND {' AND '.join(filtros)} LIMIT :faltan"
    )
    return ConsultaDirecta(
        text(sql).bindparams(bindparam("vistos", type_=ARRAY(Integer))).columns(*COLUMNAS_CLIENTE)
    )


def _por_subcadena(conn: Connection, palabras: list[str], limite: int, incluir_inactivos: bool) -> list[tuple]:
    """Customers whose name or email contains every word: the trigram index on SQLite, LIKE for shorter words."""
    largas = [p for p in palabras if len(p) >= MIN_TRIGRAMA]
    con_fts = bool(largas) and conn.dialect.name == "sqlite"
    cortas = [p for p in palabras if len(p) < MIN_TRIGRAMA] if con_fts else palabras
    params: dict[str, object] = {f"w{i}": f"%{_escapar_like(p)}%" for i, p in enumerate(cortas)}
    if con_fts:
        params["fts"] = _expresion_trigramas(largas)
    return _consulta_por_subcadena(con_fts, len(cortas), incluir_inactivos).filas_json(
        conn, limite=limite + 1, **params)


# Keyed by (FTS or not, 0..8 short words, inactive or not): at most 36 shapes, all kept.
@functools.lru_cache(maxsize=2 * (PALABRAS_MAXIMAS + 1) * 2)
def _consulta_por_subcadena(con_fts: bool, cortas: int, incluir_inactivos: bool) -> ConsultaDirecta:
    """The substring statement for one shape of query, built once (see POR_ID below)."""
    stmt = select(*COLUMNAS_CLIENTE)
    if con_fts:
        stmt = stmt.select_from(clientes.join(indice_trigramas, indice_trigramas.c.rowid == clientes.c.id)).where(
            text("clientes_fts MATCH :fts")
        )
    for i in range(cortas):
        stmt = stmt.where(clientes.c.busqueda.like(bindparam(f"w{i}"), escape="\\"))
    if not incluir_inactivos:
        stmt = stmt.where(clientes.c.activo.is_(True))
    return ConsultaDirecta(stmt.limit(bindparam("limite")))


def _expresion_trigramas(palabras: list[str]) -> str:
    # Each word as a quoted phrase: the trigram tokenizer matches it anywhere in the text.
    return " AND ".join('"' + p.replace('"', '""') + '"' for p in palabras)


def _escapar_like(palabra: str) -> str:
    return palabra.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


POR_EMAIL = ConsultaDirecta(select(*COLUMNAS_CLIENTE).where(clientes.c.email == bindparam("email")))
POR_EMAIL_ACTIVO = ConsultaDirecta(POR_EMAIL.statement.where(clientes.c.activo.is_(True)))
# Above every character an email can hold: "email" <= e < "email" + this is "e starts with email"
# (SQLite compares text byte by byte, and this is the highest code point).
CARACTER_MAXIMO = "\U0010ffff"


def _consulta_por_comienzo_de_email(incluir_inactivos: bool) -> ConsultaDirecta:
    stmt = select(*COLUMNAS_CLIENTE).where(
        clientes.c.email >= bindparam("email"), clientes.c.email < bindparam("hasta")
    )
    if not incluir_inactivos:
        stmt = stmt.where(clientes.c.activo.is_(True))
    return ConsultaDirecta(stmt.order_by(clientes.c.email).limit(bindparam("limite")))


POR_COMIENZO_DE_EMAIL = {incluir: _consulta_por_comienzo_de_email(incluir) for incluir in (False, True)}


def _por_email(conn: Connection, email: str, encontrados: list[tuple], incluir_inactivos: bool) -> tuple | None:
    """The customer whose email is ``email``, to list first (None when it is no email, or nobody's)."""
    if "@" not in email:
        return None
    if exacto := next((fila for fila in encontrados if fila[EMAIL_CLIENTE] == email), None):
        return exacto  # always, for a whole email on SQLite: the range above starts at it
    filas = (POR_EMAIL if incluir_inactivos else POR_EMAIL_ACTIVO).filas_json(conn, email=email)
    return filas[0] if filas else None


def _ordenar(query: str, encontrados: list[tuple], exacto: tuple | None, limite: int) -> dict[str, Any]:
    hay_mas = len(encontrados) > limite
    resto = sorted((c for c in encontrados if exacto is None or c[0] != exacto[0]), key=lambda c: c[NOMBRE])
    lista = ([exacto] if exacto else []) + resto
    lista = lista[:limite]
    sugerencia = None
    if not lista:
        sugerencia = (
            "No hay clientes activos que coincidan. Pruebe con solo el apellido, parte del email, "
            "o incluirInactivos=true."
        )
    elif hay_mas:
        sugerencia = "Hay más coincidencias que las mostradas: añada el segundo apellido o el email."
    # ResultadoBusqueda in its JSON form, from rows in theirs (filas_json), in the model's field order.
    # Why not the model (issue 13): a ten-customer search's rows used to become Decimal and datetime
    # values, then a validated model, then that model dumped back to text for structuredContent
    # (≈ 30 µs); the tool sends this as it is. Nothing validates it at run time: it is what a dump
    # of the model it validates into gives, which tests/services/test_resultados_json.py holds for
    # every shape of search on both backends, and buscar_clientes validates it for its Python callers.
    return {
        "query": query, "total": len(lista), "hay_mas": hay_mas,
        "clientes": [dict(zip(POR_ID.columnas, fila, strict=True)) for fila in lista], "sugerencia": sugerencia,
    }


def consultar_saldo(*, db: Database, llamada: Llamada, cliente_id: int) -> SaldoCliente:
    """``consultar_saldo_json``'s result as its model (see there)."""
    return SaldoCliente.model_validate(consultar_saldo_json(db=db, llamada=llamada, cliente_id=cliente_id))


def consultar_saldo_json(*, db: Database, llamada: Llamada, cliente_id: int) -> dict[str, Any]:
    """A customer's balance with their last 5 payments and a summary of their account: a ``SaldoCliente``
    in its JSON form, what the tool sends (as a search's, see ``_ordenar``).

    Raises:
        ClienteNoEncontrado: no customer has that id.
    """
    with operacion(db, llamada, Tipo.CONSULTA) as op:
        cliente = _fila_cliente(op.conn, cliente_id, en_json=True)
        op.cliente_id = cliente["id"]
        op.descripcion = f"Consulta de saldo del cliente {cliente['id']}: {cliente['saldo']}"
        recientes = ULTIMOS_PAGOS.filas_json(op.conn, id=cliente_id)
        # From the rows in their JSON form, in SaldoCliente's field order (see _ordenar).
        return {
            "cliente": cliente,
            "saldo": cliente["saldo"],
            "ultimos_pagos": _como_dicts(ULTIMOS_PAGOS, recientes),
            "ultimos_movimientos": _ultimos_movimientos(
                recientes, ULTIMAS_ANULACIONES.filas_json(op.conn, id=cliente_id)),
            "resumen": _resumen_cuenta(op.conn, cliente_id),
        }


def _ultimos_movimientos(ultimos_pagos: list[tuple], ultimas_anulaciones: list[tuple]) -> list[dict[str, Any]]:
    """The 5 newest of both (by date, then id, as one ORDER BY over their union would give them), from
    rows in JSON form.

    The 5 newest movements are among the 5 newest payments and the 5 newest reversals, and the
    payments are read anyway: a UNION ALL of both tables read the payments a second time
    (≈ 20 µs of a ≈ 200 µs balance, issue 13).
    """
    movimientos = [("pago", id_, id_, monto, descripcion, fecha)
                   for id_, monto, _metodo, descripcion, fecha in ultimos_pagos]
    if ultimas_anulaciones:  # without any (most customers) the payments come in that order already
        movimientos += [("anulacion", *fila) for fila in ultimas_anulaciones]
        movimientos.sort(key=lambda m: (_orden_de_fecha(m[5]), m[1]), reverse=True)
    return [dict(zip(COLUMNAS_MOVIMIENTO, m, strict=True)) for m in movimientos[:5]]


def _orden_de_fecha(fecha: str) -> str:
    """A date's JSON text ("…T15:00:00Z", "…T15:00:00.5Z", always UTC) as text that sorts as the dates do:
    the fraction written out, so that a whole second does not sort after its own fractions."""
    segundos, _, fraccion = fecha.removesuffix("Z").partition(".")
    return f"{segundos}.{fraccion:0<6}"


# Statements built once: constructing a Core statement costs ~50 µs a call, three times
# what executing a prebuilt one with bound parameters costs (measured on SQLite).
POR_ID = ConsultaDirecta(select(*COLUMNAS_CLIENTE).where(clientes.c.id == bindparam("id")))
ULTIMOS_PAGOS = ConsultaDirecta(
    select(pagos.c.id, pagos.c.monto, pagos.c.metodo_pago, pagos.c.descripcion, pagos.c.fecha)
    .where(pagos.c.cliente_id == bindparam("id"))
    .order_by(pagos.c.fecha.desc(), pagos.c.id.desc())
    .limit(5)
)
RESUMEN = ConsultaDirecta(select(
    select(func.count()).where(tickets.c.cliente_id == bindparam("id")).scalar_subquery(),
    select(func.count())
    .where(tickets.c.cliente_id == bindparam("id"), tickets.c.estado.in_(ESTADOS_ABIERTOS))
    .scalar_subquery(),
    select(func.count()).where(pagos.c.cliente_id == bindparam("id")).scalar_subquery(),
    select(func.max(pagos.c.fecha)).where(pagos.c.cliente_id == bindparam("id")).scalar_subquery(),
    select(func.count()).where(anulaciones.c.cliente_id == bindparam("id")).scalar_subquery(),
    select(func.coalesce(func.sum(type_coerce(anulaciones.c.monto, BigInteger)), 0))
    .where(anulaciones.c.cliente_id == bindparam("id"))
    .scalar_subquery(),
))
# The newest reversals, merged with the newest payments into the last movements (_ultimos_movimientos).
ULTIMAS_ANULACIONES = ConsultaDirecta(
    select(anulaciones.c.id, anulaciones.c.pago_id, anulaciones.c.monto, anulaciones.c.motivo, anulaciones.c.fecha)
    .where(anulaciones.c.cliente_id == bindparam("id"))
    .order_by(anulaciones.c.fecha.desc(), anulaciones.c.id.desc())
    .limit(5)
)
COLUMNAS_MOVIMIENTO = ("tipo", "id", "pago_id", "monto", "descripcion", "fecha")


def ficha_cliente(*, db: Database, llamada: Llamada, ident: int) -> ClienteResumen:
    """The customer record (the ``cliente://`` resource), audited as a query.

    Raises:
        ClienteNoEncontrado: no customer has that id.
    """
    with operacion(db, llamada, Tipo.CONSULTA) as op:
        cliente = obtener_cliente(op.conn, ident)
        op.cliente_id = cliente.id
        op.descripcion = f"Lectura de la ficha del cliente {cliente.id}"
        return cliente


def obtener_cliente(conn: Connection, cliente_id: int) -> ClienteResumen:
    """The customer with that id.

    Raises:
        ClienteNoEncontrado: there is none.
    """
    return ClienteResumen.model_validate(_fila_cliente(conn, cliente_id))


def _fila_cliente(conn: Connection, cliente_id: int, *, en_json: bool = False) -> dict[str, Any]:
    """The customer with that id as a dict of ClienteResumen's fields (in their JSON form if ``en_json``).

    Raises:
        ClienteNoEncontrado: there is none.
    """
    filas = (POR_ID.filas_json if en_json else POR_ID.filas)(conn, id=cliente_id)
    if not filas:
        raise ClienteNoEncontrado(cliente_id)
    return dict(zip(POR_ID.columnas, filas[0], strict=True))


def _como_dicts(consulta: ConsultaDirecta, filas: list[tuple]) -> list[dict[str, Any]]:
    # Plain dicts for pydantic to validate in one go: ≈ 1.5 µs a row, against ≈ 4.5 for a Row
    # (read attribute by attribute) and a model per row.
    return [dict(zip(consulta.columnas, fila, strict=True)) for fila in filas]


def _resumen_cuenta(conn: Connection, cliente_id: int) -> dict[str, Any]:
    """ResumenCuenta's fields, in their JSON form."""
    ((total, abiertos, pagados, ultimo, anuladas, anulado),) = RESUMEN.filas_json(conn, id=cliente_id)
    return {
        "tickets_total": total, "tickets_abiertos": abiertos, "pagos_total": pagados, "fecha_ultimo_pago": ultimo,
        "anulaciones_total": anuladas, "total_anulado": centavos_en_texto(int(anulado)),
    }
