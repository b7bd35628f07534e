"""The sandbox ERP: an in-process, deterministic ERP for the embedded default, the demo and tests.

It keeps its own small SQLite file (separate from the CRM's store, as a real ERP would be), so the API, the
worker and `crm erp sandbox …` in different processes see one ERP. It numbers orders `SBX-0000001`, … in the
order it receives them, de-duplicates creates by our order id (the external reference), and is driven by hand:
dispatch, invoice, deliver, pay, set overdue days. Customers and products can be put into it so the batch sync
has something to read.

Two settings play a real ERP's bad days, for demos and drills (and the worker's reliability tests): `latency`
seconds added to each answer to an order create or cancel (after the work is done, like a slow link: the ERP has
the order before the caller hears back), and an `outage_file` whose existence makes every call of the gateway
fail with `UpstreamUnavailable`, as an unreachable ERP would (the drivers below still work).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.epoch_micros import instant, micros
from adapters.owner_only import owner_only_database
from crm_domain.erp import (
    ErpBalance,
    ErpChanges,
    ErpCustomer,
    ErpOrderAck,
    ErpOrderRequest,
    ErpOrderState,
    ErpOrderStatus,
    ErpProduct,
    ErpRejected,
)
from crm_domain.errors import Conflict, NotFound, UpstreamUnavailable
from crm_domain.money import Money
from crm_domain.ports import Clock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS erp_orders (
    erp_order_id TEXT PRIMARY KEY,
    external_ref TEXT NOT NULL UNIQUE,
    number TEXT NOT NULL,
    customer_code TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    state TEXT NOT NULL,
    invoice_number TEXT,
    created_at INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS erp_accounts (
    customer_code TEXT PRIMARY KEY,
    currency TEXT NOT NULL,
    receivables_minor INTEGER NOT NULL DEFAULT 0,
    overdue_days INTEGER NOT NULL DEFAULT 0,
    changed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS erp_customers (
    customer_code TEXT PRIMARY KEY,
    erp_customer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    mobile TEXT,
    territory TEXT NOT NULL,
    currency TEXT NOT NULL,
    active INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS erp_products (
    sku TEXT PRIMARY KEY,
    erp_material_id TEXT NOT NULL,
    name TEXT NOT NULL,
    uom TEXT NOT NULL,
    currency TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    tax_rate TEXT NOT NULL,
    active INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS erp_sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS erp_products_by_change ON erp_products (changed_at, sku);
CREATE INDEX IF NOT EXISTS erp_customers_by_change ON erp_customers (changed_at, customer_code);
"""

_NEXT_STATE = {
    ErpOrderState.DISPATCHED: ErpOrderState.OPEN,
    ErpOrderState.INVOICED: ErpOrderState.DISPATCHED,
    ErpOrderState.DELIVERED: ErpOrderState.INVOICED,
}


class SandboxErpGateway:
    """An `ErpGateway` (name `sandbox`) plus the drivers a person or a test uses to play the ERP's part."""

    name = "sandbox"

    def __init__(
        self, path: Path | None, clock: Clock, *, latency: float = 0.0, outage_file: Path | None = None
    ) -> None:
        """`path` None keeps the ERP in memory (one process only)."""
        self._clock = clock
        self._latency = latency
        self._outage_file = outage_file
        self._lock = threading.RLock()  # one connection shared by threads: reads and writes take turns
        if path is not None:
            owner_only_database(path)  # orders, customers and balances: 0600, like the CRM's own store
        self._conn = sqlite3.connect(
            ":memory:" if path is None else str(path), timeout=30.0, isolation_level=None, check_same_thread=False
        )
        if path is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def _row(self, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # --- the gateway ------------------------------------------------------------------------------------

    def _reach(self) -> None:
        if self._outage_file is not None and self._outage_file.exists():
            raise UpstreamUnavailable("the sandbox ERP is down (outage switch on)")

    def _answer(self) -> None:
        if self._latency > 0:
            time.sleep(self._latency)

    def create_order(self, order: ErpOrderRequest) -> ErpOrderAck:
        self._reach()
        try:
            return self._create_order(order)
        finally:
            self._answer()

    def _create_order(self, order: ErpOrderRequest) -> ErpOrderAck:
        if not order.lines:
            raise ErpRejected(f"order {order.number} has no lines")
        now = micros(self._clock.now())
        with self._tx() as conn:
            row = conn.execute(
                "SELECT erp_order_id FROM erp_orders WHERE external_ref = ?", (order.external_ref,)
            ).fetchone()
            if row is not None:
                return ErpOrderAck(erp_order_id=row[0], duplicate=True)
            erp_order_id = f"SBX-{self._next(conn, 'order'):07d}"
            conn.execute(
                "INSERT INTO erp_orders VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                (
                    erp_order_id,
                    order.external_ref,
                    order.number,
                    order.customer_code,
                    order.currency,
                    order.total.minor,
                    ErpOrderState.OPEN.value,
                    now,
                    now,
                ),
            )
            self._account(conn, order.customer_code, order.currency, now)
        return ErpOrderAck(erp_order_id=erp_order_id)

    def cancel_order(self, erp_order_id: str, reason: str) -> None:
        self._reach()
        try:
            self._cancel_order(erp_order_id)
        finally:
            self._answer()

    def _cancel_order(self, erp_order_id: str) -> None:
        with self._tx() as conn:
            try:
                state = self._state(conn, erp_order_id)
            except NotFound:
                raise ErpRejected(f"ERP order {erp_order_id} does not exist") from None
            if state is ErpOrderState.CANCELLED:
                return
            if state is not ErpOrderState.OPEN:
                raise ErpRejected(f"ERP order {erp_order_id} is {state.value} and can no longer be cancelled")
            conn.execute(
                "UPDATE erp_orders SET state = ?, changed_at = ? WHERE erp_order_id = ?",
                (ErpOrderState.CANCELLED.value, micros(self._clock.now()), erp_order_id),
            )

    def order_status(self, erp_order_id: str) -> ErpOrderStatus:
        self._reach()
        return self._order_status(erp_order_id)

    def _order_status(self, erp_order_id: str) -> ErpOrderStatus:
        row = self._row(
            "SELECT erp_order_id, external_ref, state, invoice_number, currency, total_minor, changed_at "
            "FROM erp_orders WHERE erp_order_id = ?",
            (erp_order_id,),
        )
        if row is None:
            raise ErpRejected(f"ERP order {erp_order_id} does not exist")
        state = ErpOrderState(row[2])
        invoiced = state in {ErpOrderState.INVOICED, ErpOrderState.DELIVERED}
        return ErpOrderStatus(
            erp_order_id=row[0],
            external_ref=row[1],
            state=state,
            invoice_number=row[3],
            invoiced_amount=Money(row[5], row[4]) if invoiced else None,
            changed_at=instant(row[6]),
        )

    def customer_balance(self, customer_code: str) -> ErpBalance:
        self._reach()
        return self._balance(customer_code)

    def _balance(self, customer_code: str) -> ErpBalance:
        row = self._row(
            "SELECT currency, receivables_minor, overdue_days, changed_at FROM erp_accounts WHERE customer_code = ?",
            (customer_code,),
        )
        if row is None:
            return ErpBalance(customer_code=customer_code, receivables=Money(0, "INR"), as_of=self._clock.now())
        return ErpBalance(
            customer_code=customer_code,
            receivables=Money(row[1], row[0]),
            overdue_days=row[2],
            as_of=instant(row[3]),
        )

    def customers_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpCustomer]:
        self._reach()
        rows = self._changed("erp_customers", "customer_code", since, cursor, limit)
        items = tuple(
            ErpCustomer(
                customer_code=r[0],
                erp_customer_id=r[1],
                name=r[2],
                mobile=r[3],
                territory=r[4],
                currency=r[5],
                active=bool(r[6]),
                changed_at=instant(r[7]),
            )
            for r in rows[:limit]
        )
        return ErpChanges(items=items, next_cursor=_cursor_after(rows, limit, 7))

    def products_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpProduct]:
        self._reach()
        rows = self._changed("erp_products", "sku", since, cursor, limit)
        items = tuple(
            ErpProduct(
                sku=r[0],
                erp_material_id=r[1],
                name=r[2],
                uom=r[3],
                unit_price=Money(r[5], r[4]),
                tax_rate=Decimal(r[6]),
                active=bool(r[7]),
                changed_at=instant(r[8]),
            )
            for r in rows[:limit]
        )
        return ErpChanges(items=items, next_cursor=_cursor_after(rows, limit, 8))

    # --- drivers ----------------------------------------------------------------------------------------

    def dispatch(self, erp_order_id: str) -> ErpOrderStatus:
        return self._advance(erp_order_id, ErpOrderState.DISPATCHED)

    def invoice(self, erp_order_id: str) -> ErpOrderStatus:
        """Invoice the whole order: its total joins the customer's receivables."""
        return self._advance(erp_order_id, ErpOrderState.INVOICED)

    def deliver(self, erp_order_id: str) -> ErpOrderStatus:
        return self._advance(erp_order_id, ErpOrderState.DELIVERED)

    def pay(self, customer_code: str, amount: Money) -> ErpBalance:
        """A payment received: receivables go down (never below zero); a fully paid account is no longer overdue."""
        if amount.minor <= 0:
            raise Conflict("a payment must be a positive amount")
        now = micros(self._clock.now())
        with self._tx() as conn:
            self._account(conn, customer_code, amount.currency, now)
            conn.execute(
                "UPDATE erp_accounts SET receivables_minor = max(receivables_minor - ?, 0), changed_at = ?, "
                "overdue_days = CASE WHEN receivables_minor - ? <= 0 THEN 0 ELSE overdue_days END "
                "WHERE customer_code = ?",
                (amount.minor, now, amount.minor, customer_code),
            )
        return self._balance(customer_code)

    def set_overdue(self, customer_code: str, days: int) -> ErpBalance:
        if days < 0:
            raise Conflict("overdue days cannot be negative")
        now = micros(self._clock.now())
        with self._tx() as conn:
            self._account(conn, customer_code, "INR", now)
            conn.execute(
                "UPDATE erp_accounts SET overdue_days = ?, changed_at = ? WHERE customer_code = ?",
                (days, now, customer_code),
            )
        return self._balance(customer_code)

    def set_balance(self, customer_code: str, receivables: Money, overdue_days: int) -> ErpBalance:
        """Set the customer's account outright: the balance an account opened before the sandbox's own history
        carries (the demo data's receivables)."""
        if receivables.minor < 0 or overdue_days < 0:
            raise Conflict("receivables and overdue days cannot be negative")
        now = micros(self._clock.now())
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO erp_accounts VALUES (?, ?, ?, ?, ?) ON CONFLICT(customer_code) DO UPDATE SET "
                "currency = excluded.currency, receivables_minor = excluded.receivables_minor, "
                "overdue_days = excluded.overdue_days, changed_at = excluded.changed_at",
                (customer_code, receivables.currency, receivables.minor, overdue_days, now),
            )
        return self._balance(customer_code)

    def find_by_external_ref(self, external_ref: str) -> ErpOrderStatus | None:
        row = self._row("SELECT erp_order_id FROM erp_orders WHERE external_ref = ?", (external_ref,))
        return None if row is None else self._order_status(row[0])

    def order_count(self, external_ref: str | None = None) -> int:
        """How many orders the ERP holds (with that external reference, when given)."""
        if external_ref is None:
            row = self._row("SELECT count(*) FROM erp_orders")
        else:
            row = self._row("SELECT count(*) FROM erp_orders WHERE external_ref = ?", (external_ref,))
        assert row is not None
        return int(row[0])

    def put_customer(self, customer: ErpCustomer) -> None:
        self.put_customers([customer])

    def put_customers(self, customers: list[ErpCustomer]) -> None:
        """Put many customers in one transaction (the demo's dealers, a large customer master for the sync)."""
        now = self._clock.now()
        rows = [
            (
                c.customer_code,
                c.erp_customer_id,
                c.name,
                c.mobile,
                c.territory,
                c.currency,
                int(c.active),
                micros(c.changed_at or now),
            )
            for c in customers
        ]
        with self._tx() as conn:
            conn.executemany("INSERT OR REPLACE INTO erp_customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def put_product(self, product: ErpProduct) -> None:
        self.put_products([product])

    def put_products(self, products: list[ErpProduct]) -> None:
        """Put many products in one transaction (seeding a large catalogue for the batch sync)."""
        now = self._clock.now()
        rows = [
            (
                p.sku,
                p.erp_material_id,
                p.name,
                p.uom,
                p.unit_price.currency,
                p.unit_price.minor,
                str(p.tax_rate),
                int(p.active),
                micros(p.changed_at or now),
            )
            for p in products
        ]
        with self._tx() as conn:
            conn.executemany("INSERT OR REPLACE INTO erp_products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    # --- helpers ----------------------------------------------------------------------------------------

    def _advance(self, erp_order_id: str, target: ErpOrderState) -> ErpOrderStatus:
        now = micros(self._clock.now())
        with self._tx() as conn:
            state = self._state(conn, erp_order_id)
            if state is target:
                return self._order_status(erp_order_id)
            if state is not _NEXT_STATE[target]:
                raise Conflict(f"ERP order {erp_order_id} is {state.value}; it cannot become {target.value}")
            if target is ErpOrderState.INVOICED:
                number = f"INV-{self._next(conn, 'invoice'):07d}"
                conn.execute("UPDATE erp_orders SET invoice_number = ? WHERE erp_order_id = ?", (number, erp_order_id))
                code, currency, total = conn.execute(
                    "SELECT customer_code, currency, total_minor FROM erp_orders WHERE erp_order_id = ?",
                    (erp_order_id,),
                ).fetchone()
                self._account(conn, code, currency, now)
                conn.execute(
                    "UPDATE erp_accounts SET receivables_minor = receivables_minor + ?, changed_at = ? "
                    "WHERE customer_code = ?",
                    (total, now, code),
                )
            conn.execute(
                "UPDATE erp_orders SET state = ?, changed_at = ? WHERE erp_order_id = ?",
                (target.value, now, erp_order_id),
            )
        return self._order_status(erp_order_id)

    @staticmethod
    def _state(conn: sqlite3.Connection, erp_order_id: str) -> ErpOrderState:
        row = conn.execute("SELECT state FROM erp_orders WHERE erp_order_id = ?", (erp_order_id,)).fetchone()
        if row is None:
            raise NotFound(f"ERP order {erp_order_id} does not exist")
        return ErpOrderState(row[0])

    @staticmethod
    def _next(conn: sqlite3.Connection, name: str) -> int:
        conn.execute(
            "INSERT INTO erp_sequence VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1", (name,)
        )
        return int(conn.execute("SELECT value FROM erp_sequence WHERE name = ?", (name,)).fetchone()[0])

    @staticmethod
    def _account(conn: sqlite3.Connection, customer_code: str, currency: str, now: int) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO erp_accounts (customer_code, currency, changed_at) VALUES (?, ?, ?)",
            (customer_code, currency, now),
        )

    def _changed(
        self, table: str, key: str, since: datetime | None, cursor: str | None, limit: int
    ) -> list[tuple[Any, ...]]:
        """Rows ordered by (changed_at, key), from `since` or after the `cursor` ("changed_at:key"), limit + 1."""
        where = "changed_at >= ?"
        params: list[object] = [micros(since) if since is not None else 0]
        if cursor:
            at, _, last = cursor.partition(":")
            where += f" AND (changed_at > ? OR (changed_at = ? AND {key} > ?))"
            params += [int(at), int(at), last]
        sql = f"SELECT * FROM {table} WHERE {where} ORDER BY changed_at, {key} LIMIT ?"  # noqa: S608 - fixed names
        return self._rows(sql, [*params, limit + 1])


def _cursor_after(rows: list[tuple[Any, ...]], limit: int, changed_at_column: int) -> str | None:
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return f"{last[changed_at_column]}:{last[0]}"
