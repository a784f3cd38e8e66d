"""The peer of issue 13: the original's stack (Django 5 + DRF under gunicorn) on our tables.

Built as the replaced system would serve the same two questions: an ``APIView``
with a ``ModelSerializer``, ``icontains`` on name and email, ``[:10]``;
gunicorn ``-w 2`` sync workers, persistent database connections
(``CONN_MAX_AGE``), no audit trail.  Its models map onto our schema
(``managed = False``: Django never creates or migrates anything), so both
servers read the same SQLite file or PostgreSQL database in the same run.

Bench-only: its dependencies (``bench/par/requirements.txt``) live in their own
virtualenv, ``bench/out/venv-par``, which ``bench.par.servidor`` creates.

    PAR_DATABASE_URL=sqlite:////abs/path.db gunicorn -w 2 bench.par.wsgi:application
"""
