"""Orders on SQLite: one JSON document per order, with the columns that lists and lookups filter on."""

# SQL in this module is composed from its own constants only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from typing import Any

from adapters.sqlite import codec
from adapters.sqlite.order_document import order_from, order_row
from adapters.sqlite.session import SqliteSession, duplicate_key, json_ids, keyset_page, marks
from crm_domain.errors import ConcurrentUpdate
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import Page, PageRequest

_COLUMNS = "id, number, customer_id, status, rep_id, created_at, held_at, version, doc"
_SELECT = "SELECT id, version, doc, created_at FROM orders"
_UPDATE = (
    "UPDATE orders SET number = ?, customer_id = ?, status = ?, rep_id = ?, created_at = ?, held_at = ?, "
    "version = version + 1, doc = ? WHERE id = ? AND version = ?"
)
_NEXT = (
    "INSERT INTO sequences (name, value) VALUES (?, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
)


class SqliteOrderRepository:
    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def get(self, order_id: str) -> Order | None:
        row = self._s.execute(f"{_SELECT} WHERE id = ?", (order_id,)).fetchone()
        return None if row is None else order_from(row)

    def get_by_number(self, number: str) -> Order | None:
        row = self._s.execute(f"{_SELECT} WHERE number = ?", (number,)).fetchone()
        return None if row is None else order_from(row)

    def add(self, order: Order) -> None:
        try:
            self._s.execute(f"INSERT INTO orders ({_COLUMNS}) VALUES ({marks(9)})", order_row(order))
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(
                exc, {"orders.id": ("order", "id", order.id), "orders.number": ("order", "number", order.number)}
            ) from exc
        self._s.seen.note(order)

    def save(self, order: Order) -> None:
        id_, number, customer_id, status, rep_id, created_at, held_at, version, doc = order_row(order)
        try:
            changed = self._s.execute(
                _UPDATE, (number, customer_id, status, rep_id, created_at, held_at, doc, id_, version)
            ).rowcount
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(exc, {"orders.number": ("order", "number", order.number)}) from exc
        if changed != 1:
            raise ConcurrentUpdate("order", order.id)
        order.version = version + 1
        self._s.seen.note(order)

    def page(self, page: PageRequest, query: OrderQuery) -> Page[Order]:
        where: list[str] = []
        params: list[Any] = []
        if query.customer_ids is not None:
            where.append("customer_id IN (SELECT value FROM json_each(?))")
            params.append(json_ids(query.customer_ids))
        if query.status is not None:
            where.append("status = ?")
            params.append(query.status.value)
        if query.customer_id is not None:
            where.append("customer_id = ?")
            params.append(query.customer_id)
        if query.rep_id is not None:
            where.append("rep_id = ?")
            params.append(query.rep_id)
        if query.created_from is not None:
            where.append("created_at >= ?")
            params.append(codec.micros(query.created_from))
        if query.created_to is not None:
            where.append("created_at < ?")
            params.append(codec.micros(query.created_to))
        if query.updated_since is not None:
            where.append("json_extract(doc, '$.updated_at') >= ?")  # indexed (schema migration 10)
            params.append(codec.micros(query.updated_since))
        return keyset_page(
            self._s,
            select=_SELECT,
            where=where,
            params=params,
            key_columns=("created_at", "id"),
            key_types=(int, str),
            descending=True,
            page=page,
            decode=order_from,
        )

    def held_for_customer(self, customer_id: str) -> list[Order]:
        rows = self._s.execute(
            f"{_SELECT} WHERE customer_id = ? AND status = ? ORDER BY coalesce(held_at, created_at), number",
            (customer_id, OrderStatus.ON_CREDIT_HOLD.value),
        )
        return [order_from(row) for row in rows]

    def with_status(self, customer_id: str, statuses: frozenset[OrderStatus]) -> list[Order]:
        rows = self._s.execute(
            f"{_SELECT} WHERE customer_id = ? AND status IN (SELECT value FROM json_each(?)) "
            "ORDER BY created_at, number",
            (customer_id, json_ids(s.value for s in statuses)),
        )
        return [order_from(row) for row in rows]

    def next_number(self, year: int) -> int:
        (value,) = self._s.execute(_NEXT, (f"order:{year}",)).fetchall()[0]
        return int(value)
