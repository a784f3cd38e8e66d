"""Build the MCP Apps views: one self-contained HTML document per view, into src/soporte_mcp/vistas/.

Each view here (cliente.html, busqueda.html, panel.html) is a template whose ``{{ comun/x }}``
lines are replaced by the shared pieces in comun/ (the postMessage bridge, the styles, the
customer card), so that the three documents share one bridge without a bundler or Node.
The output is committed: installing the package needs nothing of this.

    python vistas/construir.py              # rewrite the built documents
    python vistas/construir.py --comprobar  # exit 1 if a built document is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FUENTE = Path(__file__).resolve().parent
DESTINO = FUENTE.parent / "src" / "soporte_mcp" / "vistas"
VISTAS = ("cliente.html", "busqueda.html", "panel.html")
INCLUSION = re.compile(r"\{\{\s*([\w./-]+)\s*\}\}")
CABECERA = "<!-- Generado por vistas/construir.py a partir de vistas/{nombre}: no lo edite a mano. -->\n"


def construir(nombre: str) -> str:
    """The document of the view ``nombre`` with every ``{{ piece }}`` inlined."""
    plantilla = (FUENTE / nombre).read_text(encoding="utf-8")

    def pieza(m: re.Match[str]) -> str:
        return (FUENTE / m.group(1)).read_text(encoding="utf-8").rstrip("\n")

    html = INCLUSION.sub(pieza, plantilla)
    # The doctype must stay first; the provenance note goes right after it.
    doctype, _, resto = html.partition("\n")
    return f"{doctype}\n{CABECERA.format(nombre=nombre)}{resto}"


def main(argv: list[str]) -> int:
    comprobar = "--comprobar" in argv
    desfasadas = []
    for nombre in VISTAS:
        html = construir(nombre)
        destino = DESTINO / nombre
        if comprobar:
            if not destino.exists() or destino.read_text(encoding="utf-8") != html:
                desfasadas.append(nombre)
        else:
            destino.write_text(html, encoding="utf-8")
            print(f"{destino.relative_to(FUENTE.parent)}: {len(html.encode()):,} bytes", file=sys.stderr)
    if desfasadas:
        print(
            f"desactualizadas: {', '.join(desfasadas)} (ejecute python vistas/construir.py)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
