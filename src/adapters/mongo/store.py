"""The MongoDB store (production, SPEC §1, §3): a `UnitOfWorkFactory` over one database.

A unit of work reads from the server and stages its writes in memory (tx.py); `commit()` applies them in a fixed
order (commit.py) — in one transaction when the server is a replica set or a sharded cluster, else through a
journal that makes a crashed commit recoverable (journal.py, `recover`). The decision and its consequences are
in docs/decisions/0006-mongo-store-without-transactions.md.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from zoneinfo import ZoneInfo

from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient
from pymongo.errors import ConnectionFailure, PyMongoError

from adapters.mongo.aggregates import INDEXES as AGGREGATE_INDEXES
from adapters.mongo.aggregates import MongoReportRepository
from adapters.mongo.catalogue import MongoProductRepository
from adapters.mongo.commit import JOURNAL, Applier, Db
from adapters.mongo.credit import (
    MongoCreditAccountRepository,
    MongoCreditLimitRequestRepository,
    MongoLimitHistoryRepository,
)
from adapters.mongo.journal import Recovered, apply_all, commit_journaled, recover
from adapters.mongo.orders import MongoOrderRepository
from adapters.mongo.people import MongoCustomerRepository, MongoUserRepository
from adapters.mongo.records import (
    MongoAuditRepository,
    MongoIdempotencyRepository,
    MongoOutboxRepository,
    MongoPerformanceRepository,
    MongoTargetRepository,
)
from adapters.mongo.tx import MongoTx
from adapters.system import UlidGenerator
from crm_domain.config import DomainConfig
from crm_domain.errors import UpstreamUnavailable
from crm_domain.events import Event
from crm_domain.ports import Clock, IdGenerator

if TYPE_CHECKING:
    from crm_domain.ports import UnitOfWorkFactory

DEFAULT_DATABASE = "crm"
#: Bounded waits (milliseconds): a store that cannot be reached fails a request instead of hanging it.
SERVER_SELECTION_TIMEOUT_MS = 5_000
CONNECT_TIMEOUT_MS = 5_000
SOCKET_TIMEOUT_MS = 30_000
#: A journal younger than this may belong to a commit still running; recovery leaves it alone.
RECOVERY_GRACE = timedelta(seconds=60)

_ASC, _DESC = ASCENDING, DESCENDING
INDEXES: dict[str, list[IndexModel]] = {
    "users": [IndexModel([("mobile", _ASC)], unique=True, name="mobile_unique"), IndexModel([("manager_id", _ASC)])],
    "customers": [
        IndexModel([("code", _ASC)], unique=True, name="code_unique"),
        IndexModel([("assigned_rep_id", _ASC)]),
    ],
    "products": [IndexModel([("sku", _ASC)], unique=True, name="sku_unique"), IndexModel([("active", _ASC)])],
    "orders": [
        IndexModel([("number", _ASC)], unique=True, name="number_unique"),
        IndexModel([("created_at", _DESC), ("_id", _DESC)], name="newest_first"),
        IndexModel([("customer_id", _ASC), ("created_at", _DESC), ("_id", _DESC)], name="by_customer"),
        IndexModel([("status", _ASC), ("created_at", _DESC), ("_id", _DESC)], name="by_status"),
        IndexModel([("rep_id", _ASC), ("created_at", _DESC), ("_id", _DESC)], name="by_rep"),
        IndexModel([("customer_id", _ASC), ("status", _ASC), ("hold_key", _ASC), ("number", _ASC)], name="held"),
    ],
    "outbox": [
        IndexModel([("status", _ASC), ("next_attempt_at", _ASC), ("_id", _ASC)], name="due"),
        IndexModel([("status", _ASC), ("occurred_at", _ASC), ("_id", _ASC)], name="by_age"),
    ],
    "idempotency": [
        IndexModel([("expires_at", _ASC)], expireAfterSeconds=0, name="expiry_ttl"),
        IndexModel([("expires_us", _ASC)], name="expiry"),
    ],
    "audit": [IndexModel([("entity", _ASC), ("entity_id", _ASC), ("at", _ASC), ("_id", _ASC)], name="by_entity")],
    "limit_requests": [
        IndexModel([("requested_at", _DESC), ("_id", _DESC)], name="newest_first"),
        IndexModel([("status", _ASC), ("requested_at", _DESC), ("_id", _DESC)], name="by_status"),
    ],
    "limit_history": [IndexModel([("customer_id", _ASC), ("at", _ASC), ("_id", _ASC)], name="by_customer")],
    "targets": [IndexModel([("period", _ASC), ("user_id", _ASC)], name="by_period")],
    "performance": [IndexModel([("period", _ASC), ("user_id", _ASC)], name="by_period")],
    JOURNAL: [IndexModel([("at", _ASC)], name="by_age"), IndexModel([("reconcile.order", _ASC)], name="by_order")],
}


class MongoStore:
    """A `UnitOfWorkFactory` over database `database` of `client`.

    `clock` judges when idempotency records expire and dates journals; give it the services' clock. Without
    one, records stay valid until purged and journals are dated by the system clock. `transactions` forces
    the commit path (None: ask the server whether it is a replica set or a sharded cluster). With
    `ensure_indexes`, the first unit of work creates the indexes (what `crm db init` does). `ids` names the
    outbox messages of the events a commit writes (default: ULIDs).
    """

    def __init__(
        self,
        client: MongoClient[dict[str, Any]],
        database: str = DEFAULT_DATABASE,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        transactions: bool | None = None,
        recovery_grace: timedelta = RECOVERY_GRACE,
        ensure_indexes: bool = False,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.tz = tz or DomainConfig().tz  # the company time zone: days of the sales buckets
        self.client = client
        self.db: Db = client[database]
        self.clock = clock
        self.ids: IdGenerator = ids or UlidGenerator()
        self.recovery_grace = recovery_grace
        self._transactions = transactions
        self._indexed = not ensure_indexes
        self._lock = threading.Lock()

    @classmethod
    def from_url(
        cls, url: str, *, clock: Clock | None = None, ids: IdGenerator | None = None, tz: ZoneInfo | None = None
    ) -> MongoStore:
        """A store for a `mongodb://` or `mongodb+srv://` URL (the database is the URL's path, default `crm`).
        Connecting is lazy: nothing is contacted until the first unit of work."""
        client: MongoClient[dict[str, Any]] = MongoClient(
            url,
            tz_aware=True,
            serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS,
            connectTimeoutMS=CONNECT_TIMEOUT_MS,
            socketTimeoutMS=SOCKET_TIMEOUT_MS,
        )
        database = client.get_default_database(default=DEFAULT_DATABASE).name
        return cls(client, database, clock=clock, ids=ids, ensure_indexes=True, tz=tz)

    def __call__(self, *, read_only: bool = False) -> MongoUnitOfWork:
        if not self._indexed:
            with self._lock:
                if not self._indexed:
                    self.init_indexes()
                    self._indexed = True
        return MongoUnitOfWork(self, read_only=read_only)

    def __repr__(self) -> str:
        return f"MongoStore({self.db.name!r})"

    @cached_property
    def supports_transactions(self) -> bool:
        """Multi-document transactions need a replica set (`setName`) or mongos (`isdbgrid`)."""
        if self._transactions is not None:
            return self._transactions
        try:
            hello = self.client.admin.command("hello")
        except (PyMongoError, NotImplementedError):
            return False
        return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"

    def init_indexes(self) -> list[str]:
        """Create every index (idempotent: existing ones with the same definition are left alone); returns
        `collection.index` names."""
        created = []
        for collection, indexes in (INDEXES | AGGREGATE_INDEXES).items():
            for name in self.db[collection].create_indexes(indexes):
                created.append(f"{collection}.{name}")
        return created

    def recover(self, now: datetime | None = None) -> Recovered:
        """Finish or roll back commits that a crashed process left half done (journals older than the grace
        period). Safe to run at any time and from several processes; the worker calls it periodically."""
        return recover(self.db, now or self._now(), self.recovery_grace)

    def close(self) -> None:
        self.client.close()

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def apply(self, tx: MongoTx) -> None:
        """Write what `tx` staged: in a transaction when the server has them, else directly (one write) or
        through a journal (several)."""
        writes, increments = tx.all_writes(), list(tx.increments)
        if not writes and not increments:
            return
        now, commit_id = self._now(), uuid.uuid4().hex
        if self.supports_transactions:
            with self.client.start_session() as session:
                session.with_transaction(lambda s: apply_all(Applier(self.db, commit_id, now, s), writes, increments))
        elif len(writes) + len(increments) == 1:
            apply_all(Applier(self.db, commit_id, now), writes, increments)
        else:
            commit_journaled(self.db, commit_id, writes, increments, now)


class MongoUnitOfWork:
    """Reads go to the server (overlaid with this unit of work's staged writes); writes wait for `commit()`."""

    def __init__(self, store: MongoStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._tx = tx = MongoTx(store.db, store.clock)
        self.users = MongoUserRepository(tx)
        self.customers = MongoCustomerRepository(tx)
        self.credit = MongoCreditAccountRepository(tx)
        self.products = MongoProductRepository(tx)
        self.orders = MongoOrderRepository(tx)
        self.targets = MongoTargetRepository(tx)
        self.performance = MongoPerformanceRepository(tx)
        self.outbox = MongoOutboxRepository(tx)
        self.idempotency = MongoIdempotencyRepository(tx)
        self.audit = MongoAuditRepository(tx)
        self.limit_requests = MongoCreditLimitRequestRepository(tx)
        self.limit_history = MongoLimitHistoryRepository(tx)
        self.reports = MongoReportRepository(tx, store.tz)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.rollback()
        except ConnectionFailure:
            if exc is None:
                raise
        if isinstance(exc, ConnectionFailure):
            # The server cannot be reached (selection timeout, network error): a dependency is down, which the
            # entry points report as 503 / a retry, not as a bug. Nothing was committed.
            raise UpstreamUnavailable("the database cannot be reached; try again shortly") from exc

    def publish(self, events: list[Event]) -> None:
        self._tx.seen.publish(events)

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._tx.seen.write_to(self.outbox, self._store.ids, self.reports)  # staged with the rest: one commit
        # From here the numbers belong to the writes, landed or not: never given back.
        self._tx.numbers.clear()
        try:
            self._store.apply(self._tx)
        finally:
            self._tx.clear()

    def rollback(self) -> None:
        self._give_back_numbers()
        self._tx.clear()

    def _give_back_numbers(self) -> None:
        """Order numbers taken by work that is discarded go back while no later number was taken (gaps are
        harmless, but a unit of work that never commits should leave the counter as it found it)."""
        sequences = self._store.db["sequences"]
        for name, value in reversed(self._tx.numbers):
            sequences.update_one({"_id": name, "value": value}, {"$inc": {"value": -1}})
        self._tx.numbers.clear()


if TYPE_CHECKING:
    _: UnitOfWorkFactory = MongoStore(MongoClient())
