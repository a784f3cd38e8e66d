"""Start soporte-mcp over stdio and call each of its tools once.

    python examples/cliente_stdio.py            # uses the default database
    SOPORTE_DATABASE_URL=sqlite:////tmp/demo.db python examples/cliente_stdio.py

Run `soporte-mcp seed` first so that the demo customers exist.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters


def servidor() -> StdioServerParameters:
    # The SDK hands the child a minimal environment: pass on what the server reads.
    env = {k: v for k, v in os.environ.items() if k.startswith("SOPORTE_") or k in ("HOME", "PATH")}
    comando = Path(sys.executable).with_name("soporte-mcp")
    return StdioServerParameters(command=str(comando), args=["serve"], env=env)


async def main() -> None:
    async with Client(servidor()) as client:
        herramientas = await client.list_tools()
        print("herramientas:", ", ".join(t.name for t in herramientas.tools))
        # An argument given as a function is built from the previous answers (by tool name).
        llamadas = [
            ("buscarCliente", {"query": "maria garcia"}),
            ("consultarSaldo", {"clienteId": 1}),
            ("crearTicket", {"clienteId": 1, "titulo": "Consulta de ejemplo", "descripcion": "Creado por el ejemplo."}),
            ("registrarPago", {"clienteId": 2, "monto": "10.50", "idempotencyKey": str(uuid.uuid4())}),
            ("estadisticas", {}),
            ("listarTickets", {"clienteId": 1, "estado": ["abierto", "en_proceso", "pendiente"]}),
            ("actualizarTicket", lambda r: {"ticketId": r["crearTicket"]["numero"], "estado": "en_proceso",
                                            "asignadoA": "Ana", "comentario": "Revisado por el ejemplo."}),
            ("listarPagos", {"clienteId": 2, "limite": 3}),
            ("anularPago", lambda r: {"pagoId": r["registrarPago"]["pago_id"], "monto": "0.50",
                                      "motivo": "Devolución de ejemplo", "idempotencyKey": str(uuid.uuid4())}),
        ]
        respuestas: dict = {}
        for nombre, argumentos in llamadas:
            argumentos = argumentos(respuestas) if callable(argumentos) else argumentos
            resultado = await client.call_tool(nombre, argumentos)
            respuestas[nombre] = resultado.structured_content
            estado = "ERROR" if resultado.is_error else "ok"
            cuerpo = resultado.structured_content or resultado.content[0].text
            print(f"\n## {nombre} {json.dumps(argumentos, ensure_ascii=False)} -> {estado}")
            print(json.dumps(cuerpo, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    anyio.run(main)
