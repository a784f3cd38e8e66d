"""The benchmark's databases: seeded once with ``soporte-mcp seed``, measured on fresh copies.

``bench/out/<N>.db`` is seeded once (``--clientes N``, default ``--semilla 1``) and
then only read: every run works on a copy in ``bench/out/trabajo/``, so that the
payments, tickets and audit rows a run writes do not change what the next run
measures.  ``bench/out/`` is gitignored.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from soporte_mcp.services.texto import normalizar

OUT = Path(__file__).resolve().with_name("out")
TRABAJO = OUT / "trabajo"
DEMO = 6  # the demo customers come first: ids 1-6; synthetic ones follow


def comando() -> str:
    """The ``soporte-mcp`` console script of this interpreter's environment."""
    return str(Path(sys.executable).with_name("soporte-mcp"))


def url(ruta: Path) -> str:
    return f"sqlite:///{ruta}"


def sembrada(clientes: int) -> Path:
    """``bench/out/<clientes>.db``, seeding it first if it is not there (about 75 s per million).

    Seeds into a temporary file renamed at the end, so an interrupted seed leaves nothing
    that looks usable.

    Raises:
        SystemExit: an existing file does not hold the synthetic customers it should.
    """
    OUT.mkdir(exist_ok=True)
    ruta = OUT / f"{clientes}.db"
    if not ruta.exists():
        tmp = OUT / f"{clientes}.db.tmp"
        for f in (tmp, *_acompanantes(tmp)):
            f.unlink(missing_ok=True)
        print(
            f"sembrando {ruta} con `soporte-mcp seed --clientes {clientes}` ...", file=sys.stderr, flush=True
        )
        subprocess.run(
            [comando(), "--database-url", url(tmp), "seed", "--clientes", str(clientes)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for viejo, nuevo in zip((tmp, *_acompanantes(tmp)), (ruta, *_acompanantes(ruta)), strict=True):
            if viejo.exists():
                viejo.rename(nuevo)
    else:  # seeded by an earlier version: migrate it once here, not on every working copy's first start
        migrar(url(ruta))
    with sqlite3.connect(f"file:{ruta}?mode=ro", uri=True) as conn:
        maximo = conn.execute("SELECT max(id) FROM clientes").fetchone()[0] or 0
    if maximo < DEMO + clientes:
        raise SystemExit(f"{ruta} tiene {maximo} clientes, no {clientes}: bórrelo para volver a sembrarlo.")
    return ruta


def migrar(url_db: str, env: dict[str, str] | None = None) -> None:
    """Bring the database at ``url_db`` to the current schema (``soporte-mcp db upgrade``; a no-op when it is)."""
    subprocess.run([comando(), "--database-url", url_db, "db", "upgrade"], check=True, stdout=subprocess.DEVNULL,
                   env=env)


def copia_de_trabajo(origen: Path) -> Path:
    """A fresh copy of a seeded database (with its WAL, if the last writer left one)."""
    TRABAJO.mkdir(parents=True, exist_ok=True)
    destino = TRABAJO / origen.name
    for f in (destino, *_acompanantes(destino)):
        f.unlink(missing_ok=True)
    shutil.copyfile(origen, destino)
    wal = origen.with_name(origen.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, destino.with_name(destino.name + "-wal"))
    return destino


def _acompanantes(ruta: Path) -> tuple[Path, Path]:
    return ruta.with_name(ruta.name + "-wal"), ruta.with_name(ruta.name + "-shm")


@dataclass(frozen=True)
class Datos:
    """What the calls of a run ask for on one database."""

    clientes: int
    busquedas: dict[str, str]  # kind -> query
    coincidencias: dict[str, int]  # query -> active customers it matches (counted with FTS5 directly)
    cliente_saldo: int  # consultarSaldo's customer (the demo customer with the most payments)
    activos: tuple[int, ...]  # active customers the payments and tickets go to


COMUN = "garcia"
# The generator draws surnames uniformly from 150, so no single surname is rare: the rare
# case is a pair of surnames (≈ 120 of a million customers), with an accent to normalise.
RARO = "benavides quiñónez"
NADIE = "zzzqqxx"
EMAIL_EXACTO = "maria.garcia@email.com"


def datos(ruta: Path, clientes: int, semilla: int = 5) -> Datos:
    """Queries and customers for ``ruta``, chosen from its rows, the same for the same file."""
    with sqlite3.connect(f"file:{ruta}?mode=ro", uri=True) as conn:
        # An email fragment that names one customer: "<surname><id>" from the middle of the table.
        email = conn.execute("SELECT email FROM clientes WHERE id = ?", (DEMO + clientes // 2,)).fetchone()[0]
        rnd = random.Random(semilla)
        candidatos = rnd.sample(range(DEMO + 1, DEMO + clientes + 1), min(clientes, 5000))
        marcas = ",".join("?" * len(candidatos))
        activos = tuple(
            r[0]
            for r in conn.execute(f"SELECT id FROM clientes WHERE activo AND id IN ({marcas})", candidatos)
        )
        fragmento = email.split("@")[0].split(".", 1)[1]
        busquedas = {
            "common surname": COMUN,
            "rare surname pair": RARO,
            "email fragment": fragmento,
            "matches nobody": NADIE,
            "exact email": EMAIL_EXACTO,
        }
        coincidencias = {q: _contar(conn, q) for q in busquedas.values()}
    return Datos(
        clientes=clientes,
        busquedas=busquedas,
        coincidencias=coincidencias,
        cliente_saldo=1,
        activos=tuple(rnd.sample(activos, len(activos))),
    )


def _contar(conn: sqlite3.Connection, query: str) -> int:
    expresion = " AND ".join(f'"{p}"' for p in normalizar(query).split())
    return conn.execute(
        "SELECT count(*) FROM clientes_fts JOIN clientes ON clientes.id = clientes_fts.rowid "
        "WHERE clientes_fts MATCH ? AND clientes.activo",
        (expresion,),
    ).fetchone()[0]
