"""Applying a unit of work's staged writes (see docs/decisions/0006-mongo-store-without-transactions.md).

Writes go in a fixed order: idempotency records, reference data (users, customers, products), credit accounts,
orders, then what follows from them (outbox, audit, limit history and requests, targets, running totals).
The credit account is written by one conditional update on its version, so the check-and-reserve of a submit
is atomic without a transaction.

With a replica set, everything runs in one transaction. Without one, a unit of work that writes more than one
document first records its writes in a journal document (`commits`), applies them, and deletes the journal.
Each step can be applied again without effect (`replay`), so a journal left behind by a crash is finished by
`MongoStore.recover`; a step that cannot be applied (the version moved on) makes the journal roll back:
reservations are reconciled with the orders' states and the journal's idempotency records are removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from adapters.epoch_micros import micros
from adapters.mongo.tx import Increment, Op, StagedWrite
from crm_domain.errors import ConcurrentUpdate, DuplicateKey

Db = Database[dict[str, Any]]

#: Collections in the order their writes are applied.
PHASES: tuple[tuple[str, ...], ...] = (
    ("idempotency",),
    ("users", "customers", "products"),
    ("credit",),
    ("orders",),
    ("outbox", "audit", "limit_history", "limit_requests", "targets", "ledger"),
)
#: Versioned documents keep the ids of the last commits that wrote them, so recovery can tell what landed.
VERSIONED = frozenset({"credit", "orders"})
KEPT_COMMITS = 20
JOURNAL = "commits"

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
    "ledger": "ledger entry",
}


def ordered(writes: Iterable[StagedWrite]) -> list[StagedWrite]:
    rank = {name: i for i, phase in enumerate(PHASES) for name in phase}
    return sorted(writes, key=lambda w: rank.get(w.collection, len(PHASES)))


class Applier:
    """Applies writes of one commit (`commit_id`), inside `session`'s transaction when there is one."""

    def __init__(self, db: Db, commit_id: str, now: datetime, session: ClientSession | None = None) -> None:
        self.db = db
        self.commit_id = commit_id
        self.now = micros(now)
        self._kw: dict[str, Any] = {"session": session} if session is not None else {}

    # --- the core: may fail with DuplicateKey or ConcurrentUpdate ---------------------------------------------

    def apply(self, write: StagedWrite, *, pending: bool = False, replaying: bool = False) -> None:
        """Apply one write. `pending` marks idempotency records as not yet complete (journaled commits);
        `replaying` skips what already landed (recovery)."""
        collection = self.db[write.collection]
        doc = dict(write.doc or {})
        doc.pop("_id", None)
        if write.collection == "idempotency" and write.op is not Op.DELETE:
            self._put_idempotency(write, doc, pending=pending, replaying=replaying)
        elif write.op is Op.DELETE:
            collection.delete_one({"_id": write.id}, **self._kw)
        elif write.op is Op.CAS:
            self._cas(write, doc, replaying=replaying)
        elif write.op is Op.PUT:
            self._guard(
                write, replaying, lambda: collection.replace_one({"_id": write.id}, doc, upsert=True, **self._kw)
            )
        else:
            if write.collection in VERSIONED:
                doc["commits"] = [self.commit_id]
            self._guard(write, replaying, lambda: collection.insert_one({"_id": write.id, **doc}, **self._kw))

    def _cas(self, write: StagedWrite, doc: dict[str, Any], *, replaying: bool) -> None:
        collection = self.db[write.collection]
        if replaying and collection.find_one({"_id": write.id, "commits": self.commit_id}, {"_id": 1}, **self._kw):
            return
        doc.pop("commits", None)
        result = collection.update_one(
            {"_id": write.id, "version": write.expected},
            {"$set": doc, "$push": {"commits": {"$each": [self.commit_id], "$slice": -KEPT_COMMITS}}},
            **self._kw,
        )
        if result.matched_count != 1:
            raise ConcurrentUpdate(KINDS.get(write.collection, write.collection), str(write.id))

    def _put_idempotency(self, write: StagedWrite, doc: dict[str, Any], *, pending: bool, replaying: bool) -> None:
        """Insert, or replace an expired record; a live one (another request's) is `DuplicateKey`."""
        collection = self.db["idempotency"]
        if pending:
            doc["pending"] = self.commit_id
        try:
            collection.update_one(
                {"_id": write.id, "expires_us": {"$lte": self.now}}, {"$set": doc}, upsert=True, **self._kw
            )
        except DuplicateKeyError:
            if replaying and collection.find_one({"_id": write.id, "pending": self.commit_id}, **self._kw):
                return
            raise DuplicateKey("idempotency record", "key", str(doc.get("k", ""))) from None

    def _guard(self, write: StagedWrite, replaying: bool, action: Any) -> None:
        try:
            action()
        except DuplicateKeyError as exc:
            if replaying:
                return  # it landed before the crash (or someone took the key since: nothing to redo)
            raise duplicate(self.db, write, exc) from None

    # --- what follows: idempotent, never fails on a conflict ------------------------------------------------------

    def increment(self, increment: Increment, token: str) -> None:
        """`$inc` once per token: the token is kept in the document (the last few hundred)."""
        try:
            self.db[increment.collection].update_one(
                {"_id": increment.id, "tokens": {"$ne": token}},
                {
                    "$inc": increment.amounts,
                    "$set": dict(increment.id),
                    "$push": {"tokens": {"$each": [token], "$slice": -200}},
                },
                upsert=True,
                **self._kw,
            )
        except DuplicateKeyError:
            return  # the document exists and already has the token: applied before

    def complete_idempotency(self, ids: list[Any]) -> None:
        if ids:
            self.db["idempotency"].update_many(
                {"_id": {"$in": ids}, "pending": self.commit_id}, {"$unset": {"pending": ""}}, **self._kw
            )


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
    if write.collection == "products":
        return DuplicateKey(kind, "sku", str(write.id))
    return DuplicateKey(kind, "id", str(write.id))
