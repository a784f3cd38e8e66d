"""The Spanish requests users typed into the system we replace, as the tool calls a model makes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from soporte_mcp.db.models import Cliente, Pago, Ticket
from tests.conftest import call, ok

pytestmark = pytest.mark.anyio


async def buscar_id(client, query: str) -> int:
    r = ok(await call(client, "buscarCliente", {"query": query}))
    assert r["total"] >= 1, query
    return r["clientes"][0]["id"]


@pytest.mark.parametrize(
    ("peticion", "query", "nombre"),
    [
        ("Busca a María García", "María García", "María García López"),
        ("¿Puedes encontrar al cliente juan.perez@empresa.com?", "juan.perez@empresa.com", "Juan Carlos Pérez"),
        ("Encuentra información de Ana Rodríguez", "Ana Rodríguez", "Ana Sofía Rodríguez"),
    ],
)
async def test_search_requests(client, peticion, query, nombre) -> None:
    r = ok(await call(client, "buscarCliente", {"query": query}))
    assert r["clientes"][0]["nombre"] == nombre, peticion


@pytest.mark.parametrize(
    ("peticion", "query", "cliente_id", "saldo"),
    [
        ("¿Cuál es el saldo de María García López?", "María García López", None, "1250.00"),
        ("Consulta el saldo del cliente ID 1", None, 1, "1250.00"),
        ("Muéstrame el balance del cliente 2", None, 2, "850.50"),
        ("Busca a María García y dime su saldo", "María García", None, "1250.00"),
    ],
)
async def test_balance_requests(client, peticion, query, cliente_id, saldo) -> None:
    cliente_id = cliente_id or await buscar_id(client, query)
    assert ok(await call(client, "consultarSaldo", {"clienteId": cliente_id}))["saldo"] == saldo, peticion


@pytest.mark.parametrize(
    ("peticion", "query", "args"),
    [
        ("Crea un ticket para el cliente ID 1 sobre problema de facturación", None,
         {"clienteId": 1, "titulo": "Problema de facturación",
          "descripcion": "El cliente reporta un problema de facturación."}),
        ("El cliente 2 tiene problemas con su cuenta, crea un ticket urgente", None,
         {"clienteId": 2, "titulo": "Problemas con su cuenta",
          "descripcion": "El cliente tiene problemas con su cuenta.", "prioridad": "alta"}),
        ("Crear ticket para María García: no puede acceder a su cuenta", "María García",
         {"titulo": "No puede acceder a su cuenta", "descripcion": "La clienta no puede acceder a su cuenta."}),
    ],
)
async def test_ticket_requests(client, db, peticion, query, args) -> None:
    if query:
        args = {**args, "clienteId": await buscar_id(client, query)}
    r = ok(await call(client, "crearTicket", args))
    with db.lectura() as conn:
        fila = conn.execute(select(Ticket).where(Ticket.id == r["id"])).one()
    assert (fila.cliente_id, fila.estado, fila.prioridad) == (
        args["clienteId"], "abierto", args.get("prioridad", "media")), peticion


@pytest.mark.parametrize(
    ("peticion", "query", "args", "saldo_nuevo"),
    [
        ("Registra un pago de $500 para el cliente 2", None, {"clienteId": 2, "monto": 500}, "1350.50"),
        ("El cliente ID 1 pagó $300 por transferencia bancaria", None,
         {"clienteId": 1, "monto": 300, "metodoPago": "transferencia"}, "1550.00"),
        ("María García hizo un pago de $150 en efectivo", "María García",
         {"monto": 150, "metodoPago": "efectivo"}, "1400.00"),
    ],
)
async def test_payment_requests(client, db, peticion, query, args, saldo_nuevo) -> None:
    if query:
        args = {**args, "clienteId": await buscar_id(client, query)}
    r = ok(await call(client, "registrarPago", args))
    assert r["saldo_nuevo"] == saldo_nuevo, peticion
    with db.lectura() as conn:
        assert (conn.execute(select(Cliente.saldo).where(Cliente.id == args["clienteId"])).scalar_one()
                == Decimal(saldo_nuevo))
        pago = conn.execute(select(Pago).where(Pago.id == r["pago_id"])).one()
    assert pago.metodo_pago == args.get("metodoPago", "transferencia")


@pytest.mark.parametrize(
    ("peticion", "clave", "valor"),
    [
        ("Muéstrame las estadísticas del sistema", ("clientes", "total"), 6),
        ("¿Cuántos clientes hay en total?", ("clientes", "total"), 6),
        ("¿Cuántos tickets están abiertos?", ("tickets", "abiertos"), 2),
    ],
)
async def test_statistics_requests(client, peticion, clave, valor) -> None:
    r = ok(await call(client, "estadisticas"))
    assert r[clave[0]][clave[1]] == valor, peticion
