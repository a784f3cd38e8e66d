"""The demo data of the system we replace: six customers, its four tickets and two more, 17 payments,
one of them partly reversed, and 3 audit rows.

Deterministic and reconciled: every balance (the system's own figures:
1250.00, 850.50, ...) is the customer's opening balance plus their payments
minus their reversals, and the dates are relative to the day of seeding, so
that "today" figures are not all zero.  The tickets cover every state, with a
history, and ticket #000003 is open so that it can be worked through the
whole state table (en proceso → resuelto → reabierto).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, select, text

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Anulacion, Base, Cliente, HistorialAccion, HistorialTicket, Pago, Ticket
from soporte_mcp.services.texto import texto_busqueda, texto_ticket

D = Decimal

# nombre, email, telefono, saldo, días desde el registro
CLIENTES = [
    ("María García López", "maria.garcia@email.com", "+593 99 123 4567", D("1250.00"), 90),
    ("Juan Carlos Pérez", "juan.perez@empresa.com", "+593 98 234 5678", D("850.50"), 80),
    ("Ana Sofía Rodríguez", "ana.rodriguez@gmail.com", "+593 97 345 6789", D("0.00"), 70),
    ("Carlos Alberto Mendoza", "carlos.mendoza@yahoo.com", "+593 96 456 7890", D("2100.75"), 60),
    ("Lucía Fernández Silva", "lucia.fernandez@hotmail.com", "+593 95 567 8901", D("450.25"), 50),
    ("Roberto González Vega", "roberto.gonzalez@empresa.ec", "+593 94 678 9012", D("3200.00"), 40),
]

# cliente (1-based), monto, método, días atrás (0 = hoy), descripción
PAGOS = [
    (1, D("500.00"), "transferencia", 20, "Pago de factura de septiembre"),
    (1, D("300.00"), "tarjeta", 10, "Abono a cuenta"),
    (1, D("150.00"), "efectivo", 0, "Pago en ventanilla"),
    (2, D("200.00"), "efectivo", 15, "Abono a cuenta"),
    (2, D("350.50"), "transferencia", 5, "Pago de factura de octubre"),
    (2, D("100.00"), "cheque", 2, "Pago parcial"),
    (4, D("1000.00"), "transferencia", 25, "Pago de contrato anual"),
    (4, D("750.75"), "cheque", 12, "Pago de factura de octubre"),
    (4, D("250.00"), "tarjeta", 3, "Abono a cuenta"),
    (4, D("50.00"), "efectivo", 0, "Pago en ventanilla"),
    (5, D("150.25"), "tarjeta", 8, "Pago de factura de octubre"),
    (5, D("200.00"), "transferencia", 1, "Abono a cuenta"),
    (6, D("1000.00"), "transferencia", 30, "Pago de contrato anual"),
    (6, D("800.00"), "transferencia", 18, "Pago de servicios adicionales"),
    (6, D("600.00"), "cheque", 9, "Pago de factura de octubre"),
    (6, D("400.00"), "tarjeta", 4, "Abono a cuenta"),
    (6, D("250.00"), "efectivo", 0, "Pago en ventanilla"),
]

# Reversals: index in PAGOS of the payment, amount, days ago, reason.
ANULACIONES = [
    (10, D("50.25"), 7, "Cobro duplicado en la tarjeta: se devuelve la diferencia"),
]

# cliente, título, descripción, estado, prioridad, días atrás, resuelto hace (días) o None, asignado
TICKETS = [
    (1, "Problema con factura del mes anterior",
     "La factura de octubre muestra un cargo que la clienta no reconoce.", "abierto", "media", 3, None, None),
    (2, "Error en el cálculo del saldo",
     "El saldo mostrado no coincide con los pagos realizados.", "en_proceso", "alta", 6, None, "soporte"),
    (4, "No puedo realizar pagos en línea",
     "El portal rechaza la tarjeta del cliente al pagar.", "abierto", "alta", 1, None, None),
    (3, "Solicitud de cambio de datos personales",
     "La clienta solicita actualizar su número de teléfono.", "resuelto", "baja", 4, 0, "soporte"),
    (6, "Consulta sobre la renovación del contrato anual",
     "El cliente quiere saber las condiciones de renovación antes de firmar.", "pendiente", "media", 7, None,
     "ventas"),
    (5, "Cobro duplicado en la tarjeta",
     "La clienta ve dos cargos por la factura de octubre.", "cerrado", "alta", 8, 7, "soporte"),
]

# The history behind those states: ticket (1-based), days ago, field, from, to, comment.
HISTORIAL_TICKETS = [
    (2, 5, "estado", "abierto", "en_proceso", "Se revisan los pagos del cliente."),
    (2, 5, "asignado_a", None, "soporte", "Se revisan los pagos del cliente."),
    (4, 3, "estado", "abierto", "en_proceso", None),
    (4, 3, "asignado_a", None, "soporte", None),
    (4, 0, "estado", "en_proceso", "resuelto", "Teléfono actualizado."),
    (5, 6, "estado", "abierto", "pendiente", "Esperando que el cliente confirme el plan."),
    (5, 6, "asignado_a", None, "ventas", "Esperando que el cliente confirme el plan."),
    (6, 8, "asignado_a", None, "soporte", None),
    (6, 7, "estado", "abierto", "resuelto", "Se devolvió el cobro duplicado (anulación parcial del pago)."),
    (6, 6, "estado", "resuelto", "cerrado", "La clienta confirmó la devolución."),
]


@dataclass(frozen=True)
class Reloj:
    """Turns "n days ago" into an instant, anchored to the seeding day in the local zone."""

    ahora: datetime
    zona: ZoneInfo

    def dias_atras(self, dias: int, minutos: int = 0) -> datetime:
        if dias == 0:
            # Today's events a few minutes before now, never before local midnight.
            medianoche = datetime.combine(self.ahora.astimezone(self.zona).date(), time.min, tzinfo=self.zona)
            return max(self.ahora - timedelta(minutes=5 + minutos), medianoche)
        dia = self.ahora.astimezone(self.zona).date() - timedelta(days=dias)
        return datetime.combine(dia, time(10, 0), tzinfo=self.zona) + timedelta(minutes=minutos)


def demo_cargada(conn: Connection) -> bool:
    emails = [c[1] for c in CLIENTES]
    return conn.execute(select(Cliente.__table__.c.id).where(Cliente.__table__.c.email.in_(emails))).first() is not None


def limpiar(conn: Connection) -> None:
    """Delete every row of every table (ids start again at 1)."""
    if conn.dialect.name == "postgresql":
        nombres = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {nombres} RESTART IDENTITY CASCADE"))
        return
    for tabla in reversed(Base.metadata.sorted_tables):
        conn.execute(delete(tabla))


def cargar_demo(*, db: Database, zona: ZoneInfo, ahora: datetime, limpiar_antes: bool = False) -> bool:
    """Load the demo data; False (and nothing written) when it is already there."""
    reloj = Reloj(ahora, zona)
    with db.escritura() as conn:
        if limpiar_antes:
            limpiar(conn)
        elif demo_cargada(conn):
            return False
        ids = _clientes(conn, reloj)
        _pagos(conn, reloj, ids)
        _historial_tickets(conn, reloj, _tickets(conn, reloj, ids))
        _historial(conn, reloj, ids)
    return True


def _clientes(conn: Connection, reloj: Reloj) -> list[int]:
    ids = []
    for i, (nombre, email, telefono, saldo, dias) in enumerate(CLIENTES, start=1):
        ids.append(
            conn.execute(
                insert(Cliente.__table__)
                .values(
                    nombre=nombre, email=email, telefono=telefono, saldo=saldo, saldo_inicial=_saldo_inicial(i),
                    fecha_registro=reloj.dias_atras(dias), activo=True, busqueda=texto_busqueda(nombre, email),
                )
                .returning(Cliente.__table__.c.id)
            ).scalar_one()
        )
    return ids


def _saldo_inicial(cliente: int) -> Decimal:
    """The opening balance that makes the customer's balance the one of the demo: balance - payments + reversals."""
    pagado = sum((p[1] for p in PAGOS if p[0] == cliente), D("0.00"))
    anulado = sum((a[1] for a in ANULACIONES if PAGOS[a[0]][0] == cliente), D("0.00"))
    return CLIENTES[cliente - 1][3] - pagado + anulado


def _pagos(conn: Connection, reloj: Reloj, ids: list[int]) -> None:
    """Payments and reversals in the order they happened, each with the balance before and after it."""
    saldos = {i: _saldo_inicial(i) for i in range(1, len(CLIENTES) + 1)}
    orden = sorted(range(len(PAGOS)), key=lambda k: -PAGOS[k][3])
    eventos = [(PAGOS[k][3], 0, n, k) for n, k in enumerate(orden)]
    eventos += [(a[2], 1, len(orden) + n, n) for n, a in enumerate(ANULACIONES)]
    pago_ids: dict[int, int] = {}
    for dias, es_anulacion, n, k in sorted(eventos, key=lambda e: (-e[0], e[2])):
        if es_anulacion:
            indice, monto, _dias, motivo = ANULACIONES[k]
            cliente = PAGOS[indice][0]
            anterior, saldos[cliente] = saldos[cliente], saldos[cliente] - monto
            conn.execute(insert(Anulacion.__table__).values(
                pago_id=pago_ids[indice], cliente_id=ids[cliente - 1], monto=monto, motivo=motivo,
                fecha=reloj.dias_atras(dias, minutos=n), procesado_por="demo",
                saldo_anterior=anterior, saldo_posterior=saldos[cliente],
            ))
            continue
        cliente, monto, metodo, _dias, descripcion = PAGOS[k]
        anterior, saldos[cliente] = saldos[cliente], saldos[cliente] + monto
        pago_ids[k] = conn.execute(
            insert(Pago.__table__).values(
                cliente_id=ids[cliente - 1], monto=monto, descripcion=descripcion, metodo_pago=metodo,
                fecha=reloj.dias_atras(dias, minutos=n), procesado_por="demo",
                saldo_anterior=anterior, saldo_posterior=saldos[cliente],
            ).returning(Pago.__table__.c.id)
        ).scalar_one()


def _tickets(conn: Connection, reloj: Reloj, ids: list[int]) -> list[int]:
    ticket_ids = []
    for n, (cliente, titulo, descripcion, estado, prioridad, dias, resuelto, asignado) in enumerate(TICKETS, 1):
        # One change (one version) per day of its history.
        cambios = len({h[1] for h in HISTORIAL_TICKETS if h[0] == n})
        ticket_ids.append(conn.execute(
            insert(Ticket.__table__).values(
                cliente_id=ids[cliente - 1], titulo=titulo, descripcion=descripcion, estado=estado,
                prioridad=prioridad, asignado_a=asignado, fecha_creacion=reloj.dias_atras(dias),
                fecha_resolucion=None if resuelto is None else reloj.dias_atras(resuelto),
                version=1 + cambios, busqueda=texto_ticket(titulo, descripcion),
            ).returning(Ticket.__table__.c.id)
        ).scalar_one())
    return ticket_ids


def _historial_tickets(conn: Connection, reloj: Reloj, ticket_ids: list[int]) -> None:
    for ticket, dias, campo, anterior, nuevo, comentario in HISTORIAL_TICKETS:
        conn.execute(insert(HistorialTicket.__table__).values(
            ticket_id=ticket_ids[ticket - 1], fecha=reloj.dias_atras(dias), usuario="demo", campo=campo,
            anterior=anterior, nuevo=nuevo, comentario=comentario,
        ))


def _historial(conn: Connection, reloj: Reloj, ids: list[int]) -> None:
    filas = [
        ("consulta", "consultarSaldo", "Consulta de saldo del cliente 1: 1250.00", ids[0], 2),
        ("creacion", "crearTicket", "Ticket #000001 (media) para el cliente 1", ids[0], 3),
        ("pago", "registrarPago", "Pago de 250.00 (efectivo) al cliente 6", ids[5], 0),
    ]
    for tipo, herramienta, descripcion, cliente_id, dias in filas:
        conn.execute(
            insert(HistorialAccion.__table__).values(
                tipo=tipo, herramienta=herramienta, resultado="ok", descripcion=descripcion,
                cliente_id=cliente_id, usuario="demo", metadatos={"demo": True}, fecha=reloj.dias_atras(dias),
            )
        )
