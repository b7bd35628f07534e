"""The MongoDB store (production, SPEC §1, §3, §11): a `UnitOfWorkFactory` over one database of a replica set
(or a sharded cluster).

A unit of work reads from the server and stages its writes in memory (tx.py); `commit()` applies them in one
multi-document transaction (`ClientSession.with_transaction`: write concern majority, read concern snapshot,
read preference primary, a client-side deadline) through `commit.apply_all`. Every replace is conditional on
the version read, so a concurrent change is `ConcurrentUpdate` and the service runs the use case again, after
a short randomised pause that grows while the contention lasts. Indexes are made by `crm db init` alone and
checked, with the server's kind, before the first unit of work of a store built from a URL. See
docs/decisions/0012-mongo-transactions.md.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pymongo
from pymongo import ASCENDING, DESCENDING, HASHED, IndexModel, MongoClient, ReadPreference
from pymongo.client_session import ClientSession
from pymongo.errors import ConnectionFailure, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from adapters.mongo.aggregates import INDEXES as AGGREGATE_INDEXES
from adapters.mongo.aggregates import MongoReportRepository
from adapters.mongo.catalogue import MongoProductRepository
from adapters.mongo.commit import Applier, Db, apply_all, check_sizes, prepare_increments
from adapters.mongo.credit import (
    MongoCreditAccountRepository,
    MongoCreditLimitRequestRepository,
    MongoLimitHistoryRepository,
)
from adapters.mongo.errors import CommitOutcomeUnknown, StoreNotReady
from adapters.mongo.interactions import INTERACTION_INDEXES, MongoInteractionRepository
from adapters.mongo.orders import MongoOrderRepository
from adapters.mongo.people import MongoCustomerRepository, MongoUserRepository
from adapters.mongo.records import (
    MongoAuditRepository,
    MongoIdempotencyRepository,
    MongoOutboxRepository,
    MongoPerformanceRepository,
    MongoTargetRepository,
)
from adapters.mongo.search import CUSTOMER_SEARCH_INDEXES, PRODUCT_SEARCH_INDEXES, backfill_name_words
from adapters.mongo.tx import MongoTx
from adapters.system import UlidGenerator
from crm_domain.config import DomainConfig
from crm_domain.errors import ConcurrentUpdate, UpstreamUnavailable
from crm_domain.events import Event
from crm_domain.ports import Clock, IdGenerator

if TYPE_CHECKING:
    from crm_domain.ports import UnitOfWorkFactory

DEFAULT_DATABASE = "crm"
#: Bounded waits (milliseconds), used where the URL does not set its own: a store that cannot be reached fails
#: a request instead of hanging it. `timeoutMS` is pymongo's client-side deadline of every operation.
SERVER_SELECTION_TIMEOUT_MS = 5_000
CONNECT_TIMEOUT_MS = 5_000
OPERATION_TIMEOUT_MS = 10_000
#: The deadline of one commit, retries of `with_transaction` included (seconds).
COMMIT_TIMEOUT = 10.0
#: The pause before a unit of work that lost a race is run again: full jitter, doubling from BASE up to CAP.
BACKOFF_BASE, BACKOFF_CAP = 0.002, 0.1

#: What every transaction runs with (SPEC §11).
TRANSACTION_OPTIONS: dict[str, Any] = {
    "read_concern": ReadConcern("snapshot"),
    "write_concern": WriteConcern("majority", j=True),
    "read_preference": ReadPreference.PRIMARY,
}

_ASC, _DESC, _HASHED = ASCENDING, DESCENDING, HASHED
INDEXES: dict[str, list[IndexModel]] = {
    "users": [
        IndexModel([("mobile", _ASC)], unique=True, name="mobile_unique"),
        IndexModel([("manager_id", _ASC)]),
        IndexModel([("updated_at", _ASC)], name="by_updated"),  # `updated_since`
    ],
    "customers": [
        IndexModel([("code", _ASC)], unique=True, name="code_unique"),
        IndexModel([("assigned_rep_id", _ASC)]),
        *CUSTOMER_SEARCH_INDEXES,  # the one text search (adapters/mongo/search.py)
        IndexModel([("updated_at", _ASC)], name="by_updated"),  # `updated_since`
    ],
    "products": [
        IndexModel([("sku", _ASC)], unique=True, name="sku_unique"),
        IndexModel([("active", _ASC)]),
        *PRODUCT_SEARCH_INDEXES,
        IndexModel([("updated_at", _ASC)], name="by_updated"),
    ],
    "orders": [
        IndexModel([("number", _ASC)], name="by_number"),  # unique through `order_numbers` (sharding plan)
        IndexModel([("customer_id", _HASHED)], name="customer_hashed"),  # the shard key
        IndexModel([("updated_at", _ASC)], name="by_updated"),  # `updated_since`
        IndexModel([("created_at", _DESC), ("_id", _DESC)], name="newest_first"),
        IndexModel([("customer_id", _ASC), ("created_at", _DESC), ("_id", _DESC)], name="by_customer"),
        IndexModel([("status", _ASC), ("created_at", _DESC), ("_id", _DESC)], name="by_status"),
        IndexModel([("rep_id", _ASC), ("created_at", _DESC), ("_id", _DESC)], name="by_rep"),
        IndexModel([("customer_id", _ASC), ("status", _ASC), ("hold_key", _ASC), ("number", _ASC)], name="held"),
    ],
    "outbox": [
        IndexModel([("status", _ASC), ("next_attempt_at", _ASC), ("_id", _ASC)], name="due"),
        IndexModel([("status", _ASC), ("occurred_at", _ASC), ("_id", _ASC)], name="by_age"),
        IndexModel([("status", _ASC), ("delivered_at", _ASC)], name="delivered"),  # retention purge
    ],
    "idempotency": [
        IndexModel([("expires_at", _ASC)], expireAfterSeconds=0, name="expiry_ttl"),
        IndexModel([("expires_us", _ASC)], name="expiry"),
        IndexModel([("_id", _HASHED)], name="id_hashed"),  # the shard key
    ],
    "audit": [IndexModel([("entity", _ASC), ("entity_id", _ASC), ("at", _ASC), ("_id", _ASC)], name="by_entity")],
    "limit_requests": [
        IndexModel([("requested_at", _DESC), ("_id", _DESC)], name="newest_first"),
        IndexModel([("status", _ASC), ("requested_at", _DESC), ("_id", _DESC)], name="by_status"),
        # `updated_since`: either branch of the filter (decided since; or open and asked since) is a range of it
        IndexModel([("decided_at", _ASC), ("requested_at", _ASC)], name="by_updated"),
    ],
    "limit_history": [
        IndexModel([("customer_id", _ASC), ("at", _ASC), ("_id", _ASC)], name="by_customer"),
        IndexModel([("customer_id", _HASHED)], name="customer_hashed"),  # the shard key
    ],
    "targets": [
        IndexModel([("period", _ASC), ("user_id", _ASC)], name="by_period"),
        IndexModel([("period", _ASC), ("updated_at", _ASC)], name="by_period_updated"),  # `updated_since`
    ],
    "performance": [IndexModel([("period", _ASC), ("user_id", _ASC)], name="by_period")],
    "credit": [IndexModel([("_id", _HASHED)], name="id_hashed")],  # the shard key
    "order_numbers": [IndexModel([("_id", _HASHED)], name="id_hashed")],  # the shard key; `_id` is the number
    "interactions": INTERACTION_INDEXES,
    **AGGREGATE_INDEXES,  # the reports' sales buckets and ledger (adapters/mongo/aggregates.py)
}


def client_options(url: str) -> dict[str, Any]:
    """The keyword options of the production client for `url`: durability and primary reads always (a URL
    cannot weaken them); the bounded timeouts only where the URL sets none (the URL's own win)."""
    query = url.split("?", 1)[1] if "?" in url else ""  # read here: parsing a +srv URL would query DNS
    given = {name.lower() for name in parse_qs(query, keep_blank_values=True)}
    options: dict[str, Any] = {
        "tz_aware": True,
        "w": "majority",
        "journal": True,
        "readPreference": "primary",
        "readConcernLevel": "majority",
        "retryWrites": True,
        "retryReads": True,
    }
    defaults = {
        "serverSelectionTimeoutMS": SERVER_SELECTION_TIMEOUT_MS,
        "connectTimeoutMS": CONNECT_TIMEOUT_MS,
        "timeoutMS": OPERATION_TIMEOUT_MS,
    }
    options.update({name: value for name, value in defaults.items() if name.lower() not in given})
    return options


class MongoStore:
    """A `UnitOfWorkFactory` over database `database` of `client`.

    `clock` judges when idempotency records expire; give it the services' clock. Without one, records stay
    valid until purged. With `check_at_start`, the first unit of work (and any after one that failed it) first
    checks the server is a replica set or a sharded cluster and every index is in place (`check`). `ids`
    names the outbox messages of the events a commit writes (default: ULIDs).
    """

    def __init__(
        self,
        client: MongoClient[dict[str, Any]],
        database: str = DEFAULT_DATABASE,
        *,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        check_at_start: bool = False,
        commit_timeout: float = COMMIT_TIMEOUT,
        pause: Callable[[float], None] = time.sleep,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.tz = tz or DomainConfig().tz  # the company time zone: days of the sales buckets
        self.client = client
        self.db: Db = client[database]
        self.clock = clock
        self.ids: IdGenerator = ids or UlidGenerator()
        self.commit_timeout = commit_timeout
        self._checked = not check_at_start
        self._lock = threading.Lock()
        self._pause = pause
        self._contention = threading.local()
        #: Outbox messages this process holds a lease on: id -> (token, until) (see `MongoOutboxRepository`).
        self.leases: dict[str, tuple[str, int]] = {}

    @classmethod
    def from_url(
        cls, url: str, *, clock: Clock | None = None, ids: IdGenerator | None = None, tz: ZoneInfo | None = None
    ) -> MongoStore:
        """A store for a `mongodb://` or `mongodb+srv://` URL (the database is the URL's path, default `crm`).
        Connecting is lazy: nothing is contacted until the first unit of work, which checks the server."""
        client: MongoClient[dict[str, Any]] = MongoClient(url, **client_options(url))
        database = client.get_default_database(default=DEFAULT_DATABASE).name
        return cls(client, database, clock=clock, ids=ids, check_at_start=True, tz=tz)

    def __call__(self, *, read_only: bool = False) -> MongoUnitOfWork:
        if not self._checked:
            with self._lock:
                if not self._checked:
                    self.check()  # a failure is not remembered: the next unit of work checks again
                    self._checked = True
        return MongoUnitOfWork(self, read_only=read_only)

    def __repr__(self) -> str:
        return f"MongoStore({self.db.name!r})"

    def check(self) -> None:
        """`StoreNotReady` with a one-line reason unless the server runs transactions (a replica set, or mongos)
        and every index of `crm db init` is in place; `UpstreamUnavailable` when it cannot be reached."""
        try:
            hello = self.hello()
        except ConnectionFailure as exc:
            raise UpstreamUnavailable("the database cannot be reached; try again shortly") from exc
        if not hello.get("setName") and hello.get("msg") != "isdbgrid":
            raise StoreNotReady(
                "MongoDB is a standalone server; the store needs a replica set for transactions "
                "(a single node runs as a one-member replica set: mongod --replSet rs0, then rs.initiate())"
            )
        missing = self.missing_indexes()
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise StoreNotReady(f"MongoDB database {self.db.name!r} lacks indexes ({shown}); run `crm db init`")

    def hello(self) -> dict[str, Any]:
        """The server's answer to `hello` (what kind of deployment it is)."""
        return dict(self.client.admin.command("hello"))

    def missing_indexes(self) -> list[str]:
        """`collection.index` names of `INDEXES` that the database does not have."""
        missing: list[str] = []
        for collection, indexes in INDEXES.items():
            present = set(self.db[collection].index_information())
            missing.extend(f"{collection}.{i.document['name']}" for i in indexes if i.document["name"] not in present)
        return missing

    def init_indexes(self) -> list[str]:
        """Create every index (idempotent: existing ones with the same definition are left alone), with no
        deadline (a build on a large collection takes what it takes); returns `collection.index` names. Only
        `crm db init` (and tests) call this: nothing builds an index on the request path."""
        created = []
        with pymongo.timeout(0):  # 0: no deadline (None would leave the client's timeoutMS in force)
            _number_index_to_order_numbers(self.db)
            for collection, indexes in INDEXES.items():
                for name in self.db[collection].create_indexes(indexes):
                    created.append(f"{collection}.{name}")
            for collection in ("customers", "products"):  # documents stored before the search had `name_words`
                backfill_name_words(self.db[collection])
        return created

    def close(self) -> None:
        self.client.close()

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def apply(self, tx: MongoTx) -> None:
        """Write what `tx` staged, in one transaction. `CommitOutcomeUnknown` when the server may or may not
        have committed it (the caller retries with the same idempotency key: the record is in the same
        transaction as the rest); `UpstreamUnavailable` when nothing was committed."""
        writes, increments = tx.all_writes(), list(tx.increments)
        if not writes and not increments:
            return
        check_sizes(writes)
        now = self._now()
        committing = [False]

        def body(session: ClientSession) -> None:
            committing[0] = False
            apply_all(Applier(self.db, session, now), writes, increments)
            committing[0] = True  # from here a failure is the commit's: its outcome may be unknown

        try:
            with pymongo.timeout(self.commit_timeout):
                prepare_increments(self.db, increments)
                with self.client.start_session() as session:
                    session.with_transaction(body, **TRANSACTION_OPTIONS)
        except PyMongoError as exc:
            if committing[0] and not exc.has_error_label("TransientTransactionError"):
                raise CommitOutcomeUnknown() from exc
            if exc.timeout or isinstance(exc, ConnectionFailure) or exc.has_error_label("TransientTransactionError"):
                raise UpstreamUnavailable("the database did not answer in time; nothing was committed") from exc
            raise

    # --- contention -------------------------------------------------------------------------------------------

    def contended(self) -> None:
        """This thread's unit of work lost a race: pause (full jitter, doubling while it keeps losing) before
        the service runs it again, so that racing requests spread out instead of colliding again at once."""
        n = getattr(self._contention, "n", 0)
        self._contention.n = n + 1
        self._pause(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**n)))

    def settled(self) -> None:
        self._contention.n = 0


def _number_index_to_order_numbers(db: Db) -> None:
    """Databases made before the sharding plan kept order numbers unique with an index on `orders.number`;
    the numbers move to `order_numbers` (one document each) and that index is replaced by a plain one."""
    if "number_unique" not in db["orders"].index_information():
        return
    for order in db["orders"].find({}, {"number": 1}):
        db["order_numbers"].update_one(
            {"_id": order["number"]}, {"$setOnInsert": {"order_id": order["_id"]}}, upsert=True
        )
    db["orders"].drop_index("number_unique")


class MongoUnitOfWork:
    """Reads go to the server (overlaid with this unit of work's staged writes); writes wait for `commit()`."""

    def __init__(self, store: MongoStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._tx = tx = MongoTx(store.db, store.clock, store.leases)
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
        self.interactions = MongoInteractionRepository(tx)
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
        if isinstance(exc, ConcurrentUpdate):
            self._store.contended()
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
            for message_id in self._tx.leases_ended:
                self._store.leases.pop(message_id, None)
        finally:
            self._tx.clear()
        self._store.settled()

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
