"""The SQLite store: the embedded default. One file in WAL mode, one connection per thread (reused across
units of work), and a transaction per unit of work that the store itself begins and ends.

Writers start with `BEGIN IMMEDIATE`, so each writing unit of work holds the database's write lock from its
first statement to its end: the credit check and the reservation of a submit are one atomic step across threads
and processes. Readers use a deferred transaction: one consistent snapshot, never blocked by a writer.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self
from zoneinfo import ZoneInfo

from adapters.owner_only import FILE_MODE, owner_only_database, owner_only_dir
from adapters.sqlite import schema
from adapters.sqlite.catalogue import SqliteProductRepository
from adapters.sqlite.credit import (
    SqliteCreditAccountRepository,
    SqliteCreditLimitRequestRepository,
    SqliteLimitHistoryRepository,
)
from adapters.sqlite.interactions import SqliteInteractionRepository
from adapters.sqlite.orders import SqliteOrderRepository
from adapters.sqlite.people import SqliteCustomerRepository, SqliteUserRepository
from adapters.sqlite.read_cache import ReadCache
from adapters.sqlite.records import (
    SqliteAuditRepository,
    SqliteIdempotencyRepository,
    SqliteOutboxRepository,
    SqlitePerformanceRepository,
    SqliteTargetRepository,
)
from adapters.sqlite.reports import SqliteReportRepository
from adapters.sqlite.session import SqliteSession
from adapters.system import UlidGenerator, process_id
from crm_domain.config import DomainConfig
from crm_domain.events import Event
from crm_domain.ports import Clock, IdGenerator

if TYPE_CHECKING:
    from crm_domain.ports import UnitOfWorkFactory

DEFAULT_BUSY_TIMEOUT = 10.0
#: `PRAGMA synchronous` values the store accepts. FULL (the default) syncs the WAL at every commit, so an
#: acknowledged commit survives a power cut or an OS crash; NORMAL syncs only at checkpoints: faster, but the
#: last commits before such a crash may be lost (SQLite's documented behaviour; decision 0017).
SYNCHRONOUS = ("FULL", "NORMAL")


class SqliteStore:
    """A `UnitOfWorkFactory` over the SQLite file at `path` (created, with its directory, on first use).

    `clock` judges when idempotency records expire; give it the services' clock. Without one, records stay
    valid until `purge_expired` removes them. `ids` names the outbox messages of the events a commit writes
    (default: ULIDs). `synchronous` is every connection's `PRAGMA synchronous` (see `SYNCHRONOUS`); `tz` dates the
    sales buckets (the company time zone).
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        synchronous: str = "FULL",
        tz: ZoneInfo | None = None,
    ) -> None:
        if synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, got {synchronous!r}")
        self.synchronous = synchronous.upper()
        self.path = Path(path)
        self.tz = tz or DomainConfig().tz  # the company time zone: days of the sales buckets
        self.clock = clock
        self.ids: IdGenerator = ids or UlidGenerator()
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._migrated_in: int | None = None  # the pid that checked the schema
        self.read_cache = ReadCache()  # products and customers for read-only units of work (decision 0010)
        self._connections: list[sqlite3.Connection] = []
        self._writer = _WriterQueue(self.path.with_name(self.path.name + ".writer-lock"), busy_timeout)

    def __call__(self, *, read_only: bool = False) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self, read_only=read_only)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    # --- connections: one per thread, reused; a nested unit of work on the same thread gets another -------

    def acquire(self) -> sqlite3.Connection:
        idle = self._idle()
        return idle.pop() if idle else self._connect()

    def release(self, conn: sqlite3.Connection) -> None:
        self._idle().append(conn)

    def discard(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        conn.close()

    def close(self) -> None:
        """Close every connection this store opened (in any thread); later units of work open new ones."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    def _idle(self) -> list[sqlite3.Connection]:
        local = self._local
        pid = process_id()
        if getattr(local, "pid", None) != pid:  # new thread, or a forked child: never reuse a parent's handles
            local.pid = pid
            local.idle = []
        idle: list[sqlite3.Connection] = local.idle
        return idle

    def connect(self) -> sqlite3.Connection:
        """A new connection of this store, set up and migrated, for a caller that keeps it (closed by `close`)."""
        return self._connect()

    def _connect(self) -> sqlite3.Connection:
        owner_only_database(self.path)  # 0600 before SQLite opens it: its -wal and -shm files take that mode
        # check_same_thread=False only so that close() may close it from another thread: in use, a connection
        # stays with the thread that opened it (the idle list is thread-local).
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=256,
        )
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            self._set_wal(conn)
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        with self._lock:
            self._connections.append(conn)
        return conn

    def _set_wal(self, conn: sqlite3.Connection) -> None:
        # Switching a fresh file to WAL needs a moment of exclusive access; when several processes open the file
        # at once, the switch may report "locked" without waiting, so retry until the busy timeout.
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
                continue
            if str(mode).lower() != "wal":
                raise RuntimeError(f"{self.path}: SQLite refused WAL mode (journal_mode={mode})")
            return

    def _migrate(self, conn: sqlite3.Connection) -> None:
        pid = process_id()
        if self._migrated_in == pid:
            return
        with self._lock:
            if self._migrated_in != pid:
                schema.migrate(conn)
                self._migrated_in = pid


class _WriterQueue:
    """Writers of this store queue here before `BEGIN IMMEDIATE`: a thread lock within the process and an
    exclusive `flock` on a lock file across processes. The kernel wakes the next writer the moment the lock is
    free, where SQLite's own busy handler would poll with sleeps of up to 100 ms under contention. Correctness
    does not depend on it (BEGIN IMMEDIATE still takes SQLite's write lock); it keeps tail latency low.

    `acquire` and `try_acquire` say whether the queue was entered; pass that to `release`."""

    def __init__(self, path: Path, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None

    def acquire(self) -> bool:
        """Queue for at most the busy timeout; past it go on without the queue (False) and leave the decision
        to SQLite's own busy handling."""
        if not self._thread_lock.acquire(timeout=self._timeout):
            return False
        try:
            self._open()
            assert self._fd is not None
            deadline = time.monotonic() + self._timeout
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        self._thread_lock.release()
                        return False
                    time.sleep(0.0002)
        except BaseException:
            self._thread_lock.release()
            raise

    def try_acquire(self) -> bool:
        """Enter the queue only if nobody is in it now (never waits: for the event loop's batched writes)."""
        if not self._thread_lock.acquire(blocking=False):
            return False
        try:
            self._open()
            assert self._fd is not None
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            self._thread_lock.release()
            return False
        except BaseException:
            self._thread_lock.release()
            raise

    def _open(self) -> None:
        if self._pid != process_id():  # first use, or a forked child: open our own descriptor
            owner_only_dir(self._path.parent)
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, FILE_MODE)
            self._pid = process_id()

    def release(self, held: bool) -> None:
        if not held:
            return
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


class SqliteUnitOfWork:
    """One transaction on this thread's connection; rolled back at the end of the block unless committed."""

    def __init__(self, store: SqliteStore, *, read_only: bool = False, session: SqliteSession | None = None) -> None:
        self._store = store
        self._read_only = read_only
        self._queued = False
        self._session = session or SqliteSession(store.clock, immediate=not read_only)

    # Repositories are made on first use: a unit of work on the hot path touches three or four of them.

    @cached_property
    def users(self) -> SqliteUserRepository:
        return SqliteUserRepository(self._session)

    @cached_property
    def customers(self) -> SqliteCustomerRepository:
        return SqliteCustomerRepository(self._session, self._store.read_cache.customers if self._read_only else None)

    @cached_property
    def credit(self) -> SqliteCreditAccountRepository:
        return SqliteCreditAccountRepository(self._session)

    @cached_property
    def products(self) -> SqliteProductRepository:
        return SqliteProductRepository(self._session, self._store.read_cache.products if self._read_only else None)

    @cached_property
    def orders(self) -> SqliteOrderRepository:
        return SqliteOrderRepository(self._session)

    @cached_property
    def targets(self) -> SqliteTargetRepository:
        return SqliteTargetRepository(self._session)

    @cached_property
    def performance(self) -> SqlitePerformanceRepository:
        return SqlitePerformanceRepository(self._session)

    @cached_property
    def reports(self) -> SqliteReportRepository:
        return SqliteReportRepository(self._session, self._store.tz)

    @cached_property
    def outbox(self) -> SqliteOutboxRepository:
        return SqliteOutboxRepository(self._session)

    @cached_property
    def idempotency(self) -> SqliteIdempotencyRepository:
        return SqliteIdempotencyRepository(self._session)

    @cached_property
    def audit(self) -> SqliteAuditRepository:
        return SqliteAuditRepository(self._session)

    @cached_property
    def limit_requests(self) -> SqliteCreditLimitRequestRepository:
        return SqliteCreditLimitRequestRepository(self._session)

    @cached_property
    def limit_history(self) -> SqliteLimitHistoryRepository:
        return SqliteLimitHistoryRepository(self._session)

    @cached_property
    def interactions(self) -> SqliteInteractionRepository:
        return SqliteInteractionRepository(self._session)

    def __enter__(self) -> Self:
        self._queued = False if self._read_only else self._store._writer.acquire()
        try:
            return self._enter()
        except BaseException:
            self._store._writer.release(self._queued)
            raise

    @classmethod
    def joining(cls, store: SqliteStore, conn: sqlite3.Connection) -> SqliteUnitOfWork:
        """A unit of work inside the transaction already open on `conn` (a batch of writes, see
        `adapters.sqlite.loop_writer`): it neither begins nor commits; the batch does."""
        session = SqliteSession(store.clock, immediate=True, joined=True)
        session.open(conn)
        return cls(store, session=session)

    def _enter(self) -> Self:
        conn = self._store.acquire()
        try:
            self._session.open(conn)
        except BaseException:
            self._session.detach()
            self._store.release(conn)
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._exit(exc)
        finally:
            self._store._writer.release(self._queued)

    def _forget_credit(self) -> None:
        if "credit" in self.__dict__:  # made, so it may have cached accounts
            self.credit.forget()

    def _exit(self, exc: BaseException | None) -> None:
        self._forget_credit()
        self._session.seen.forget()
        conn = self._session.detach()
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            self._store.discard(conn)  # a connection that cannot roll back is not reused
            if exc is None:
                raise
            return
        self._store.release(conn)

    def publish(self, events: list[Event]) -> None:
        self._session.seen.publish(events)

    def write_events(self) -> None:
        """Write the events of the aggregates added or saved so far to the outbox, in this transaction: what
        `commit` does first, and what a step of a batch of writes (which the batch commits) does at its end."""
        self._session.seen.write_to(self.outbox, self._store.ids, self.reports)

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.write_events()
        self._session.commit()

    def rollback(self) -> None:
        self._forget_credit()
        self._session.seen.forget()
        self._session.rollback()


if TYPE_CHECKING:
    _: UnitOfWorkFactory = SqliteStore(Path())
