"""buscarCliente and consultarSaldo.

The tool modules import no service at start-up: their schemas take the limits from
soporte_mcp.dominio, and each service module is imported by the first call that
needs it (soporte_mcp.perezoso), so that a stdio server answers ``tools/list``
without SQLAlchemy (issue 13).
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from soporte_mcp.dominio import BUSQUEDA_LARGO_MAXIMO, BUSQUEDA_LIMITE_MAXIMO, BUSQUEDA_LIMITE_POR_DEFECTO, Tipo
from soporte_mcp.perezoso import perezoso
from soporte_mcp.services.schemas import ResultadoBusqueda, SaldoCliente
from soporte_mcp.tools._comun import LECTURA, EnJson, ejecutar, publicar

servicio = perezoso("soporte_mcp.services.clientes")

ClienteId = Annotated[
    int,
    Field(
        description="Id numérico del cliente (p. ej. 2). Si solo conoce el nombre o el email, "
        "use antes buscarCliente.",
        json_schema_extra={"minimum": 1},
    ),
]


async def buscar_cliente(
    query: Annotated[
        str,
        Field(
            description="Nombre, apellidos o email del cliente, completos o en parte "
            "(\"maria garcia\", \"garc\", \"roman50006\", \"juan.perez@empresa.com\"). Cada palabra "
            "encuentra las palabras del nombre o del email que empiezan por ella, aunque sea de una o dos "
            "letras; las palabras pueden ir en cualquier orden y no distingue mayúsculas ni tildes. Con una @ "
            "(un email o parte de él, \"perez@empresa\") busca ese texto tal cual. Si ningún cliente "
            "coincide así, busca el texto dentro de las palabras (\"arcia\" encuentra a García).",
            max_length=BUSQUEDA_LARGO_MAXIMO,
        ),
    ],
    ctx: Context,
    limite: Annotated[
        int,
        Field(
            description="Máximo de clientes a devolver (1 a 50).",
            json_schema_extra={"minimum": 1, "maximum": BUSQUEDA_LIMITE_MAXIMO},
        ),
    ] = BUSQUEDA_LIMITE_POR_DEFECTO,
    incluirInactivos: Annotated[
        bool, Field(description="Incluir clientes dados de baja (por defecto solo activos).")
    ] = False,
) -> ResultadoBusqueda:
    """Busca clientes por nombre o email y devuelve sus datos básicos con el id y el saldo.

    Cada palabra de la búsqueda encuentra las palabras del nombre o del email que empiezan por ella
    ("garc" encuentra a García); solo si ningún cliente coincide así, busca el texto dentro de ellas.
    Úsela primero cuando el usuario nombra a un cliente sin dar su id ("Busca a María García",
    "el cliente juan.perez@empresa.com"). Un email exacto aparece primero; el resto, por nombre.
    Si hay varios candidatos, pregunte al usuario cuál es antes de actuar sobre uno.
    Sin resultados devuelve una lista vacía y una sugerencia.
    """
    # The result in its JSON form, sent as it is (EnJson): what ResultadoBusqueda would dump.
    return EnJson(await ejecutar(  # type: ignore[return-value]
        ctx, servicio.buscar_clientes_json, query=query, limite=limite, incluir_inactivos=incluirInactivos
    ))


async def consultar_saldo(clienteId: ClienteId, ctx: Context) -> SaldoCliente:
    (  # the description the model reads, split only to fit the line (one string, unchanged)
        "Devuelve el saldo de un cliente por su id, con sus datos, sus 5 últimos pagos, sus 5 últimos movimientos "
        """(pagos y anulaciones) y un resumen.

    El resumen cuenta sus tickets (total y abiertos), sus pagos, la fecha del último pago y sus
    anulaciones (cantidad y total anulado).
    Úsela para "¿cuál es el saldo de…?", "muéstrame el balance del cliente 2". Los importes
    son dólares con dos decimales, como texto ("1250.00").
    """
    )
    # As buscarCliente's: SaldoCliente in its JSON form.
    return EnJson(await ejecutar(ctx, servicio.consultar_saldo_json, cliente_id=clienteId))  # type: ignore[return-value]


def registrar(server: MCPServer) -> None:
    publicar(server, buscar_cliente, "buscarCliente", "Buscar cliente", LECTURA, Tipo.CONSULTA)
    publicar(server, consultar_saldo, "consultarSaldo", "Consultar saldo", LECTURA, Tipo.CONSULTA)
