"""What MCP clients see before calling: names, flat arguments, enums, annotations, output schemas."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

HERRAMIENTAS = ["buscarCliente", "consultarSaldo", "crearTicket", "registrarPago", "estadisticas",
                "listarTickets", "actualizarTicket", "listarPagos", "anularPago"]


async def tools(client) -> dict:
    return {t.name: t for t in (await client.list_tools()).tools}


async def test_the_tools_keep_their_names_and_flat_arguments(client) -> None:
    t = await tools(client)
    assert sorted(t) == sorted(HERRAMIENTAS)
    args = {n: sorted(h.input_schema["properties"]) for n, h in t.items()}
    assert args == {
        "buscarCliente": ["incluirInactivos", "limite", "query"],
        "consultarSaldo": ["clienteId"],
        "crearTicket": ["clienteId", "descripcion", "prioridad", "titulo"],
        "registrarPago": ["clienteId", "descripcion", "idempotencyKey", "metodoPago", "monto"],
        "estadisticas": [],
        "listarTickets": ["clienteId", "cursor", "estado", "limite", "prioridad", "texto"],
        "actualizarTicket": ["asignadoA", "comentario", "estado", "prioridad", "ticketId", "version"],
        "listarPagos": ["clienteId", "cursor", "desde", "hasta", "limite"],
        "anularPago": ["idempotencyKey", "monto", "motivo", "pagoId"],
    }
    assert t["actualizarTicket"].input_schema["required"] == ["ticketId"]
    assert t["listarPagos"].input_schema["required"] == ["clienteId"]
    assert "required" not in t["listarTickets"].input_schema
    assert t["anularPago"].input_schema["required"] == ["pagoId", "motivo"]
    assert t["registrarPago"].input_schema["required"] == ["clienteId", "monto"]
    assert t["crearTicket"].input_schema["required"] == ["clienteId", "titulo", "descripcion"]


async def test_allowed_values_are_declared_as_enums(client) -> None:
    t = await tools(client)
    assert t["crearTicket"].input_schema["properties"]["prioridad"]["enum"] == ["baja", "media", "alta", "critica"]
    assert t["registrarPago"].input_schema["properties"]["metodoPago"]["enum"] == [
        "efectivo", "tarjeta", "transferencia", "cheque"]
    monto = t["registrarPago"].input_schema["properties"]["monto"]
    assert {"type": "number"} in monto["anyOf"] and {"type": "string"} in monto["anyOf"]


async def test_annotations_are_honest(client) -> None:
    t = await tools(client)
    for nombre in ("buscarCliente", "consultarSaldo", "estadisticas", "listarTickets", "listarPagos"):
        assert t[nombre].annotations.read_only_hint is True, nombre
    a = t["actualizarTicket"].annotations
    assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, False, False)
    a = t["anularPago"].annotations
    assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, True, False)
    for nombre in ("crearTicket", "registrarPago"):
        a = t[nombre].annotations
        assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint) == (False, False, False), nombre
    assert all(h.annotations.open_world_hint is False for h in t.values())


async def test_every_tool_has_an_output_schema_and_a_description_for_the_model(client) -> None:
    for nombre, h in (await tools(client)).items():
        assert h.output_schema and h.output_schema["type"] == "object", nombre
        assert len(h.description) > 80, nombre
        for arg, prop in h.input_schema["properties"].items():
            assert prop.get("description"), f"{nombre}.{arg}"
    t = await tools(client)
    assert "urgente" in t["crearTicket"].input_schema["properties"]["prioridad"]["description"].lower()
    assert "AUMENTA" in t["registrarPago"].description


async def test_results_come_as_structured_content_and_the_same_json_as_text(client) -> None:
    import json

    r = await client.call_tool("consultarSaldo", {"clienteId": 1})
    assert json.loads(r.content[0].text) == r.structured_content


async def test_both_protocol_generations_in_memory(server) -> None:
    from mcp import Client

    for mode in ("legacy", "auto"):
        async with Client(server, mode=mode) as c:
            r = await c.call_tool("buscarCliente", {"query": "maria"})
            assert r.structured_content["clientes"][0]["id"] == 1, mode


async def test_descriptions_read_as_plain_text_without_code_indentation(client) -> None:
    for nombre, h in (await tools(client)).items():
        assert "\n    " not in h.description, nombre


async def test_the_text_the_model_reads_is_pinned(client) -> None:
    from inline_snapshot import snapshot

    textos = {
        nombre: {"description": h.description, **{a: p["description"] for a, p in h.input_schema["properties"].items()}}
        for nombre, h in sorted((await tools(client)).items())
    }
    assert textos == snapshot({'actualizarTicket': {'description': """\
Cambia el estado, la prioridad o la persona asignada de un ticket, o le añade un comentario; cada cambio queda en su historial.

Úsela para "pasa el ticket #000003 a en proceso y asígnalo a Ana", "marca el ticket 3 como
resuelto: se reinició el router" (comentario) o "reabre el ticket 3" (estado abierto). Indique
al menos un cambio. Un paso no permitido por la tabla de estados se rechaza nombrando los
estados posibles; resuelto fija la fecha de resolución y reabrir la borra. Si no sabe el número
del ticket, búsquelo antes con listarTickets.\
""", 'ticketId': 'El ticket: su número (42) o como lo ve el cliente ("#000042").', 'estado': 'Nuevo estado. Desde abierto: en_proceso, pendiente o resuelto; desde en_proceso: pendiente o resuelto; desde pendiente: en_proceso o resuelto; desde resuelto: cerrado, o abierto para reabrirlo; cerrado es definitivo.', 'prioridad': 'Nueva prioridad: baja, media, alta o critica.', 'asignadoA': 'Persona a la que se asigna (p. ej. "Ana"); "" quita la asignación.', 'comentario': 'Nota para el historial: qué se hizo o por qué (p. ej. "se reinició el router").', 'version': 'La versión del ticket que usted leyó (de listarTickets): si otro lo cambió después, el cambio se rechaza con su estado actual en vez de pisarlo.'}, 'anularPago': {'description': """\
Anula un pago, total o parcialmente: DISMINUYE el saldo del cliente en ese importe y devuelve el saldo anterior, el nuevo y lo que aún puede anularse.

Úsela cuando el usuario pida anular, revertir o devolver un pago ("se registró por error",
"devuélvale 50 dólares del pago 12"). El pago no se borra: la anulación queda registrada
aparte, enlazada a él. Si no conoce el id del pago, use antes listarPagos con el cliente.
Confirme con el usuario el pago y el importe antes de llamarla; sin idempotencyKey cada
llamada anula otra vez. Rechaza montos mayores que lo que queda por anular. Si el cliente MCP
lo admite, el servidor pide al usuario que confirme la anulación en un formulario; si no la
confirma, el error es anulacion_no_confirmada y no se anula nada: no insista.\
""", 'pagoId': 'Id numérico del pago (p. ej. 17). Si no lo conoce, búsquelo con listarPagos.', 'motivo': 'Por qué se anula, en una frase (obligatorio): "se registró por error", "devolución al cliente".', 'monto': 'Importe a anular en dólares, para una anulación parcial ("50", 50.25). Si lo omite, se anula todo lo que queda por anular del pago.', 'idempotencyKey': 'Clave única de esta anulación (p. ej. un UUID). Si reintenta tras un error de red, repita la misma clave: no se anula dos veces.'}, 'buscarCliente': {'description': """\
Busca clientes por nombre o email y devuelve sus datos básicos con el id y el saldo.

Cada palabra de la búsqueda encuentra las palabras del nombre o del email que empiezan por ella
("garc" encuentra a García); solo si ningún cliente coincide así, busca el texto dentro de ellas.
Úsela primero cuando el usuario nombra a un cliente sin dar su id ("Busca a María García",
"el cliente juan.perez@empresa.com"). Un email exacto aparece primero; el resto, por nombre.
Si hay varios candidatos, pregunte al usuario cuál es antes de actuar sobre uno.
Sin resultados devuelve una lista vacía y una sugerencia.\
""", 'query': 'Nombre, apellidos o email del cliente, completos o en parte ("maria garcia", "garc", "roman50006", "juan.perez@empresa.com"). Cada palabra encuentra las palabras del nombre o del email que empiezan por ella, aunque sea de una o dos letras; las palabras pueden ir en cualquier orden y no distingue mayúsculas ni tildes. Con una @ (un email o parte de él, "perez@empresa") busca ese texto tal cual. Si ningún cliente coincide así, busca el texto dentro de las palabras ("arcia" encuentra a García).', 'limite': 'Máximo de clientes a devolver (1 a 50).', 'incluirInactivos': 'Incluir clientes dados de baja (por defecto solo activos).'}, 'consultarSaldo': {'description': """\
Devuelve el saldo de un cliente por su id, con sus datos, sus 5 últimos pagos, sus 5 últimos movimientos (pagos y anulaciones) y un resumen.

El resumen cuenta sus tickets (total y abiertos), sus pagos, la fecha del último pago y sus
anulaciones (cantidad y total anulado).
Úsela para "¿cuál es el saldo de…?", "muéstrame el balance del cliente 2". Los importes
son dólares con dos decimales, como texto ("1250.00").\
""", 'clienteId': 'Id numérico del cliente (p. ej. 2). Si solo conoce el nombre o el email, use antes buscarCliente.'}, 'crearTicket': {'description': """\
Abre un ticket de soporte (estado "abierto") para un cliente activo y devuelve su número (#000042).

Úsela cuando el usuario pida registrar un problema o reclamo de un cliente. Si solo tiene el
nombre, busque antes el id con buscarCliente. Escriba título y descripción en español.\
""", 'clienteId': 'Id numérico del cliente (p. ej. 2). Si solo conoce el nombre o el email, use antes buscarCliente.', 'titulo': 'Resumen breve del problema (máx. 200 caracteres).', 'descripcion': 'Qué le pasa al cliente, con los detalles que dio.', 'prioridad': 'baja, media (por defecto), alta o critica. "Urgente" o "lo antes posible" → alta; servicio caído o dinero en riesgo → critica; consultas sin prisa → baja.'}, 'estadisticas': {'description': """\
Cifras del sistema: clientes (total, con saldo positivo, registrados hoy), tickets por estado (y resueltos y cerrados hoy), pagos de hoy y anulaciones de hoy (cantidad y total).

Úsela para "¿cuántos clientes hay?", "¿cuántos tickets están abiertos?" o un resumen general.
"Hoy" es el día en curso en la zona horaria del servidor (campo zona_horaria).\
"""}, 'listarPagos': {'description': """\
Lista los pagos de un cliente, el más reciente primero, cada uno con sus anulaciones y lo que aún puede anularse.

Úsela para "muéstrame los pagos de Juan Pérez de este mes" (busque antes el id con
buscarCliente) y para encontrar el id de un pago antes de anularlo con anularPago.
Si «siguiente» no es null hay más: vuelva a llamarla con cursor=siguiente. Solo consulta.\
""", 'clienteId': 'Id numérico del cliente (p. ej. 2). Si solo conoce el nombre o el email, use antes buscarCliente.', 'desde': 'Primer día incluido, AAAA-MM-DD, en la zona horaria del servidor (campo zona_horaria). "Este mes" → el día 1 del mes en curso.', 'hasta': 'Último día incluido, AAAA-MM-DD.', 'limite': 'Máximo de pagos por página (1 a 50).', 'cursor': 'El valor «siguiente» de la respuesta anterior, para ver la página siguiente.'}, 'listarTickets': {'description': """\
Lista tickets, el más reciente primero: número (#000042), cliente, título, estado, prioridad, asignado, fechas y versión.

Úsela para "¿qué tickets abiertos tiene María García?" (busque antes el id con buscarCliente),
para encontrar el número de un ticket antes de actualizarlo, o para revisar la cola por estado
o prioridad. Si «siguiente» no es null hay más: vuelva a llamarla con cursor=siguiente.
Solo consulta; no cambia nada.\
""", 'clienteId': 'Id del cliente cuyos tickets quiere ver (búsquelo con buscarCliente). Sin él, tickets de todos los clientes.', 'estado': 'Un estado o una lista: abierto, en_proceso, pendiente, resuelto, cerrado. "Tickets abiertos" o "sin resolver" → ["abierto", "en_proceso", "pendiente"].', 'prioridad': 'baja, media, alta o critica.', 'texto': 'Palabras del título o la descripción ("factura", "internet"); no distingue mayúsculas ni tildes.', 'limite': 'Máximo de tickets por página (1 a 50).', 'cursor': 'El valor «siguiente» de la respuesta anterior, para ver la página siguiente.'}, 'registrarPago': {'description': """\
Registra un pago de un cliente activo: AUMENTA su saldo en el monto y devuelve el saldo anterior, el nuevo y el incremento.

Úsela cuando el usuario diga que un cliente pagó o pida registrar un pago. Confirme el
cliente (con buscarCliente si solo hay nombre) y el monto antes de llamarla; no la repita
para "comprobar": cada llamada sin idempotencyKey registra otro pago. Si el cliente MCP lo
admite, el servidor pide al usuario que confirme el pago en un formulario; si el usuario no
lo confirma, el error es pago_no_confirmado y no se registra nada: no insista.\
""", 'clienteId': 'Id numérico del cliente (p. ej. 2). Si solo conoce el nombre o el email, use antes buscarCliente.', 'monto': 'Importe en dólares, mayor que 0 y hasta 999999.99, con dos decimales como máximo: 500, 150.5, "1250.75" o "$1250.75" (sin separador de miles ni exponente).', 'descripcion': 'Concepto del pago, opcional.', 'metodoPago': 'efectivo, tarjeta, transferencia (por defecto) o cheque. "Transferencia bancaria" → transferencia; "con tarjeta de crédito" → tarjeta.', 'idempotencyKey': 'Clave única de este pago (p. ej. un UUID). Si reintenta tras un error de red, repita la misma clave: el pago no se duplica.'}})


async def test_money_is_published_as_a_two_decimal_string(client) -> None:
    salida = (await tools(client))["registrarPago"].output_schema
    for campo in ("monto", "saldo_anterior", "saldo_nuevo", "incremento"):
        assert salida["properties"][campo]["type"] == "string", campo
        assert salida["properties"][campo]["pattern"] == r"^-?\d+\.\d{2}$"
