"""Targets, performance running totals, the outbox, idempotency records and the audit trail on SQLite."""

# SQL in this module is composed from its own constants only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from datetime import datetime

from adapters.sqlite import codec
from adapters.sqlite.session import SqliteSession, duplicate_key, json_ids, marks
from crm_domain.errors import DuplicateKey
from crm_domain.outbox import OutboxMessage, OutboxStats, OutboxStatus
from crm_domain.performance import Achieved, Target
from crm_domain.records import AuditEntry, IdempotencyRecord


class SqliteTargetRepository:
    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def get(self, user_id: str, period: str) -> Target | None:
        row = self._s.execute(
            f"SELECT {codec.TARGET_COLUMNS} FROM targets WHERE user_id = ? AND period = ?", (user_id, period)
        ).fetchone()
        return None if row is None else codec.target_from(row)

    def put(self, target: Target) -> None:
        self._s.execute(
            f"INSERT OR REPLACE INTO targets ({codec.TARGET_COLUMNS}) VALUES ({marks(6)})", codec.target_row(target)
        )

    def for_period(
        self, period: str, user_ids: frozenset[str] | None = None, *, updated_since: datetime | None = None
    ) -> list[Target]:
        sql = f"SELECT {codec.TARGET_COLUMNS} FROM targets WHERE period = ?"
        params: tuple[str | int, ...] = (period,)
        if user_ids is not None:
            sql += " AND user_id IN (SELECT value FROM json_each(?))"
            params += (json_ids(user_ids),)
        if updated_since is not None:  # targets_by_period_updated
            sql += " AND updated_at >= ?"
            params += (codec.micros(updated_since),)
        return [codec.target_from(row) for row in self._s.execute(sql + " ORDER BY user_id", params)]


class SqlitePerformanceRepository:
    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def add(self, *, user_id: str, period: str, currency: str, amount: int, orders: int) -> None:
        self._s.execute(
            "INSERT INTO performance (user_id, period, currency, amount, orders) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id, period, currency) DO UPDATE SET amount = amount + excluded.amount, "
            "orders = orders + excluded.orders",
            (user_id, period, currency, amount, orders),
        )

    def achieved(self, period: str, user_ids: frozenset[str] | None = None) -> list[Achieved]:
        sql = "SELECT user_id, period, currency, amount, orders FROM performance WHERE period = ?"
        params: tuple[str, ...] = (period,)
        if user_ids is not None:
            sql += " AND user_id IN (SELECT value FROM json_each(?))"
            params += (json_ids(user_ids),)
        rows = self._s.execute(sql + " ORDER BY user_id, currency", params)
        return [
            Achieved(user_id=user_id, period=period_, currency=currency, amount=amount, orders=orders)
            for user_id, period_, currency, amount, orders in rows
        ]


_OUTBOX_INSERT = f"INSERT INTO outbox ({codec.OUTBOX_COLUMNS}) VALUES ({marks(11)})"


class SqliteOutboxRepository:
    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def add(self, message: OutboxMessage) -> None:
        self.add_all([message])

    def add_all(self, messages: list[OutboxMessage]) -> None:
        try:
            self._s.executemany(_OUTBOX_INSERT, [codec.outbox_row(message) for message in messages])
        except sqlite3.IntegrityError as exc:
            ids = ", ".join(message.id for message in messages)
            raise duplicate_key(exc, {"outbox.id": ("outbox message", "id", ids)}) from exc

    def get(self, message_id: str) -> OutboxMessage | None:
        row = self._s.execute(f"SELECT {codec.OUTBOX_COLUMNS} FROM outbox WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else codec.outbox_from(row)

    def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        rows = self._s.execute(
            f"SELECT {codec.OUTBOX_COLUMNS} FROM outbox WHERE status = ? AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (OutboxStatus.PENDING.value, codec.micros(now), limit),
        )
        return [codec.outbox_from(row) for row in rows]

    def claim(self, now: datetime, limit: int, lease_until: datetime) -> list[OutboxMessage]:
        """Runs in a writer unit of work, so the select and the update hold the write lock together."""
        claimed = self.due(now, limit)
        lease = codec.micros(lease_until)
        self._s.executemany(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = ?", [(lease, message.id) for message in claimed]
        )
        for message in claimed:
            message.next_attempt_at = lease_until
        return claimed

    def save(self, message: OutboxMessage) -> None:
        self._s.execute(
            f"INSERT OR REPLACE INTO outbox ({codec.OUTBOX_COLUMNS}) VALUES ({marks(11)})", codec.outbox_row(message)
        )

    def stats(self) -> OutboxStats:
        counts = dict.fromkeys(OutboxStatus, 0)
        oldest_pending: int | None = None
        for status, count, oldest in self._s.execute(
            "SELECT status, count(*), min(occurred_at) FROM outbox GROUP BY status"
        ):
            counts[OutboxStatus(status)] = count
            if status == OutboxStatus.PENDING.value:
                oldest_pending = oldest
        return OutboxStats(
            pending=counts[OutboxStatus.PENDING],
            dead=counts[OutboxStatus.DEAD],
            delivered=counts[OutboxStatus.DELIVERED],
            oldest_pending_at=codec.instant_or_none(oldest_pending),
        )

    def dead(self, limit: int) -> list[OutboxMessage]:
        rows = self._s.execute(
            f"SELECT {codec.OUTBOX_COLUMNS} FROM outbox WHERE status = ? ORDER BY occurred_at, id LIMIT ?",
            (OutboxStatus.DEAD.value, limit),
        )
        return [codec.outbox_from(row) for row in rows]

    def purge_delivered(self, before: datetime, limit: int) -> int:
        """One bounded DELETE (the status index narrows it to delivered messages)."""
        cursor = self._s.execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = ? AND delivered_at < ? LIMIT ?)",
            (OutboxStatus.DELIVERED.value, codec.micros(before), limit),
        )
        return int(cursor.rowcount)


class SqliteIdempotencyRepository:
    """Records expire by the store's clock (if it has one): `get` ignores expired ones and `add` replaces them."""

    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def get(self, *, actor_id: str, operation: str, key: str) -> IdempotencyRecord | None:
        row = self._s.execute(
            f"SELECT {codec.IDEMPOTENCY_COLUMNS} FROM idempotency "
            "WHERE actor_id = ? AND operation = ? AND key = ? AND (?4 IS NULL OR expires_at > ?4)",
            (actor_id, operation, key, self._now()),
        ).fetchone()
        return None if row is None else codec.idempotency_from(row)

    def add(self, record: IdempotencyRecord) -> None:
        written = self._s.execute(
            f"INSERT INTO idempotency ({codec.IDEMPOTENCY_COLUMNS}) VALUES ({marks(7)}) "
            "ON CONFLICT (actor_id, operation, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
            "result_id = excluded.result_id, created_at = excluded.created_at, expires_at = excluded.expires_at "
            "WHERE idempotency.expires_at <= ?",
            (*codec.idempotency_row(record), self._now()),
        ).rowcount
        if written != 1:
            raise DuplicateKey("idempotency record", "key", record.key)

    def _now(self) -> int | None:
        now = self._s.now()
        return None if now is None else codec.micros(now)

    def purge_expired(self, now: datetime) -> int:
        return self._s.execute("DELETE FROM idempotency WHERE expires_at <= ?", (codec.micros(now),)).rowcount


class SqliteAuditRepository:
    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def add(self, entry: AuditEntry) -> None:
        try:
            self._s.execute(f"INSERT INTO audit ({codec.AUDIT_COLUMNS}) VALUES ({marks(7)})", codec.audit_row(entry))
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(exc, {"audit.id": ("audit entry", "id", entry.id)}) from exc

    def list_for(self, entity: str, entity_id: str) -> list[AuditEntry]:
        rows = self._s.execute(
            f"SELECT {codec.AUDIT_COLUMNS} FROM audit WHERE entity = ? AND entity_id = ? ORDER BY at, id",
            (entity, entity_id),
        )
        return [codec.audit_from(row) for row in rows]
