"""Writes of the hot path batched on the event loop: group commit for the embedded store (decision 0009).

SQLite has one writer at a time. Run from a pool of threads, every write pays for its own `BEGIN IMMEDIATE`
and `COMMIT`, and the thread that holds the write lock competes for the GIL with the event loop and the other
threads, so the serial section stretches to several times its own cost. Here the writes of one worker process
queue on its event loop instead; one callback takes the write lock without waiting (the store's writer queue,
then `BEGIN IMMEDIATE`), runs every queued step in its own savepoint, commits once and hands each caller its
result. A step that fails is undone alone; the others go on. When the lock is taken (by the other worker
processes, or a thread of this one), the callback tries again a moment later and the loop serves requests
meanwhile. Each step sees the steps before it in the batch, exactly as if they had committed one by one, so
the credit check stays serial. Nothing is answered before the COMMIT that makes it durable.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from crm_domain.errors import UpstreamUnavailable
from crm_domain.services.context import Write

if TYPE_CHECKING:
    from adapters.sqlite.store import SqliteStore

T = TypeVar("T")

#: How long to wait before trying the write lock again, and the most steps one transaction takes.
RETRY_DELAY = 0.0003
MAX_BATCH = 256


class _Queued:
    __slots__ = ("future", "write")

    def __init__(self, write: Write[Any], future: asyncio.Future[Any]) -> None:
        self.write = write
        self.future = future


class LoopWriter:
    """Runs use cases with their reads inline (a local WAL snapshot, never waiting for writers) and their
    write batched, as above. One per worker process; it follows the running event loop."""

    def __init__(self, store: SqliteStore, on_commit: Callable[[float], None] | None = None) -> None:
        self._store = store
        self._on_commit = on_commit  # told the seconds each batch's COMMIT took (the store's commit metric)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: list[_Queued] = []
        self._scheduled = False
        self._waiting_since: float | None = None
        self._conn: sqlite3.Connection | None = None

    async def perform(self, plan: Callable[[], T | Write[T]]) -> T:
        planned = plan()
        if not isinstance(planned, Write):
            return planned
        return await self.run(planned)

    async def run(self, write: Write[T]) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first use, or a new loop (tests): nothing queued belongs to it
            self._loop, self._queue, self._scheduled, self._waiting_since = loop, [], False, None
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append(_Queued(write, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._drain)
        return await future

    # --- the batch -------------------------------------------------------------------------------------------

    def _drain(self) -> None:
        assert self._loop is not None
        queued = self._store._writer.try_acquire()
        conn: sqlite3.Connection | None = None
        if queued:
            try:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:  # busy: try again later; anything else fails what is queued
                self._store._writer.release(True)
                if not _busy(exc):
                    self._fail_all(exc)
                    return
                conn = None
        if conn is None:
            self._wait_for_lock()
            return
        self._waiting_since = None
        batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            done = self._run_batch(conn, batch)
            self._commit(conn, done)
        finally:
            self._store._writer.release(True)
            if self._queue:
                self._loop.call_soon(self._drain)
            else:
                self._scheduled = False

    def _wait_for_lock(self) -> None:
        assert self._loop is not None
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        elif now - self._waiting_since > self._store.busy_timeout:
            self._waiting_since = None
            self._scheduled = False
            self._fail_all(None)
            return
        self._loop.call_later(RETRY_DELAY, self._drain)

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Queued]) -> list[tuple[_Queued, Any]]:
        done: list[tuple[_Queued, Any]] = []
        for index, item in enumerate(batch):
            try:
                self._run_step(conn, item, done)
            except sqlite3.Error as exc:
                # SQLite ended the transaction under a step (it does on some errors), or the savepoint itself
                # failed: what the steps before wrote is gone, and going on would start another transaction.
                for earlier, _ in done:
                    _settle(earlier.future, exc=_unavailable(exc))
                for later in batch[index:]:
                    _settle(later.future, exc=_unavailable(exc))
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                return []
        return done

    def _run_step(self, conn: sqlite3.Connection, item: _Queued, done: list[tuple[_Queued, Any]]) -> None:
        from adapters.sqlite.store import SqliteUnitOfWork

        if item.future.cancelled():  # the caller went away before its turn: nothing to do
            return
        for attempt in range(1, item.write.attempts + 1):
            _ensure_open(conn)
            conn.execute("SAVEPOINT step")
            try:
                uow = SqliteUnitOfWork.joining(self._store, conn)
                result = item.write.step(uow)
                uow.write_events()  # in the step's savepoint: a step that fails writes none
            except Exception as exc:  # noqa: BLE001 - whatever a step raises goes to its caller
                _ensure_open(conn)
                conn.execute("ROLLBACK TO step")
                conn.execute("RELEASE step")
                if attempt < item.write.attempts and item.write.retryable(exc):
                    continue
                _settle(item.future, exc=exc)
                return
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            _ensure_open(conn)
            conn.execute("RELEASE step")
            done.append((item, result))
            return

    def _commit(self, conn: sqlite3.Connection, done: list[tuple[_Queued, Any]]) -> None:
        try:
            if conn.in_transaction:
                started = time.perf_counter()
                conn.execute("COMMIT")
                if self._on_commit is not None:
                    self._on_commit(time.perf_counter() - started)
            elif done:
                raise sqlite3.OperationalError("the transaction ended before its commit")
        except sqlite3.Error as exc:
            self._discard(conn)
            for item, _ in done:
                _settle(item.future, exc=_unavailable(exc))
            return
        for item, result in done:
            _settle(item.future, result=result)

    def _fail_all(self, cause: BaseException | None) -> None:
        queue, self._queue = self._queue, []
        self._scheduled = False
        for item in queue:
            error = _unavailable(cause) if cause is not None else UpstreamUnavailable("the database is busy; try again")
            _settle(item.future, exc=error)

    # --- its connection --------------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = self._store.connect()
            conn.execute("PRAGMA busy_timeout = 0")  # never wait on the loop: `_drain` tries again later
            self._conn = conn
        return self._conn

    def _discard(self, conn: sqlite3.Connection) -> None:
        self._conn = None
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        self._store.discard(conn)


def _ensure_open(conn: sqlite3.Connection) -> None:
    if not conn.in_transaction:
        raise sqlite3.OperationalError("the transaction ended inside a step")


def _busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _unavailable(cause: BaseException) -> UpstreamUnavailable:
    error = UpstreamUnavailable("the store could not commit the change; try again")
    error.__cause__ = cause
    return error


def _settle(future: asyncio.Future[Any], *, result: Any = None, exc: BaseException | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
