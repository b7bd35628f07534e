"""Credit accounts with their reservations, credit-limit requests and the limit history, on SQLite."""

# SQL in this module is composed from its own constants only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from adapters.sqlite import codec
from adapters.sqlite.session import SqliteSession, duplicate_key, json_ids, keyset_page, marks
from crm_domain.credit import CreditAccount, LimitChange, Reservation
from crm_domain.credit_governance import CreditLimitRequest, LimitRequestStatus
from crm_domain.errors import ConcurrentUpdate
from crm_domain.records import Page, PageRequest

#: The columns a save writes: everything but the key and the version (which the update moves on itself).
_ACCOUNT_TERMS = tuple(column for column in codec.ACCOUNT_FIELDS if column not in ("customer_id", "version"))
_ACCOUNT_UPDATE = (
    "UPDATE credit_accounts SET "
    + ", ".join(f"{column} = ?" for column in _ACCOUNT_TERMS)
    + ", version = version + 1 WHERE customer_id = ? AND version = ?"
)
_RESERVATIONS = f"SELECT {codec.RESERVATION_COLUMNS} FROM credit_reservations WHERE customer_id = ?"
_RESERVATION_UPSERT = (
    "INSERT INTO credit_reservations (customer_id, order_id, amount, stage, by_release, at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (customer_id, order_id) DO UPDATE SET amount = excluded.amount, stage = excluded.stage, "
    "by_release = excluded.by_release, at = excluded.at"
)


class _Seen(NamedTuple):
    """An account's reservations as this unit of work last read or wrote them."""

    version: int
    reservations: dict[str, Reservation]
    loaded: frozenset[str] | None  # the orders whose reservations these are; None: every order

    def of(self, version: int, loaded: frozenset[str] | None) -> dict[str, Reservation] | None:
        """The stored reservations of the `loaded` orders (None: all) at `version`, when this covers them."""
        if version != self.version:
            return None
        if loaded is None:
            return self.reservations if self.loaded is None else None
        if self.loaded is not None and not loaded <= self.loaded:
            return None
        return {order_id: r for order_id in loaded if (r := self.reservations.get(order_id)) is not None}


class SqliteCreditAccountRepository:
    """One row per account, with running totals of its reservations by stage, plus one row per reservation.
    A read for some orders (a submit) reads those orders' reservations only. A save writes only the
    reservations that changed since the version it read (the optimistic version check makes that base
    reliable), among the orders the account was read with."""

    def __init__(self, session: SqliteSession) -> None:
        self._s = session
        # customer_id -> the reservations as last read or written by this unit of work
        self._seen: dict[str, _Seen] = {}

    def forget(self) -> None:
        """Drop what was seen (after a rollback it may no longer be what is stored)."""
        self._seen.clear()

    def get(self, customer_id: str, *, orders: Iterable[str] | None = None) -> CreditAccount | None:
        row = self._s.execute(
            f"SELECT {codec.ACCOUNT_COLUMNS} FROM credit_accounts WHERE customer_id = ?", (customer_id,)
        ).fetchone()
        if row is None:
            return None
        loaded = None if orders is None else frozenset(orders)
        reservations = self._reservations(customer_id, loaded)
        account = codec.account_from(row, reservations, loaded)
        self._seen[customer_id] = _Seen(account.version, dict(reservations), loaded)
        return account

    def _reservations(self, customer_id: str, loaded: frozenset[str] | None) -> dict[str, Reservation]:
        """The stored reservations of the `loaded` orders (None: every order) of `customer_id`."""
        if loaded is None:
            rows = self._s.execute(_RESERVATIONS + " ORDER BY order_id", (customer_id,))
        elif not loaded:
            return {}
        elif len(loaded) == 1:
            (order_id,) = loaded
            rows = self._s.execute(_RESERVATIONS + " AND order_id = ?", (customer_id, order_id))
        else:
            rows = self._s.execute(
                _RESERVATIONS + " AND order_id IN (SELECT value FROM json_each(?)) ORDER BY order_id",
                (customer_id, json_ids(loaded)),
            )
        return {row["order_id"]: codec.reservation_from(row) for row in rows}

    def add(self, account: CreditAccount) -> None:
        values = codec.account_row(account)
        try:
            self._s.execute(
                f"INSERT INTO credit_accounts ({codec.ACCOUNT_COLUMNS}) VALUES ({marks(len(codec.ACCOUNT_FIELDS))})",
                [values[column] for column in codec.ACCOUNT_FIELDS],
            )
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(
                exc, {"credit_accounts.customer_id": ("credit account", "customer_id", account.customer_id)}
            ) from exc
        self._s.executemany(
            _RESERVATION_UPSERT,
            [codec.reservation_row(account.customer_id, r) for r in account.reservations.values()],
        )
        self._seen[account.customer_id] = _Seen(account.version, dict(account.reservations), account.loaded)
        self._s.seen.note(account)

    def save(self, account: CreditAccount) -> None:
        customer_id, version, loaded = account.customer_id, account.version, account.loaded
        account.check_within_loaded()
        current = account.reservations
        values = codec.account_row(account)
        terms = [values[column] for column in _ACCOUNT_TERMS]
        if self._s.execute(_ACCOUNT_UPDATE, (*terms, customer_id, version)).rowcount != 1:
            raise ConcurrentUpdate("credit account", customer_id)
        seen = self._seen.get(customer_id)
        stored = seen.of(version, loaded) if seen is not None else None
        if stored is None:
            stored = self._reservations(customer_id, loaded)
        gone = [(customer_id, order_id) for order_id in stored if order_id not in current]
        if gone:
            self._s.executemany("DELETE FROM credit_reservations WHERE customer_id = ? AND order_id = ?", gone)
        fresh = [
            codec.reservation_row(customer_id, reservation)
            for order_id, reservation in current.items()
            if stored.get(order_id) != reservation
        ]
        if fresh:
            self._s.executemany(_RESERVATION_UPSERT, fresh)
        account.version = version + 1
        self._seen[customer_id] = _Seen(account.version, dict(current), loaded)
        self._s.seen.note(account)

    def list_all(self) -> list[CreditAccount]:
        reservations: dict[str, dict[str, Reservation]] = {}
        for row in self._s.execute(
            f"SELECT customer_id, {codec.RESERVATION_COLUMNS} FROM credit_reservations ORDER BY customer_id, order_id"
        ):
            reservations.setdefault(row["customer_id"], {})[row["order_id"]] = codec.reservation_from(row)
        rows = self._s.execute(f"SELECT {codec.ACCOUNT_COLUMNS} FROM credit_accounts ORDER BY customer_id")
        return [codec.account_from(row, reservations.get(row["customer_id"], {})) for row in rows]


_REQUEST_MARKS = marks(codec.LIMIT_REQUEST_FIELDS)
_UPDATED_AT = "COALESCE(decided_at, requested_at)"  # CreditLimitRequest.updated_at; indexed (migration 11)


class SqliteCreditLimitRequestRepository:
    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def get(self, request_id: str) -> CreditLimitRequest | None:
        row = self._s.execute(
            f"SELECT {codec.LIMIT_REQUEST_COLUMNS} FROM limit_requests WHERE id = ?", (request_id,)
        ).fetchone()
        return None if row is None else codec.limit_request_from(row)

    def add(self, request: CreditLimitRequest) -> None:
        try:
            self._s.execute(
                f"INSERT INTO limit_requests ({codec.LIMIT_REQUEST_COLUMNS}) VALUES ({_REQUEST_MARKS})",
                codec.limit_request_row(request),
            )
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(exc, {"limit_requests.id": ("credit-limit request", "id", request.id)}) from exc

    def save(self, request: CreditLimitRequest) -> None:
        self._s.execute(
            f"INSERT OR REPLACE INTO limit_requests ({codec.LIMIT_REQUEST_COLUMNS}) VALUES ({_REQUEST_MARKS})",
            codec.limit_request_row(request),
        )

    def page(
        self,
        page: PageRequest,
        *,
        status: LimitRequestStatus | None = None,
        customer_ids: frozenset[str] | None = None,
        updated_since: datetime | None = None,
    ) -> Page[CreditLimitRequest]:
        where: list[str] = []
        params: list[object] = []
        if updated_since is not None:
            # limit_requests_by_updated (the same expression). A delta is expected to be a few rows: `unlikely`
            # tells the planner so, else it walks the newest-first index to spare the sort and reads every row.
            where.append(f"unlikely({_UPDATED_AT} >= ?)")
            params.append(codec.micros(updated_since))
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if customer_ids is not None:
            where.append("customer_id IN (SELECT value FROM json_each(?))")
            params.append(json_ids(customer_ids))
        return keyset_page(
            self._s,
            select=f"SELECT {codec.LIMIT_REQUEST_COLUMNS} FROM limit_requests",
            where=where,
            params=params,
            key_columns=("requested_at", "id"),
            key_types=(int, str),
            descending=True,
            page=page,
            decode=codec.limit_request_from,
        )


class SqliteLimitHistoryRepository:
    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def add(self, change: LimitChange) -> None:
        try:
            self._s.execute(
                f"INSERT INTO limit_history ({codec.LIMIT_CHANGE_COLUMNS}) VALUES ({marks(9)})",
                codec.limit_change_row(change),
            )
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(exc, {"limit_history.id": ("limit change", "id", change.id)}) from exc

    def list_for(self, customer_id: str) -> list[LimitChange]:
        rows = self._s.execute(
            f"SELECT {codec.LIMIT_CHANGE_COLUMNS} FROM limit_history WHERE customer_id = ? ORDER BY at, id",
            (customer_id,),
        )
        return [codec.limit_change_from(row) for row in rows]
