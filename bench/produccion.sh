#!/usr/bin/env bash
# The "Running in production" figures: `soporte-mcp serve --workers 2` over HTTP on SQLite and on
# PostgreSQL, 1,000,000 customers each, buscarCliente 'garcia' and registrarPago (to 1,000 active
# customers at random), concurrency 1 and 32, 8 s windows after 1 s of warm-up, connections opened
# 10 ms apart (see bench/RESULTS.md on how uvicorn's workers share connections); db check after.
#
#   bench/produccion.sh [POSTGRES_URL]    (default: a database soporte_bench on the local server)
#
# Needs bench/out/1000000.db (python -m bench.run makes it); seeds the PostgreSQL database (≈2 min) when
# it has no schema yet (give an empty database).
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${1:-postgresql+psycopg://postgres@127.0.0.1:5432/soporte_bench}
PY=.venv/bin/python
CMD=.venv/bin/soporte-mcp
TRABAJO=bench/out/trabajo
mkdir -p "$TRABAJO"
cp bench/out/1000000.db "$TRABAJO/produccion.db"
rm -f "$TRABAJO/produccion.db-wal" "$TRABAJO/produccion.db-shm"
"$PY" -c "import sqlite3, json; c = sqlite3.connect('bench/out/1000000.db'); print(json.dumps([r[0] for r in c.execute('SELECT id FROM clientes WHERE activo ORDER BY id LIMIT 1000')]))" > "$TRABAJO/ids.json"
if ! "$CMD" --database-url "$PG" info 2>/dev/null | grep -q "esquema: 0"; then
    "$CMD" --database-url "$PG" seed --clientes 1000000
fi
for URL in "sqlite:///$PWD/$TRABAJO/produccion.db" "$PG"; do
    PORT=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
    "$CMD" --database-url "$URL" serve --transport http --port "$PORT" --workers 2 >"$TRABAJO/produccion.err" 2>&1 &
    SRV=$!
    for _ in $(seq 1 200); do curl -sf "127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
    for C in 1 32; do
        for LLAMADA in "buscarCliente --argumentos {\"query\":\"garcia\"}" "registrarPago --argumentos {\"monto\":\"1.00\"} --clientes $TRABAJO/ids.json"; do
            # shellcheck disable=SC2086
            R=$("$PY" -m bench.carga --url "http://127.0.0.1:$PORT/mcp" --herramienta $LLAMADA \
                --concurrencia "$C" --segundos 8 --escalonar 10)
            "$PY" -c "import json, statistics, sys; d = json.loads(sys.argv[1]); l = sorted(d['latencias_ms']); print(f\"{sys.argv[2].split('://')[0]:<18} {sys.argv[3].split()[0]:<14} c={sys.argv[4]:<3} {d['llamadas'] / d['segundos']:6.0f} calls/s  median {statistics.median(l):6.2f} ms  p99 {l[int(len(l) * .99) - 1]:7.2f} ms  errors {d['errores']}\")" "$R" "$URL" "$LLAMADA" "$C"
        done
    done
    kill "$SRV"; wait "$SRV" 2>/dev/null || true
    "$CMD" --database-url "$URL" db check
done
