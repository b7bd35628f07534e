"""Credit accounts with their reservations, credit-limit requests and the limit history, on SQLite."""

# SQL in this module is composed from its own constants only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import builtins
import sqlite3

from adapters.sqlite import codec
from adapters.sqlite.session import SqliteSession, duplicate_key, json_ids, keyset_page, marks
from crm_domain.credit import CreditAccount, CreditLimitRequest, LimitChange, LimitRequestStatus, Reservation
from crm_domain.errors import ConcurrentUpdate
from crm_domain.records import Page, PageRequest

_ACCOUNT_UPDATE = (
    "UPDATE credit_accounts SET currency = ?, credit_limit = ?, tolerance_pct = ?, temp_limit = ?, "
    "temp_limit_until = ?, overdue_block_days = ?, blocked = ?, block_reason = ?, receivables = ?, "
    "overdue_days = ?, version = version + 1, updated_at = ? WHERE customer_id = ? AND version = ?"
)
_RESERVATION_UPSERT = (
    "INSERT INTO credit_reservations (customer_id, order_id, amount, stage, by_release, at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (customer_id, order_id) DO UPDATE SET amount = excluded.amount, stage = excluded.stage, "
    "by_release = excluded.by_release, at = excluded.at"
)


class SqliteCreditAccountRepository:
    """One row per account plus one row per reservation. A save writes only the reservations that changed
    since the version it read (the optimistic version check makes that base reliable)."""

    def __init__(self, session: SqliteSession) -> None:
        self._s = session
        # customer_id -> (version, reservations) as last read or written by this unit of work
        self._seen: dict[str, tuple[int, dict[str, Reservation]]] = {}

    def forget(self) -> None:
        """Drop what was seen (after a rollback it may no longer be what is stored)."""
        self._seen.clear()

    def get(self, customer_id: str) -> CreditAccount | None:
        row = self._s.execute(
            f"SELECT {codec.ACCOUNT_COLUMNS} FROM credit_accounts WHERE customer_id = ?", (customer_id,)
        ).fetchone()
        if row is None:
            return None
        account = codec.account_from(row, self._reservations(customer_id))
        self._seen[customer_id] = (account.version, dict(account.reservations))
        return account

    def _reservations(self, customer_id: str) -> dict[str, Reservation]:
        rows = self._s.execute(
            f"SELECT {codec.RESERVATION_COLUMNS} FROM credit_reservations WHERE customer_id = ? ORDER BY order_id",
            (customer_id,),
        )
        return {row["order_id"]: codec.reservation_from(row) for row in rows}

    def add(self, account: CreditAccount) -> None:
        try:
            self._s.execute(
                f"INSERT INTO credit_accounts ({codec.ACCOUNT_COLUMNS}) VALUES ({marks(13)})",
                codec.account_row(account),
            )
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(
                exc, {"credit_accounts.customer_id": ("credit account", "customer_id", account.customer_id)}
            ) from exc
        self._s.executemany(
            _RESERVATION_UPSERT,
            [codec.reservation_row(account.customer_id, r) for r in account.reservations.values()],
        )
        self._seen[account.customer_id] = (account.version, dict(account.reservations))

    def save(self, account: CreditAccount) -> None:
        customer_id, version = account.customer_id, account.version
        row = codec.account_row(account)
        changed = self._s.execute(_ACCOUNT_UPDATE, (*row[1:11], row[12], customer_id, version)).rowcount
        if changed != 1:
            raise ConcurrentUpdate("credit account", customer_id)
        seen = self._seen.get(customer_id)
        stored = seen[1] if seen is not None and seen[0] == version else self._reservations(customer_id)
        current = account.reservations
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
        self._seen[customer_id] = (account.version, dict(current))

    def list_all(self) -> builtins.list[CreditAccount]:
        reservations: dict[str, dict[str, Reservation]] = {}
        for row in self._s.execute(
            f"SELECT customer_id, {codec.RESERVATION_COLUMNS} FROM credit_reservations ORDER BY customer_id, order_id"
        ):
            reservations.setdefault(row["customer_id"], {})[row["order_id"]] = codec.reservation_from(row)
        rows = self._s.execute(f"SELECT {codec.ACCOUNT_COLUMNS} FROM credit_accounts ORDER BY customer_id")
        return [codec.account_from(row, reservations.get(row["customer_id"], {})) for row in rows]


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
                f"INSERT INTO limit_requests ({codec.LIMIT_REQUEST_COLUMNS}) VALUES ({marks(13)})",
                codec.limit_request_row(request),
            )
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(exc, {"limit_requests.id": ("credit-limit request", "id", request.id)}) from exc

    def save(self, request: CreditLimitRequest) -> None:
        self._s.execute(
            f"INSERT OR REPLACE INTO limit_requests ({codec.LIMIT_REQUEST_COLUMNS}) VALUES ({marks(13)})",
            codec.limit_request_row(request),
        )

    def list(
        self,
        page: PageRequest,
        *,
        status: LimitRequestStatus | None = None,
        customer_ids: frozenset[str] | None = None,
    ) -> Page[CreditLimitRequest]:
        where: builtins.list[str] = []
        params: builtins.list[object] = []
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

    def list_for(self, customer_id: str) -> builtins.list[LimitChange]:
        rows = self._s.execute(
            f"SELECT {codec.LIMIT_CHANGE_COLUMNS} FROM limit_history WHERE customer_id = ? ORDER BY at, id",
            (customer_id,),
        )
        return [codec.limit_change_from(row) for row in rows]
