"""SQLite's writes of one process go to one thread that commits them in groups (db/escritor.py).

Each test holds SQLite's write lock from another connection (as another process
would), queues its writes while the writer thread waits for it, and releases
it: everything queued by then goes into one transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError

from soporte_mcp.db.engine import Database
from soporte_mcp.db.models import Cliente, HistorialAccion, Pago
from soporte_mcp.errors import BaseDeDatosNoDisponible, ClienteNoEncontrado, MontoInvalido, Rechazo
from soporte_mcp.services.auditoria import Llamada
from soporte_mcp.services.pagos import registrar_pago

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]


def ocupar(db: Database) -> sqlite3.Connection:
    """Take SQLite's write lock from a connection the writer thread does not know (as another process would)."""
    conn = sqlite3.connect(db.archivo_sqlite, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def soltar(ajena: sqlite3.Connection) -> None:
    if ajena.in_transaction:
        ajena.execute("COMMIT")
    ajena.close()


@contextmanager
def commits_del_escritor(db: Database) -> Iterator[list[int]]:
    """The COMMITs the writer thread issues, counted."""
    commits: list[int] = []

    def contar(_conn) -> None:
        if threading.current_thread().name == "escritor-sqlite":
            commits.append(1)

    event.listen(db.engine, "commit", contar)
    try:
        yield commits
    finally:
        event.remove(db.engine, "commit", contar)


async def en_un_lote(db: Database, *escrituras: Callable[[], Awaitable[object]]) -> list[object]:
    """Run ``escrituras`` so that the writer thread takes them all in one batch: queued while another
    connection holds the write lock, which is released once every one of them waits."""
    resultados: list[object] = [None] * len(escrituras)

    async def correr(i: int) -> None:
        try:
            resultados[i] = await escrituras[i]()
        except Exception as exc:
            resultados[i] = exc

    ajena = ocupar(db)
    try:
        async with anyio.create_task_group() as tg:
            for i in range(len(escrituras)):
                tg.start_soon(correr, i)
            await anyio.wait_all_tasks_blocked()  # every write is queued; the writer waits at BEGIN IMMEDIATE
            ajena.execute("COMMIT")
    finally:
        soltar(ajena)
    return resultados


def pago(db: Database, cliente_id: int, monto: str = "10.00") -> Callable[[], Awaitable[object]]:
    """A payment through the writer thread, as registrarPago runs it."""
    llamada = Llamada(herramienta="registrarPago", argumentos={"clienteId": cliente_id, "monto": monto})
    return lambda: db.escribir(registrar_pago, db=db, llamada=llamada, cliente_id=cliente_id, monto=monto,
                               metodo_pago="efectivo")


def saldo(db: Database, cliente_id: int) -> Decimal:
    with db.lectura() as conn:
        return conn.execute(select(Cliente.saldo).where(Cliente.id == cliente_id)).scalar_one()


def filas_de_historial(db: Database) -> list:
    with db.lectura() as conn:
        return list(conn.execute(select(HistorialAccion.__table__).order_by(HistorialAccion.id)).all())


def pagos_contados(db: Database) -> int:
    with db.lectura() as conn:
        return conn.execute(select(func.count()).select_from(Pago)).scalar_one()


def ultima_fila(db: Database) -> int:
    return max((f.id for f in filas_de_historial(db)), default=0)


def filas_desde(db: Database, ultima: int) -> list:
    return [f for f in filas_de_historial(db) if f.id > ultima]


async def test_payments_queued_together_commit_together_and_each_has_its_audit_row(db) -> None:
    antes, ultima = (saldo(db, 2), saldo(db, 3), pagos_contados(db)), ultima_fila(db)
    with commits_del_escritor(db) as commits:
        resultados = await en_un_lote(db, pago(db, 2), pago(db, 3), pago(db, 2, "0.01"))
    assert len(commits) == 1
    assert [r.repetido for r in resultados] == [False, False, False]
    assert (saldo(db, 2), saldo(db, 3)) == (antes[0] + Decimal("10.01"), antes[1] + Decimal("10.00"))
    assert pagos_contados(db) == antes[2] + 3
    filas = filas_desde(db, ultima)
    assert [(f.resultado, f.metadatos["pago_id"]) for f in filas] == [("ok", r.pago_id) for r in resultados]


async def test_a_refused_payment_in_a_batch_writes_nothing_stops_no_other_and_its_refusal_row_commits(db) -> None:
    antes, ultima = (saldo(db, 2), saldo(db, 3), pagos_contados(db)), ultima_fila(db)
    with commits_del_escritor(db) as commits:
        resultados = await en_un_lote(db, pago(db, 2), pago(db, 999_999), pago(db, 3, "-5"), pago(db, 3))
    assert len(commits) == 1
    assert isinstance(resultados[1], ClienteNoEncontrado) and isinstance(resultados[2], MontoInvalido)
    assert (saldo(db, 2), saldo(db, 3)) == (antes[0] + 10, antes[1] + 10)
    assert pagos_contados(db) == antes[2] + 2
    filas = filas_desde(db, ultima)
    assert [(f.resultado, f.metadatos.get("codigo")) for f in filas] == [
        ("ok", None), ("rechazado", "cliente_no_encontrado"), ("rechazado", "monto_invalido"), ("ok", None)]


async def test_a_write_refused_after_changing_rows_rolls_back_only_itself(db) -> None:
    """The SAVEPOINT: what a refused write changed before its refusal is undone, the rest of the batch stays."""
    antes = saldo(db, 3)

    def cambia_y_se_niega() -> None:
        with db.escritura() as conn:
            conn.execute(update(Cliente).where(Cliente.id == 3).values(saldo=Cliente.saldo + 1000))
            raise Rechazo("se niega después de escribir")

    resultados = await en_un_lote(db, lambda: db.escribir(cambia_y_se_niega), pago(db, 3))
    assert isinstance(resultados[0], Rechazo) and not isinstance(resultados[1], Exception)
    assert saldo(db, 3) == antes + 10


async def test_a_failed_commit_leaves_none_of_the_batch_and_answers_the_retryable_error(db) -> None:
    antes = (saldo(db, 2), saldo(db, 3), pagos_contados(db), len(filas_de_historial(db)))

    def falla(_conn) -> None:
        if threading.current_thread().name == "escritor-sqlite":
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))

    event.listen(db.engine, "commit", falla)
    try:
        resultados = await en_un_lote(db, pago(db, 2), pago(db, 3), pago(db, 999_999))
    finally:
        event.remove(db.engine, "commit", falla)
    assert all(isinstance(r, BaseDeDatosNoDisponible) and r.reintentable for r in resultados), resultados
    assert (saldo(db, 2), saldo(db, 3), pagos_contados(db), len(filas_de_historial(db))) == antes
    # The writer goes on: the next payment commits.
    assert not isinstance(await pago(db, 2)(), Exception)
    assert saldo(db, 2) == antes[0] + 10


async def test_a_payment_abandoned_after_its_wait_bound_is_never_executed(db, monkeypatch) -> None:
    monkeypatch.setattr(db._escritor, "_espera_s", 0.3)
    antes = (saldo(db, 2), pagos_contados(db), len(filas_de_historial(db)))
    ajena = ocupar(db)
    try:
        with pytest.raises(BaseDeDatosNoDisponible) as error:
            await pago(db, 2)()
        assert error.value.reintentable
    finally:
        soltar(ajena)  # the writer now gets the lock, with the abandoned payment still in its queue
    await db.escribir(lambda: None)  # runs after whatever the writer took from its queue before it
    assert (saldo(db, 2), pagos_contados(db), len(filas_de_historial(db))) == antes


async def test_a_payment_cancelled_before_its_turn_is_never_executed(db) -> None:
    antes = (saldo(db, 2), pagos_contados(db))
    ajena = ocupar(db)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(pago(db, 2))
            await anyio.wait_all_tasks_blocked()
            tg.cancel_scope.cancel()  # the client went away
    finally:
        soltar(ajena)
    await db.escribir(lambda: None)
    assert (saldo(db, 2), pagos_contados(db)) == antes


async def test_a_write_already_started_is_awaited_to_its_end_even_when_its_caller_is_cancelled(db) -> None:
    empezada, seguir = threading.Event(), threading.Event()
    terminada: list[bool] = []

    def lenta() -> None:
        with db.escritura() as conn:
            empezada.set()
            seguir.wait(10)
            conn.execute(update(Cliente).where(Cliente.id == 2).values(saldo=Cliente.saldo + 1))
        terminada.append(True)

    antes = saldo(db, 2)
    with anyio.CancelScope() as alcance:
        async with anyio.create_task_group() as tg:
            tg.start_soon(db.escribir, lenta)
            await anyio.to_thread.run_sync(empezada.wait, 10)
            alcance.cancel()
            seguir.set()
    # The cancelled caller returned only once its write had ended and been committed.
    assert terminada == [True]
    assert saldo(db, 2) == antes + 1
