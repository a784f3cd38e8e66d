"""Synthetic customers for load and benchmark databases: realistic, deterministic, fast.

``generar`` yields plain tuples (cents, ISO strings) so that a million rows
can go to SQLite through ``executemany`` without ORM or Core overhead; the
same rows go through Core inserts on other databases.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, insert, select

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, Pago, Ticket
from soporte_mcp.services.texto import normalizar, texto_busqueda, texto_ticket

NOMBRES = ["María", "José", "Ana", "Lucía", "Sofía", "Valentina", "Camila", "Daniela", "Gabriela", "Fernanda", "Andrea",
           "Paula", "Carolina", "Mónica", "Verónica", "Patricia", "Isabel", "Inés", "Belén", "Rocío", "Ángela",
           "Natalia", "Jimena", "Elena", "Raquel", "Beatriz", "Nuria", "Pilar", "Juan", "Carlos", "José", "Luis",
           "Miguel", "Ángel", "Andrés", "Sebastián", "Mateo", "Nicolás", "Diego", "Alejandro", "Martín", "Tomás",
           "Simón", "Jesús", "Rubén", "Óscar", "Iván", "Hernán", "Ramón", "Joaquín", "Agustín", "Julián", "Adrián",
           "Fabián", "Germán", "Rafael", "Víctor", "Héctor"]
APELLIDOS = ["García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
             "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez",
             "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina",
             "Morales", "Suárez", "Ortega", "Delgado", "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias",
             "Medina", "Garrido", "Cortés", "Castillo", "Santos", "Lozano", "Guerrero", "Cano", "Prieto", "Méndez",
             "Cruz", "Calvo", "Gallego", "Vidal", "León", "Márquez", "Herrera", "Peña", "Flores", "Cabrera", "Campos",
             "Vega", "Fuentes", "Carrasco", "Díez", "Caballero", "Reyes", "Nieto", "Aguilar", "Pascual", "Santana",
             "Herrero", "Lorenzo", "Montero", "Hidalgo", "Giménez", "Ibáñez", "Ferrer", "Durán", "Santiago", "Benítez",
             "Mora", "Vicente", "Vargas", "Arias", "Carmona", "Crespo", "Román", "Pastor", "Soto", "Sáez", "Velasco",
             "Moya", "Soler", "Parra", "Esteban", "Bravo", "Gallardo", "Rojas", "Pardo", "Merino", "Franco", "Espinosa",
             "Izquierdo", "Lara", "Rivas", "Silva", "Rivera", "Casado", "Arroyo", "Redondo", "Camacho", "Rey", "Vera",
             "Otero", "Luque", "Galán", "Montes", "Ríos", "Sierra", "Segura", "Carrillo", "Marcos", "Marín", "Soria",
             "Mendoza", "Zambrano", "Andrade", "Cevallos", "Villacís", "Quiñónez", "Chávez", "Ortiz", "Paredes",
             "Salazar", "Yánez", "Benavides"]
DOMINIOS = ("gmail.com", "hotmail.com", "yahoo.com", "outlook.com", "empresa.ec", "correo.ec", "negocio.com")
METODOS = ("efectivo", "tarjeta", "transferencia", "cheque")
TITULOS = (
    "Consulta sobre factura", "Error en el cobro", "Cambio de datos personales", "No puedo pagar en línea",
    "Solicitud de reembolso", "Actualizar método de pago", "Reclamo por cargo duplicado",
)
ESTADOS = ("abierto", "en_proceso", "pendiente", "resuelto", "cerrado")
PRIORIDADES = ("baja", "media", "alta", "critica")
LOTE = 20_000


@dataclass
class Lote:
    clientes: list[tuple] = field(default_factory=list)
    pagos: list[tuple] = field(default_factory=list)
    tickets: list[tuple] = field(default_factory=list)


def generar(cantidad: int, semilla: int, primer_id: int, ahora: datetime) -> Iterator[Lote]:
    """Batches of synthetic rows; ids start at ``primer_id``; the same for the same ``semilla``."""
    rnd = random.Random(semilla)
    lote = Lote()
    for cliente_id in range(primer_id, primer_id + cantidad):
        _cliente(rnd, cliente_id, ahora, lote)
        if len(lote.clientes) >= LOTE:
            yield lote
            lote = Lote()
    if lote.clientes:
        yield lote


def _cliente(rnd: random.Random, cliente_id: int, ahora: datetime, lote: Lote) -> None:
    nombre = f"{rnd.choice(NOMBRES)} {rnd.choice(APELLIDOS)} {rnd.choice(APELLIDOS)}"
    partes = normalizar(nombre).split()
    email = f"{partes[0]}.{partes[1]}{cliente_id}@{rnd.choice(DOMINIOS)}"
    telefono = f"+593 9{rnd.randint(0, 9)} {rnd.randint(100, 999)} {rnd.randint(1000, 9999)}"
    registro = ahora - timedelta(days=rnd.randint(1, 1500), seconds=rnd.randint(0, 86_399))
    inicial = rnd.choice((0, 0, rnd.randint(0, 50_000)))
    saldo = inicial
    for n in range(rnd.choice((0, 1, 1, 2, 3))):
        monto = rnd.randint(50_00, 1000_00)
        fecha = registro + timedelta(days=n + 1, seconds=rnd.randint(0, 86_399))
        lote.pagos.append((cliente_id, monto, "Abono a cuenta", rnd.choice(METODOS), _iso(min(fecha, ahora)),
                           "semilla", saldo, saldo + monto))
        saldo += monto
    if rnd.random() < 0.3:
        estado = rnd.choice(ESTADOS)
        creado = min(registro + timedelta(days=rnd.randint(0, 30)), ahora)
        resuelto = (_iso(min(creado + timedelta(days=rnd.randint(0, 5)), ahora))
                    if estado in ("resuelto", "cerrado") else None)
        titulo = rnd.choice(TITULOS)
        lote.tickets.append((cliente_id, titulo, "Generado para pruebas de carga.", estado,
                             rnd.choice(PRIORIDADES), _iso(creado), resuelto,
                             texto_ticket(titulo, "Generado para pruebas de carga.")))
    activo = rnd.random() >= 0.03
    lote.clientes.append((cliente_id, nombre, email, telefono, saldo, inicial, _iso(registro), activo,
                          texto_busqueda(nombre, email)))


def _iso(fecha: datetime) -> str:
    # The storage format of FechaUTC on SQLite: naive UTC.
    return fecha.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


SQL_SQLITE = {
    "clientes": "INSERT INTO clientes (id, nombre, email, telefono, saldo_centavos, saldo_inicial_centavos, "
                "fecha_registro, activo, busqueda) VALUES (?,?,?,?,?,?,?,?,?)",
    "pagos": "INSERT INTO pagos (cliente_id, monto_centavos, descripcion, metodo_pago, fecha, procesado_por, "
             "saldo_anterior_centavos, saldo_posterior_centavos) VALUES (?,?,?,?,?,?,?,?)",
    "tickets": "INSERT INTO tickets (cliente_id, titulo, descripcion, estado, prioridad, fecha_creacion, "
               "fecha_resolucion, busqueda) VALUES (?,?,?,?,?,?,?,?)",
}


def cargar_sinteticos(
    *, db: Database, cantidad: int, semilla: int, ahora: datetime | None = None,
    avance: Callable[[int], None] = lambda n: None,
) -> int:
    """Add ``cantidad`` synthetic customers with payments and tickets, in one transaction.

    Returns the id of the first one.  ``avance`` is called with each batch's size.
    """
    ahora = ahora or datetime.now(UTC)
    with db.escritura() as conn:
        primer_id = (conn.execute(select(func.max(Cliente.__table__.c.id))).scalar() or 0) + 1
        if conn.dialect.name != "sqlite":
            for lote in generar(cantidad, semilla, primer_id, ahora):
                _escribir_core(conn, lote)
                avance(len(lote.clientes))
            _avanzar_secuencia(conn)
            return primer_id
        with _indice_diferido(conn):
            for lote in generar(cantidad, semilla, primer_id, ahora):
                _escribir_sqlite(conn, lote)
                avance(len(lote.clientes))
    return primer_id


def _avanzar_secuencia(conn: Connection) -> None:
    # The synthetic rows carry explicit ids; the next customer created normally must not collide.
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('clientes', 'id'), (SELECT max(id) FROM clientes))"
        )


# SQLite's search indexes over clientes.busqueda (migrations 0001 and 0003), each filled by its "_ai"
# trigger, and what refills each after a bulk load: the word index is also merged into one segment,
# as its migration leaves it (one b-tree per lookup: measurably faster on a million rows).
INDICES_DE_BUSQUEDA = {"clientes_fts": ("rebuild",), "clientes_palabras": ("rebuild", "optimize")}


@contextmanager
def _indice_diferido(conn: Connection) -> Iterator[None]:
    """Fill the search indexes once at the end: a rebuild is 3x faster than a trigger per row."""
    disparadores = {
        indice: conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (f"{indice}_ai",)
        ).scalar_one()
        for indice in INDICES_DE_BUSQUEDA
    }
    for indice in INDICES_DE_BUSQUEDA:
        conn.exec_driver_sql(f"DROP TRIGGER {indice}_ai")
    # A large page cache keeps the bulk load from spilling half-built pages to the WAL.
    conn.exec_driver_sql("PRAGMA cache_size=-1000000")
    yield
    for indice, disparador in disparadores.items():
        for orden in INDICES_DE_BUSQUEDA[indice]:
            conn.exec_driver_sql(f"INSERT INTO {indice}({indice}) VALUES ('{orden}')")
        conn.exec_driver_sql(disparador)
    conn.exec_driver_sql("PRAGMA cache_size=-2000")


def _escribir_sqlite(conn: Connection, lote: Lote) -> None:
    cursor = conn.connection.driver_connection.cursor()
    cursor.executemany(SQL_SQLITE["clientes"], lote.clientes)
    cursor.executemany(SQL_SQLITE["pagos"], lote.pagos)
    cursor.executemany(SQL_SQLITE["tickets"], lote.tickets)
    cursor.close()


def _escribir_core(conn: Connection, lote: Lote) -> None:
    def fecha(texto: str | None) -> datetime | None:
        return None if texto is None else datetime.fromisoformat(texto).replace(tzinfo=UTC)

    from soporte_mcp.money import from_cents

    conn.execute(insert(Cliente.__table__), [
        {"id": c[0], "nombre": c[1], "email": c[2], "telefono": c[3], "saldo": from_cents(c[4]),
         "saldo_inicial": from_cents(c[5]), "fecha_registro": fecha(c[6]), "activo": c[7], "busqueda": c[8]}
        for c in lote.clientes])
    if lote.pagos:
        conn.execute(insert(Pago.__table__), [
            {"cliente_id": p[0], "monto": from_cents(p[1]), "descripcion": p[2], "metodo_pago": p[3],
             "fecha": fecha(p[4]), "procesado_por": p[5], "saldo_anterior": from_cents(p[6]),
             "saldo_posterior": from_cents(p[7])}
            for p in lote.pagos])
    if lote.tickets:
        conn.execute(insert(Ticket.__table__), [
            {"cliente_id": t[0], "titulo": t[1], "descripcion": t[2], "estado": t[3], "prioridad": t[4],
             "fecha_creacion": fecha(t[5]), "fecha_resolucion": fecha(t[6]), "busqueda": t[7]}
            for t in lote.tickets])
