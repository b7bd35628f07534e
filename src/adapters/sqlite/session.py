"""The transaction of one unit of work on one connection, and what the repositories share: mapping unique
constraint failures to `DuplicateKey`, and keyset pagination."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from adapters.pagination import decode_cursor, encode_cursor
from crm_domain.errors import DuplicateKey, UpstreamUnavailable, ValidationFailed
from crm_domain.ports import Clock
from crm_domain.records import Page, PageRequest
from crm_domain.seen import SeenAggregates

T = TypeVar("T")

_UNIQUE = re.compile(r"UNIQUE constraint failed: ([\w.]+)")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class SqliteSession:
    """SQL of one unit of work. A transaction is open whenever a statement runs: writers `BEGIN IMMEDIATE`
    (the write lock for the whole step), readers a deferred `BEGIN` (one consistent snapshot)."""

    def __init__(self, clock: Clock | None, *, immediate: bool, joined: bool = False) -> None:
        self.clock = clock
        self._begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        self._joined = joined  # inside a transaction someone else began and ends (a batch of writes)
        self._conn: sqlite3.Connection | None = None
        self._versions: dict[str, int] | None = None  # of this transaction's snapshot
        self.seen = SeenAggregates()  # the aggregates added or saved: their events go to the outbox at commit

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open: use it in a `with` block")
        return self._conn

    def open(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.begin()

    def detach(self) -> sqlite3.Connection:
        """End the session and hand back its connection (the caller ends any open transaction)."""
        conn = self.conn
        self._conn = None
        return conn

    def begin(self) -> None:
        conn = self.conn
        if conn.in_transaction:
            return
        if self._joined:
            # The batch's transaction ended (SQLite rolled it back): starting another here would commit this
            # step's later statements without the earlier ones.
            raise sqlite3.OperationalError("the transaction ended inside a step")
        self._versions = None
        try:
            conn.execute(self._begin)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                # Another writer held the lock for the whole busy timeout: the caller may retry later.
                raise UpstreamUnavailable("the database is busy; try again") from exc
            raise

    def commit(self) -> None:
        if self._joined:
            raise RuntimeError("a unit of work in a batch of writes is committed with the batch")
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._joined:
            raise RuntimeError("a unit of work in a batch of writes is undone by the batch")
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        conn = self.conn
        if not conn.in_transaction:  # work after commit() or rollback() starts a new transaction
            self.begin()
        return conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        self.begin()
        return self.conn.executemany(sql, rows)

    def table_version(self, table: str) -> int:
        """`table`'s version in this transaction's snapshot (`table_versions`, see read_cache.py); read once per
        transaction."""
        versions = self._versions
        if versions is None:
            rows = self.execute("SELECT name, version FROM table_versions").fetchall()
            versions = self._versions = dict(rows)
        return versions[table]

    def now(self) -> datetime | None:
        """The store clock's time, or None when the store has no clock."""
        return None if self.clock is None else self.clock.now()


def duplicate_key(exc: sqlite3.IntegrityError, keys: dict[str, tuple[str, str, str]]) -> Exception:
    """`DuplicateKey(kind, field, value)` for a unique constraint named in `keys` (by its first column,
    `table.column`), else `exc` itself."""
    match = _UNIQUE.search(str(exc))
    if match is not None and match.group(1) in keys:
        return DuplicateKey(*keys[match.group(1)])
    return exc


def keyset_page(
    session: SqliteSession,
    *,
    select: str,
    where: list[str],
    params: list[Any],
    key_columns: tuple[str, ...],
    key_types: tuple[type, ...],
    descending: bool,
    page: PageRequest,
    decode: Callable[[sqlite3.Row], T],
) -> Page[T]:
    """One page of `select` in the order of `key_columns` (which `select` must include)."""
    after = decode_cursor(page.cursor, len(key_columns))
    conditions = list(where)
    args = list(params)
    if after is not None:
        if any(type(value) is not kind for value, kind in zip(after, key_types, strict=True)) or any(
            isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX for value in after
        ):
            raise ValidationFailed("cursor is not valid", field="cursor")
        columns = ", ".join(key_columns)
        conditions.append(f"({columns}) {'<' if descending else '>'} ({marks(len(key_columns))})")
        args.extend(after)
    direction = " DESC" if descending else ""
    order = ", ".join(column + direction for column in key_columns)
    sql = select
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    sql += f" ORDER BY {order} LIMIT ?"
    args.append(page.limit + 1)
    rows = session.execute(sql, args).fetchall()
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_cursor = encode_cursor([rows[-1][column] for column in key_columns]) if more else None
    return Page(items=[decode(row) for row in rows], next_cursor=next_cursor)


def json_ids(ids: Iterable[str]) -> str:
    """A set of ids as a JSON array, for `IN (SELECT value FROM json_each(?))` (no limit on how many)."""
    return json.dumps(sorted(ids), separators=(",", ":"))


def marks(count: int) -> str:
    """`?, ?, …` for `count` parameters."""
    return ", ".join("?" * count)
