"""Applying a unit of work's staged writes inside one MongoDB transaction (docs/decisions/0012).

`apply_all` is the one place where a commit's writes reach the server: `MongoStore.apply` calls it from the
callback of `ClientSession.with_transaction`, so every write carries the session and lands with the others
or not at all. Writes go in a fixed order: idempotency records, reference data (users, customers, products),
credit accounts, orders, then what follows from them (outbox, audit, limit history and requests, targets),
then the running totals (`$inc`). A new kind of write (e.g. another running total) is added here.

Every replace is conditional on the version the unit of work read (`Op.CAS`): `ConcurrentUpdate` when it
moved on, which aborts the transaction; the service runs the use case again on fresh reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import bson
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from adapters.epoch_micros import micros
from adapters.mongo.tx import TRACKED_VERSION, Increment, Op, StagedWrite
from crm_domain.errors import ConcurrentUpdate, DuplicateKey, ValidationFailed

Db = Database[dict[str, Any]]

#: Collections in the order their writes are applied.
PHASES: tuple[tuple[str, ...], ...] = (
    ("idempotency",),
    ("users", "customers", "products"),
    ("credit",),
    ("orders", "order_numbers"),
    ("outbox", "audit", "limit_history", "limit_requests", "targets", "ledger"),
)
#: MongoDB refuses a document over 16 MiB; ours are refused before the transaction starts, with a clear error.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024

#: Unique keys besides `_id`, for `DuplicateKey(kind, field, value)`.
UNIQUE: dict[str, tuple[str, str]] = {
    "users": ("user", "mobile"),
    "customers": ("customer", "code"),
    "orders": ("order", "number"),
    "products": ("product", "sku"),
}
KINDS = {
    "users": "user",
    "customers": "customer",
    "products": "product",
    "credit": "credit account",
    "orders": "order",
    "idempotency": "idempotency record",
    "outbox": "outbox message",
    "audit": "audit entry",
    "limit_history": "limit change",
    "limit_requests": "credit-limit request",
    "targets": "target",
    "performance": "performance total",
    "ledger": "ledger entry",
}


def ordered(writes: Iterable[StagedWrite]) -> list[StagedWrite]:
    rank = {name: i for i, phase in enumerate(PHASES) for name in phase}
    return sorted(writes, key=lambda w: rank.get(w.collection, len(PHASES)))


def check_sizes(writes: Iterable[StagedWrite]) -> None:
    """`ValidationFailed` naming the document when one would pass MongoDB's 16 MiB document limit."""
    for write in writes:
        if write.doc is None:
            continue
        size = len(bson.encode({**write.doc, "_id": write.id}))
        if size > MAX_DOCUMENT_BYTES:
            kind = KINDS.get(write.collection, write.collection)
            raise ValidationFailed(
                f"the {kind} {write.id!r} is too large to store ({size} bytes; MongoDB's limit is 16 MiB)"
            )


def apply_all(applier: Applier, writes: list[StagedWrite], increments: list[Increment]) -> None:
    """Every write of one commit, in order, in `applier`'s transaction: the one place a commit writes."""
    for write in ordered(writes):
        applier.apply(write)
    for increment in increments:
        applier.increment(increment)


class Applier:
    """Applies the writes of one commit inside `session`'s transaction."""

    def __init__(self, db: Db, session: ClientSession, now: datetime) -> None:
        self.db = db
        self.session = session
        self.now = micros(now)

    def apply(self, write: StagedWrite) -> None:
        """Apply one write; `DuplicateKey` or `ConcurrentUpdate` (which abort the transaction) on a conflict."""
        collection = self.db[write.collection]
        doc = dict(write.doc or {})
        doc.pop("_id", None)
        if write.collection == "idempotency":
            self._put_idempotency(write, doc)
        elif write.op is Op.DELETE:
            collection.delete_one({"_id": write.id}, session=self.session)
        elif write.op is Op.CAS:
            self._cas(write, doc)
        else:
            try:
                collection.insert_one({"_id": write.id, **doc}, session=self.session)
            except DuplicateKeyError as exc:
                raise self._duplicate(write, exc) from None

    def _cas(self, write: StagedWrite, doc: dict[str, Any]) -> None:
        field, expected = write.version_field, write.expected
        condition: dict[str, Any] = {field: expected}
        if field == TRACKED_VERSION and expected == 0:  # a document from before versions were tracked
            condition = {"$or": [{field: 0}, {field: {"$exists": False}}]}
        update: dict[str, Any] = {"$set": doc}
        if field not in (TRACKED_VERSION, "version") and TRACKED_VERSION not in doc:
            # conditional on a lease token (which the save keeps): the tracked version moves on too, so a save by
            # someone who read the document before and holds no lease is `ConcurrentUpdate`
            update["$inc"] = {TRACKED_VERSION: 1}
        try:
            result = self.db[write.collection].update_one({"_id": write.id, **condition}, update, session=self.session)
        except DuplicateKeyError as exc:  # a unique key (mobile, code) taken by another document meanwhile
            raise self._duplicate(write, exc) from None
        if result.matched_count != 1:
            raise ConcurrentUpdate(KINDS.get(write.collection, write.collection), str(write.id))

    def _put_idempotency(self, write: StagedWrite, doc: dict[str, Any]) -> None:
        """Insert, or replace an expired record; a live one (another request's) is `DuplicateKey`."""
        try:
            self.db["idempotency"].update_one(
                {"_id": write.id, "expires_us": {"$lte": self.now}}, {"$set": doc}, upsert=True, session=self.session
            )
        except DuplicateKeyError:
            raise DuplicateKey("idempotency record", "key", str(doc.get("k", ""))) from None

    def _duplicate(self, write: StagedWrite, exc: DuplicateKeyError) -> DuplicateKey | ConcurrentUpdate:
        if write.op is Op.CREATE and self._on_id(write, exc):
            # the document was not there when read, and another commit created it since
            return ConcurrentUpdate(KINDS.get(write.collection, write.collection), str(write.id))
        return duplicate(self.db, write, exc)

    def _on_id(self, write: StagedWrite, exc: DuplicateKeyError) -> bool:
        """Whether the duplicate is the `_id` (a server names the index; mongomock does not)."""
        pattern = (exc.details or {}).get("keyPattern")
        if pattern:
            return list(pattern) == ["_id"]
        return self.db[write.collection].find_one({"_id": write.id}, {"_id": 1}) is not None

    def increment(self, increment: Increment) -> None:
        """`$inc` of a running-totals document that `prepare_increments` made sure exists (an upsert inside a
        transaction that loses a duplicate-key race aborts the transaction; this update cannot)."""
        result = self.db[increment.collection].update_one(
            {"_id": increment.id}, {"$inc": increment.amounts}, session=self.session
        )
        if result.matched_count != 1:  # removed since it was prepared: the commit is tried again
            raise ConcurrentUpdate(KINDS.get(increment.collection, increment.collection), str(increment.id))


def prepare_increments(db: Db, increments: Iterable[Increment]) -> None:
    """Before the transaction: the running-totals documents that `increments` add to, created at zero where
    missing. A duplicate-key error here means another process created the document first, which is what was
    wanted; it is never taken for the increment itself."""
    for increment in increments:
        zero = {**dict.fromkeys(increment.amounts, 0), **dict(increment.id)}
        try:
            db[increment.collection].update_one({"_id": increment.id}, {"$setOnInsert": zero}, upsert=True)
        except DuplicateKeyError:
            if db[increment.collection].find_one({"_id": increment.id}, {"_id": 1}) is None:  # pragma: no cover
                raise


def duplicate(db: Db, write: StagedWrite, exc: DuplicateKeyError) -> DuplicateKey:
    """`DuplicateKey` naming the unique key that `write` ran into: the server names the index in `keyPattern`;
    where it does not (mongomock), look for the other document."""
    kind = KINDS.get(write.collection, write.collection)
    unique = UNIQUE.get(write.collection)
    doc = write.doc or {}
    pattern = (exc.details or {}).get("keyPattern")
    if unique is not None and unique[1] != "sku":
        field, value = unique[1], doc.get(unique[1])
        taken = field in pattern if pattern else db[write.collection].find_one({field: value, "_id": {"$ne": write.id}})
        if taken:
            return DuplicateKey(unique[0], field, str(value))
    if write.collection == "credit":
        return DuplicateKey(kind, "customer_id", str(write.id))
    if write.collection == "order_numbers":
        return DuplicateKey("order", "number", str(write.id))
    if write.collection == "products":
        return DuplicateKey(kind, "sku", str(write.id))
    return DuplicateKey(kind, "id", str(write.id))
