"""Run an app under uvicorn the way ``soporte-mcp serve --transport http`` runs ours.

    python -m bench.servir referencia --port P [--workers N] [--http nodelay|h11]
    python -m bench.servir soporte    --port P --workers 2 --http h11   (the TCP_NODELAY control)
    python -m bench.servir referencia --port P --workers 2 --repartir  (issue 13: workers as ours spawns them)

The main HTTP rows run ours through the real command (``soporte-mcp serve``); this
launcher runs the reference server with the same uvicorn options but uvicorn's own
writes (``NoDelayH11Protocol``: uvicorn's h11 with TCP_NODELAY, not ``serve``'s
``SoporteH11Protocol``, which also sends each answer in one write), and runs ours
(or the reference) with uvicorn's default ``http="h11"`` protocol, to measure what
TCP_NODELAY changes with several workers.
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from soporte_mcp.http import ENV_HOST, NoDelayH11Protocol

HOST = "127.0.0.1"
APPS = {
    "referencia": "bench.referencia:app_http",
    # What each worker of `serve --workers N` builds (from SOPORTE_* variables).
    "soporte": "soporte_mcp.http:app_desde_entorno",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--http", choices=["nodelay", "h11"], default="nodelay")
    parser.add_argument(
        "--repartir", action="store_true",
        help="spawn the workers as `soporte-mcp serve` does (connections handed out in turn)",
    )
    args = parser.parse_args()
    os.environ[ENV_HOST] = HOST
    if args.repartir:
        from soporte_mcp.trabajadores import servir_trabajadores

        opciones = {"host": HOST, "port": args.port, "log_level": "warning", "http": NoDelayH11Protocol,
                    "timeout_graceful_shutdown": 10}
        servir_trabajadores(APPS[args.app], args.workers, opciones)
        return
    # The same options as soporte_mcp.cli._serve_http; only the protocol class may differ.
    uvicorn.run(
        APPS[args.app],
        factory=True,
        host=HOST,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        http=NoDelayH11Protocol if args.http == "nodelay" else "h11",
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
