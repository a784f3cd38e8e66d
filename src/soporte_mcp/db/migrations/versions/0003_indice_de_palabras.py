"""Índice de palabras para buscarCliente: FTS5 unicode61 con prefijos en SQLite, una tabla de palabras en PostgreSQL.

Why (issue 13): the trigram index of 0001 finds a word anywhere, but a query of
two surnames intersects the posting lists of all their trigrams (13 for
"benavides quinonez"): 1.5 ms on 100,000 customers, ten times that on a million.
A word index answers "words that start with ..." from one posting list per word.
It sits beside the trigram index, which stays for the substring fallback
(services/clientes.py explains both).

- ``unicode61 remove_diacritics 2``: words are runs of letters and digits, so an
  email is indexed as its parts ("juan.perez@empresa.com": juan, perez, empresa, com);
  case and accents are folded again, although ``clientes.busqueda`` is normalised already.
- ``prefix='1 2 3 4 5'``: FTS5 answers a prefix query from a prefix index of that
  exact length as cheaply as a whole word, reading only as far as the LIMIT; without
  one it first merges, in full, the posting lists of every word that starts so. On
  a million customers that took 15 ms for a one-letter start ("maria g"), 6 ms for
  "mari", 2 ms for "garci"; with these indexes each takes 20-45 µs. Starts of up to
  five letters are the ones typed most and match most words; for a longer one (a
  whole surname, mostly) the service asks for whole words first (services/clientes.py),
  and a start of six letters or more that is no whole word still costs ms ("rodrig"
  2.7 ms). Measured on a million customers: the index is 104 MB (76 with '1 2 3',
  27 with no prefix index; the trigram index is 134 MB).
- External content on ``clientes.busqueda`` (no second copy of the text), kept in
  step by triggers like ``clientes_fts``; existing rows are indexed here with
  'rebuild' and merged into one segment with 'optimize', which makes each lookup
  read one b-tree instead of several: ≈ 10 s for a million customers (2-core VM).

On PostgreSQL the same words go to a plain table, ``clientes_palabras(palabra,
cliente_id)``, kept in step by a trigger: its primary key is a b-tree on the
word, so the customers with a word that starts with "garcia" are one index range
read only as far as the LIMIT (0.4 ms on a million customers), where the pg_trgm
GIN index of 0001 must first build the bitmap of every match (14,000 rows for
"garcia", 8 ms), and a GIN prefix search on a tsvector is no better (11 ms).
``COLLATE "C"``: a prefix is then one contiguous range of the b-tree whatever
the database's collation.  The words are the runs of letters and digits of
``busqueda``, as SQLite's unicode61 tokenizer and services/texto.palabras_indexadas
take them.  The trigram index stays for the substring fallback.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_PALABRAS = [
    "CREATE VIRTUAL TABLE clientes_palabras USING fts5("
    "busqueda, content='clientes', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='1 2 3 4 5')",
    "CREATE TRIGGER clientes_palabras_ai AFTER INSERT ON clientes BEGIN "
    "INSERT INTO clientes_palabras(rowid, busqueda) VALUES (new.id, new.busqueda); END",
    "CREATE TRIGGER clientes_palabras_ad AFTER DELETE ON clientes BEGIN "
    "INSERT INTO clientes_palabras(clientes_palabras, rowid, busqueda) VALUES ('delete', old.id, old.busqueda); END",
    "CREATE TRIGGER clientes_palabras_au AFTER UPDATE OF busqueda ON clientes BEGIN "
    "INSERT INTO clientes_palabras(clientes_palabras, rowid, busqueda) VALUES ('delete', old.id, old.busqueda); "
    "INSERT INTO clientes_palabras(rowid, busqueda) VALUES (new.id, new.busqueda); END",
    "INSERT INTO clientes_palabras(clientes_palabras) VALUES ('rebuild')",
    "INSERT INTO clientes_palabras(clientes_palabras) VALUES ('optimize')",
]


POSTGRESQL_PALABRAS = [
    'CREATE TABLE clientes_palabras (palabra text COLLATE "C" NOT NULL, '
    "cliente_id integer NOT NULL REFERENCES clientes (id) ON DELETE CASCADE, PRIMARY KEY (palabra, cliente_id))",
    "CREATE INDEX ix_clientes_palabras_cliente_id ON clientes_palabras (cliente_id)",
    """CREATE FUNCTION clientes_palabras_al_dia() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.busqueda IS NOT DISTINCT FROM OLD.busqueda THEN
                RETURN NULL;
            END IF;
            DELETE FROM clientes_palabras WHERE cliente_id = OLD.id;
        END IF;
        INSERT INTO clientes_palabras (palabra, cliente_id)
            SELECT DISTINCT palabra, NEW.id
            FROM regexp_split_to_table(NEW.busqueda, '[^[:alnum:]]+') AS palabra
            WHERE palabra <> '';
        RETURN NULL;
    END
    $$""",
    "CREATE TRIGGER clientes_palabras_al_dia AFTER INSERT OR UPDATE OF busqueda ON clientes "
    "FOR EACH ROW EXECUTE FUNCTION clientes_palabras_al_dia()",
    "INSERT INTO clientes_palabras (palabra, cliente_id) "
    "SELECT DISTINCT palabra, id FROM clientes, regexp_split_to_table(busqueda, '[^[:alnum:]]+') AS palabra "
    "WHERE palabra <> ''",
    "ANALYZE clientes_palabras",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for statement in POSTGRESQL_PALABRAS:
            op.execute(statement)
        return
    for statement in SQLITE_PALABRAS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS clientes_palabras_al_dia ON clientes")
        op.execute("DROP FUNCTION IF EXISTS clientes_palabras_al_dia()")
        op.execute("DROP TABLE IF EXISTS clientes_palabras")
        return
    # Dropping the table drops its shadow tables; the triggers go with their table (clientes) only.
    for trigger in ("clientes_palabras_ai", "clientes_palabras_ad", "clientes_palabras_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS clientes_palabras")
