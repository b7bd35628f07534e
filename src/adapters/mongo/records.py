"""Targets, performance running totals, the outbox, idempotency records and the audit trail on MongoDB."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from adapters.epoch_micros import micros
from adapters.mongo.base import MongoRepository
from adapters.mongo.codec import decode
from adapters.mongo.query import Filter
from adapters.mongo.search import updated_since_filter
from adapters.mongo.tx import TRACKED_VERSION, Increment, Op, StagedWrite
from crm_domain.errors import DuplicateKey
from crm_domain.outbox import OutboxMessage, OutboxStats, OutboxStatus
from crm_domain.performance import Achieved, Target
from crm_domain.records import AuditEntry, IdempotencyRecord

#: The field of an outbox message that names the lease a worker holds on it.
LEASE = "lease"
#: When that lease ends, by the server's clock (a BSON date, `$$NOW` plus the lease's length at the claim).
LEASE_UNTIL = "lease_until"
#: A message no lease holds: never leased, its lease ended by a save, or run out by the server's clock.
_NOT_LEASED: Filter = {"$or": [{LEASE_UNTIL: None}, {"$expr": {"$lt": [f"${LEASE_UNTIL}", "$$NOW"]}}]}
_DUE_ORDER = [("next_attempt_at", 1), ("_id", 1)]


def _users(user_ids: frozenset[str] | None) -> Filter:
    return {} if user_ids is None else {"user_id": {"$in": sorted(user_ids)}}


class MongoTargetRepository(MongoRepository):
    collection = "targets"

    def get(self, user_id: str, period: str) -> Target | None:
        return self._get(Target, {"user_id": user_id, "period": period})

    def put(self, target: Target) -> None:
        self._save_tracked(self._doc({"user_id": target.user_id, "period": target.period}, target))

    def for_period(
        self, period: str, user_ids: frozenset[str] | None = None, *, updated_since: datetime | None = None
    ) -> list[Target]:
        query = {"period": period, **_users(user_ids), **updated_since_filter(updated_since)}
        return self._find(Target, query, [("user_id", 1)])


class MongoPerformanceRepository(MongoRepository):
    """Running totals per (user, period, currency), changed with `$inc` at commit (idempotent per commit)."""

    collection = "performance"

    def add(self, *, user_id: str, period: str, currency: str, amount: int, orders: int) -> None:
        key = {"user_id": user_id, "period": period, "currency": currency}
        self._tx.increment(Increment(collection=self.collection, id=key, amounts={"amount": amount, "orders": orders}))

    def achieved(self, period: str, user_ids: frozenset[str] | None = None) -> list[Achieved]:
        totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for doc in self._tx.db[self.collection].find({"period": period, **_users(user_ids)}):
            totals[doc["user_id"], doc["currency"]] = [doc["amount"], doc["orders"]]
        for inc in self._tx.increments:  # this unit of work's own changes
            key = inc.id
            if (
                inc.collection == self.collection
                and key["period"] == period
                and (user_ids is None or key["user_id"] in user_ids)
            ):
                total = totals[key["user_id"], key["currency"]]
                total[0] += inc.amounts["amount"]
                total[1] += inc.amounts["orders"]
        return [
            Achieved(user_id=user, period=period, currency=currency, amount=amount, orders=orders)
            for (user, currency), (amount, orders) in sorted(totals.items())
        ]


class MongoOutboxRepository(MongoRepository):
    collection = "outbox"

    def add(self, message: OutboxMessage) -> None:
        self._insert_tracked(self._doc(message.id, message))

    def add_all(self, messages: list[OutboxMessage]) -> None:
        for message in messages:  # staged: written together at commit
            self.add(message)

    def get(self, message_id: str) -> OutboxMessage | None:
        return self._get(OutboxMessage, message_id)

    def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        return self._find(OutboxMessage, _due(now), _DUE_ORDER, limit)

    def claim(self, now: datetime, limit: int, lease_until: datetime) -> list[OutboxMessage]:
        """Each message is leased by one atomic `find_one_and_update`, at once (not at commit), so two workers
        never take the same message; a lease that is never used simply runs out.

        The lease is measured by the server's clock, never a worker's: the claim (an update pipeline) sets its
        end to `$$NOW` plus the lease's length (`lease_until - now`), and a message is claimable only once that
        end is before `$$NOW` — workers whose clocks disagree by minutes still see one lease. `now` (the
        worker's time) only says which messages are due (`next_attempt_at`, the retry times that workers set),
        and `next_attempt_at` becomes `lease_until` as on every store: when a crashed worker's message is due
        again by the workers' clocks."""
        claimed: list[OutboxMessage] = []
        lease = micros(lease_until)
        length_ms = max(0, (lease - micros(now)) // 1000)
        for _ in range(limit):
            token = uuid.uuid4().hex
            doc = self._tx.db[self.collection].find_one_and_update(
                {**_due(now), **_NOT_LEASED},
                [
                    {
                        "$set": {
                            "next_attempt_at": {"$literal": lease},
                            LEASE: {"$literal": token},
                            LEASE_UNTIL: {"$add": ["$$NOW", length_ms]},
                            TRACKED_VERSION: {"$add": [{"$ifNull": [f"${TRACKED_VERSION}", 0]}, 1]},
                        }
                    }
                ],
                sort=_DUE_ORDER,
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                break
            self._tx.leases[doc["_id"]] = (token, lease)
            claimed.append(decode(OutboxMessage, doc))
        return claimed

    def save(self, message: OutboxMessage) -> None:
        """A message this process leased is saved only while the lease is still its own (another worker that
        claimed it since makes this `ConcurrentUpdate`); others conditionally on the version read. A save that
        ends the lease (delivered, dead, released or due at another time) clears its end, so the message is
        due again by `next_attempt_at` alone; a save of progress keeps the lease."""
        held = self._tx.leases.get(message.id)
        if held is None:
            self._save_tracked(self._doc(message.id, message))
            return
        token, until = held
        ended = message.status is not OutboxStatus.PENDING or micros(message.next_attempt_at) != until
        doc = self._doc(message.id, message, **{LEASE: token})
        if ended:
            doc[LEASE_UNTIL] = None
        self._tx.stage(
            StagedWrite(
                collection=self.collection,
                id=message.id,
                op=Op.CAS,
                doc=doc,
                expected=token,
                version_field=LEASE,
            )
        )
        if ended:
            self._tx.leases_ended.append(message.id)  # forgotten once this unit of work commits

    def stats(self) -> OutboxStats:
        """Committed messages only (a health figure, read without this unit of work's own writes)."""
        outbox = self._tx.db[self.collection]
        counts = {status: outbox.count_documents({"status": status.value}) for status in OutboxStatus}
        oldest = outbox.find_one({"status": OutboxStatus.PENDING.value}, sort=[("occurred_at", 1)])
        return OutboxStats(
            pending=counts[OutboxStatus.PENDING],
            dead=counts[OutboxStatus.DEAD],
            delivered=counts[OutboxStatus.DELIVERED],
            oldest_pending_at=None if oldest is None else decode(OutboxMessage, oldest).occurred_at,
        )

    def dead(self, limit: int) -> list[OutboxMessage]:
        query = {"status": OutboxStatus.DEAD.value}
        return self._find(OutboxMessage, query, [("occurred_at", 1), ("_id", 1)], limit)

    def purge_delivered(self, before: datetime, limit: int) -> int:
        """A batched delete, at once (not at commit, like `claim`): deleting a delivered message is housekeeping
        that nothing else in the unit of work depends on, and doing it again deletes nothing more."""
        outbox = self._tx.db[self.collection]
        old = {"status": OutboxStatus.DELIVERED.value, "delivered_at": {"$lt": micros(before)}}
        ids = [doc["_id"] for doc in outbox.find(old, {"_id": 1}, limit=limit)]
        if not ids:
            return 0
        return int(outbox.delete_many({**old, "_id": {"$in": ids}}).deleted_count)


def _due(now: datetime) -> Filter:
    return {"status": OutboxStatus.PENDING.value, "next_attempt_at": {"$lte": micros(now)}}


class MongoIdempotencyRepository(MongoRepository):
    """Records expire by the store's clock (`expires_us`, exact). A TTL index on `expires_at` (a BSON date: the
    record's lifetime counted from when it was written, by this machine's clock) lets the server remove them
    as housekeeping; correctness never depends on when that happens. A record is written in the same
    transaction as the result it names, so a record that can be read always has its result."""

    collection = "idempotency"

    def get(self, *, actor_id: str, operation: str, key: str) -> IdempotencyRecord | None:
        doc = self._tx.get(self.collection, _key(actor_id, operation, key))
        if doc is None:
            return None
        now = self._tx.now()
        if now is not None and doc["expires_us"] <= micros(now):
            return None
        return _record(doc)

    def add(self, record: IdempotencyRecord) -> None:
        """`DuplicateKey` while a live record has the key; an expired one is replaced."""
        if self.get(actor_id=record.actor_id, operation=record.operation, key=record.key) is not None:
            raise DuplicateKey("idempotency record", "key", record.key)
        doc = self._doc(
            _key(record.actor_id, record.operation, record.key),
            record,
            expires_us=micros(record.expires_at),
            expires_at=datetime.now(UTC) + (record.expires_at - record.created_at),
            a=record.actor_id,
            o=record.operation,
            k=record.key,
        )
        self._insert_tracked(doc)

    def purge_expired(self, now: datetime) -> int:
        """At once: removing records that have expired is right whether or not the unit of work commits."""
        return int(self._tx.db[self.collection].delete_many({"expires_us": {"$lte": micros(now)}}).deleted_count)


def _key(actor_id: str, operation: str, key: str) -> str:
    """A string `_id` (TTL deletion in mongomock cannot handle subdocument ids; a JSON array is unambiguous)."""
    return json.dumps([actor_id, operation, key], ensure_ascii=False, separators=(",", ":"))


def _record(doc: dict[str, Any]) -> IdempotencyRecord:
    return decode(IdempotencyRecord, {**doc, "expires_at": doc["expires_us"]})


class MongoAuditRepository(MongoRepository):
    collection = "audit"

    def add(self, entry: AuditEntry) -> None:
        if self._tx.get(self.collection, entry.id) is not None:
            raise DuplicateKey("audit entry", "id", entry.id)
        self._insert_tracked(self._doc(entry.id, entry))

    def list_for(self, entity: str, entity_id: str) -> list[AuditEntry]:
        return self._find(AuditEntry, {"entity": entity, "entity_id": entity_id}, [("at", 1), ("_id", 1)])
