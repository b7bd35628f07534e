"""Sales buckets, held orders and the customers' ERP ledger in the embedded store (schema migration 8).

The buckets change in the unit of work's own transaction (`record_moves`, called at commit and by each step of
the loop writer's batch, inside its savepoint), so they move with the orders or not at all. Every change also
bumps the `sales` row of `report_versions`: the report cache keys on it."""
# ruff: noqa: S608 - column names and placeholders come from this module, values are parameters

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from adapters.epoch_micros import instant, micros
from adapters.sqlite.order_document import order_from
from adapters.sqlite.session import SqliteSession, json_ids
from crm_domain.money import Money
from crm_domain.orders import Order, OrderStatus
from crm_domain.reports import Dimension, LedgerEntry, LedgerKind, SalesQuery, SalesTotal
from crm_domain.sales import SalesFigures, SalesKey, SalesMove, delta_rows

_COLUMN = {Dimension.DAY: "day", Dimension.CUSTOMER: "customer_id", Dimension.REP: "rep_id", Dimension.SKU: "sku"}
_UPSERT = (
    "INSERT INTO sales_buckets (sku, day, status, customer_id, rep_id, currency, orders, quantity, net, tax, total) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sku, day, status, customer_id, rep_id, currency) DO UPDATE "
    "SET orders = orders + excluded.orders, quantity = quantity + excluded.quantity, net = net + excluded.net, "
    "tax = tax + excluded.tax, total = total + excluded.total"
)
_BUMP = "UPDATE report_versions SET version = version + 1 WHERE name = 'sales'"
_HELD = OrderStatus.ON_CREDIT_HOLD.value


def bucket_row(key: SalesKey, f: SalesFigures) -> tuple[object, ...]:
    return (
        key.sku, key.day.isoformat(), key.status.value, key.customer_id, key.rep_id, key.currency,
        f.orders, f.quantity, f.net, f.tax, f.total,
    )  # fmt: skip


class SqliteReportRepository:
    def __init__(self, session: SqliteSession, tz: ZoneInfo) -> None:
        self._s = session
        self._tz = tz

    def record_moves(self, moves: list[SalesMove]) -> None:
        rows = delta_rows(moves, self._tz)  # flat rows straight to SQL: this is on every order's commit
        if rows:
            self._s.executemany(_UPSERT, rows)
            self._s.execute(_BUMP)

    def apply(self, deltas: dict[SalesKey, SalesFigures]) -> None:
        if not deltas:
            return
        self._s.executemany(_UPSERT, [bucket_row(key, figures) for key, figures in deltas.items()])
        self._s.execute(_BUMP)

    def totals(self, query: SalesQuery) -> list[SalesTotal]:
        column = _COLUMN[query.dimension]
        where = ["day BETWEEN ? AND ?", "status IN (SELECT value FROM json_each(?))"]
        params: list[object] = [
            query.start.isoformat(),
            query.end.isoformat(),
            json_ids(s.value for s in query.statuses),
        ]
        if query.skus is not None:
            where.insert(0, "sku IN (SELECT value FROM json_each(?))")
            params.insert(0, json_ids(query.skus))
        elif query.lines:
            where.insert(0, "sku > ''")
        else:
            where.insert(0, "sku = ''")
        for name, ids in (("customer_id", query.customer_ids), ("rep_id", query.rep_ids)):
            if ids is not None:
                where.append(f"{name} IN (SELECT value FROM json_each(?))")
                params.append(json_ids(ids))
        rows = self._s.execute(
            f"SELECT {column}, currency, sum(orders), sum(quantity), sum(net), sum(tax), sum(total) "
            f"FROM sales_buckets WHERE {' AND '.join(where)} GROUP BY {column}, currency ORDER BY {column}, currency",
            params,
        )
        return [
            SalesTotal(key, currency, SalesFigures(orders=o, quantity=q, net=n, tax=t, total=tot))
            for key, currency, o, q, n, t, tot in rows
        ]

    def buckets(self) -> dict[SalesKey, SalesFigures]:
        rows = self._s.execute(
            "SELECT sku, day, status, customer_id, rep_id, currency, orders, quantity, net, tax, total "
            "FROM sales_buckets WHERE orders != 0 OR quantity != 0 OR net != 0 OR tax != 0 OR total != 0"
        )
        return {
            SalesKey(
                day=date.fromisoformat(day), status=OrderStatus(status), customer_id=customer_id, rep_id=rep_id,
                sku=sku, currency=currency,
            ): SalesFigures(orders=o, quantity=q, net=n, tax=t, total=tot)
            for sku, day, status, customer_id, rep_id, currency, o, q, n, t, tot in rows
        }  # fmt: skip

    def replace_buckets(self, buckets: dict[SalesKey, SalesFigures]) -> None:
        self._s.execute("DELETE FROM sales_buckets")
        self._s.executemany(_UPSERT, [bucket_row(key, figures) for key, figures in buckets.items()])
        self._s.execute(_BUMP)

    def version(self) -> str:
        row = self._s.execute("SELECT version FROM report_versions WHERE name = 'sales'").fetchone()
        return str(row[0] if row else 0)

    def holds(self, customer_ids: frozenset[str] | None) -> list[Order]:
        sql = "SELECT id, version, doc FROM orders WHERE status = ?"
        params: list[object] = [_HELD]
        if customer_ids is not None:
            sql += " AND customer_id IN (SELECT value FROM json_each(?))"
            params.append(json_ids(customer_ids))
        return [order_from(row) for row in self._s.execute(sql + " ORDER BY held_at, number", params)]

    def hold_counts(self, customer_ids: frozenset[str] | None) -> dict[str, int]:
        sql = "SELECT customer_id, count(*) FROM orders WHERE status = ?"
        params: list[object] = [_HELD]
        if customer_ids is not None:
            sql += " AND customer_id IN (SELECT value FROM json_each(?))"
            params.append(json_ids(customer_ids))
        return dict(self._s.execute(sql + " GROUP BY customer_id", params))

    def add_entry(self, entry: LedgerEntry) -> None:
        self._s.execute(
            "INSERT INTO ledger (id, customer_id, at, kind, reference, amount, currency) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (entry.id, entry.customer_id, micros(entry.at), entry.kind.value, entry.reference, entry.amount.minor,
             entry.amount.currency),
        )  # fmt: skip

    def entries(self, customer_id: str, until: datetime) -> list[LedgerEntry]:
        rows = self._s.execute(
            "SELECT id, customer_id, at, kind, reference, amount, currency FROM ledger "
            "WHERE customer_id = ? AND at < ? ORDER BY at, id",
            (customer_id, micros(until)),
        )
        return [
            LedgerEntry(
                id=id_, customer_id=cid, at=instant(at), kind=LedgerKind(kind), reference=ref,
                amount=Money(amount, currency),
            )
            for id_, cid, at, kind, ref, amount, currency in rows
        ]  # fmt: skip
