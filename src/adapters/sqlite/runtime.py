"""OTP challenges, sessions and rate-limit windows in the embedded SQLite file, shared by every worker process
(the embedded default of `crm serve --workers N`). Each operation is one short transaction; read-modify-write
steps take the write lock first (`BEGIN IMMEDIATE`) so they are atomic across processes."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TypeVar

from adapters.sqlite.codec import EPOCH, micros
from adapters.sqlite.rates import SqliteRates
from adapters.sqlite.store import SqliteStore
from crm_domain.ports import Clock
from crm_domain.sessions import OtpChallenge, Session

T = TypeVar("T")

_us = micros


def _at(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class _Db:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        conn = self._store.acquire()  # the tables come with the schema (migration 3)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._store.release(conn)

    def read(self, step: Callable[[sqlite3.Connection], T]) -> T:
        with self.connection() as conn:
            return step(conn)

    def write(self, step: Callable[[sqlite3.Connection], T]) -> T:
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            result = step(conn)
            conn.execute("COMMIT")
            return result


class SqliteOtpStore:
    def __init__(self, db: _Db, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def issue(self, challenge: OtpChallenge, resend_after: int) -> int:
        def step(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT issued_at, expires_at FROM rt_otp WHERE mobile = ?", (challenge.mobile,)
            ).fetchone()
            if row is not None and row["expires_at"] > _us(self._clock.now()):
                elapsed = (_us(challenge.issued_at) - int(row["issued_at"])) / 1_000_000
                if elapsed < resend_after:
                    return max(math.ceil(resend_after - elapsed), 1)
            conn.execute(
                "INSERT OR REPLACE INTO rt_otp (mobile, request_id, code_hash, issued_at, expires_at, attempts)"
                " VALUES (?, ?, ?, ?, ?, 0)",
                (
                    challenge.mobile,
                    challenge.request_id,
                    challenge.code_hash,
                    _us(challenge.issued_at),
                    _us(challenge.expires_at),
                ),
            )
            return 0

        return self._db.write(step)

    def get(self, mobile: str) -> OtpChallenge | None:
        row = self._db.read(
            lambda conn: conn.execute(
                "SELECT * FROM rt_otp WHERE mobile = ? AND expires_at > ?", (mobile, _us(self._clock.now()))
            ).fetchone()
        )
        if row is None:
            return None
        return OtpChallenge(
            mobile=row["mobile"],
            request_id=row["request_id"],
            code_hash=row["code_hash"],
            issued_at=_at(row["issued_at"]),
            expires_at=_at(row["expires_at"]),
            attempts=row["attempts"],
        )

    def add_attempt(self, mobile: str, request_id: str) -> int:
        def step(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "UPDATE rt_otp SET attempts = attempts + 1 WHERE mobile = ? AND request_id = ? RETURNING attempts",
                (mobile, request_id),
            ).fetchone()
            return 1_000_000 if row is None else int(row["attempts"])

        return self._db.write(step)

    def consume(self, mobile: str, request_id: str) -> bool:
        def step(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM rt_otp WHERE mobile = ? AND request_id = ? AND expires_at > ?",
                (mobile, request_id, _us(self._clock.now())),
            )
            return cursor.rowcount == 1

        return self._db.write(step)

    def burn(self, mobile: str, request_id: str) -> None:
        self._db.write(
            lambda conn: conn.execute("DELETE FROM rt_otp WHERE mobile = ? AND request_id = ?", (mobile, request_id))
        )

    def purge_expired(self, now: datetime) -> int:
        return self._db.write(
            lambda conn: conn.execute("DELETE FROM rt_otp WHERE expires_at <= ?", (_us(now),)).rowcount
        )


class SqliteSessionStore:
    def __init__(self, db: _Db) -> None:
        self._db = db

    def create(self, session: Session) -> None:
        self._db.write(
            lambda conn: conn.execute(
                "INSERT INTO rt_sessions (id, user_id, refresh_jti, created_at, expires_at, revoked_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session.id,
                    session.user_id,
                    session.refresh_jti,
                    _us(session.created_at),
                    _us(session.expires_at),
                    None if session.revoked_at is None else _us(session.revoked_at),
                ),
            )
        )

    def get(self, session_id: str) -> Session | None:
        row = self._db.read(
            lambda conn: conn.execute("SELECT * FROM rt_sessions WHERE id = ?", (session_id,)).fetchone()
        )
        if row is None:
            return None
        return Session(
            id=row["id"],
            user_id=row["user_id"],
            refresh_jti=row["refresh_jti"],
            created_at=_at(row["created_at"]),
            expires_at=_at(row["expires_at"]),
            revoked_at=None if row["revoked_at"] is None else _at(row["revoked_at"]),
        )

    def rotate(self, session_id: str, *, expected_jti: str, new_jti: str) -> bool:
        def step(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE rt_sessions SET refresh_jti = ? WHERE id = ? AND refresh_jti = ? AND revoked_at IS NULL",
                (new_jti, session_id, expected_jti),
            )
            return cursor.rowcount == 1

        return self._db.write(step)

    def revoke(self, session_id: str, at: datetime) -> None:
        self._db.write(
            lambda conn: conn.execute(
                "UPDATE rt_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (_us(at), session_id)
            )
        )

    def revoke_user(self, user_id: str, at: datetime) -> int:
        def step(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE rt_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", (_us(at), user_id)
            )
            return cursor.rowcount

        return self._db.write(step)

    def purge_ended(self, now: datetime) -> int:
        return self._db.write(
            lambda conn: (
                conn.execute(
                    "DELETE FROM rt_sessions WHERE revoked_at IS NOT NULL OR expires_at <= ?", (_us(now),)
                ).rowcount
            )
        )


class SqliteRateLimiter:
    """A sliding window: at most `limit` accepted hits in any `window_seconds`, counted exactly from a log of
    accepted hits, in one write transaction (atomic across processes). Refused hits are not counted.

    Rates (`throttle`, the per-request API limits) live in a file of their own beside the store (`rates`):
    one row per key, one upsert per call, never waiting behind the store's order commits."""

    def __init__(self, db: _Db, clock: Clock, rates: SqliteRates) -> None:
        self._db = db
        self._clock = clock
        self._rates = rates

    def hit(self, key: str, limit: int, window_seconds: int) -> int:
        now = _us(self._clock.now())
        start = now - window_seconds * 1_000_000

        def step(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM rt_hits WHERE key = ? AND at <= ?", (key, start))
            row = conn.execute("SELECT count(*) AS n, min(at) AS oldest FROM rt_hits WHERE key = ?", (key,)).fetchone()
            if int(row["n"]) >= limit:
                return max(math.ceil((int(row["oldest"]) - start) / 1_000_000), 1)
            conn.execute("INSERT INTO rt_hits (key, at) VALUES (?, ?)", (key, now))
            return 0

        return self._db.write(step)

    def throttle(self, key: str, rate: int, period_seconds: int) -> int:
        return self._rates.take(key, _us(self._clock.now()), rate, period_seconds)

    def reset(self, key: str) -> None:
        self._db.write(lambda conn: conn.execute("DELETE FROM rt_hits WHERE key = ?", (key,)))
        self._rates.forget(key)

    def purge(self, now: datetime, longest_window_seconds: int) -> int:
        start = _us(now) - longest_window_seconds * 1_000_000
        hits = self._db.write(lambda conn: conn.execute("DELETE FROM rt_hits WHERE at <= ?", (start,)).rowcount)
        return int(hits) + self._rates.purge(_us(now))


def sqlite_runtime(store: SqliteStore, clock: Clock) -> tuple[SqliteOtpStore, SqliteSessionStore, SqliteRateLimiter]:
    db = _Db(store)
    rates = SqliteRates(store.path.with_name(store.path.name + "-rates"), store.busy_timeout)
    return SqliteOtpStore(db, clock), SqliteSessionStore(db), SqliteRateLimiter(db, clock, rates)
