"""The benchmark suite of soporte-mcp (issue 5): ``python -m bench.run [--quick]``.

Everything runs in one process tree on this machine: the in-process figures in
the ``bench.run`` process itself, the servers (ours and the reference) and the
load generator as its child processes.  See ``bench/RESULTS.md`` for a full run.
"""
