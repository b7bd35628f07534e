"""Sales buckets, held orders and the customers' ERP ledger in the embedded store (schema migrations 10 and 12).

The buckets change in the unit of work's own transaction (`record_moves`, called at commit and by each step of
the loop writer's batch, inside its savepoint), so they move with the orders or not at all. Every change also
bumps the `sales` row of `report_versions`: the report cache keys on it.

Triggers keep a monthly roll-up of the per-line buckets without customer and rep (`sales_sku_months`) in the
same transaction; a sales report by product for every customer reads its whole months from there and only the
partial months at either end from the daily buckets. Scoped or rep-filtered reports need the customer or rep
and read the daily buckets through their indexes."""
# ruff: noqa: S608 - column names and placeholders come from this module, values are parameters

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import msgspec

from adapters.epoch_micros import instant, micros
from adapters.sqlite.session import SqliteSession, json_ids
from crm_domain.money import Money
from crm_domain.orders import OrderStatus
from crm_domain.reports import Dimension, HeldOrder, LedgerEntry, LedgerKind, SalesQuery, SalesTotal
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


@attrs.frozen
class RollUp:
    """A monthly roll-up of the buckets (migration 12): its table, its key besides the month, and which buckets
    it sums (per line, or whole orders)."""

    table: str
    keys: tuple[str, ...]
    lines: bool
    monthly: bool = True  # else daily: it answers any range of days


SKU_MONTHS = RollUp("sales_sku_months", ("status", "sku", "currency"), lines=True)
CUSTOMER_MONTHS = RollUp("sales_customer_months", ("customer_id", "status", "rep_id", "currency"), lines=False)
DAYS = RollUp("sales_days", ("status", "currency"), lines=False, monthly=False)
ROLL_UPS = (SKU_MONTHS, CUSTOMER_MONTHS, DAYS)


def roll_up_for(query: SalesQuery) -> RollUp | None:
    """The roll-up that can answer `query` (a monthly one: its whole months), if one can: by product for every
    customer and rep (its key has neither); whole orders by customer or rep with any customer or rep filter; whole
    orders by day for every customer and rep."""
    everyone = query.customer_ids is None and query.rep_ids is None
    if query.dimension is Dimension.SKU:
        return SKU_MONTHS if everyone else None
    if query.lines or query.skus is not None:
        return None
    if query.dimension in (Dimension.CUSTOMER, Dimension.REP):
        return CUSTOMER_MONTHS
    return DAYS if query.dimension is Dimension.DAY and everyone else None


def whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The first day of the first and the last day of the last calendar month that lie wholly within `start` to
    `end` (inclusive), or None when no month does."""
    first = start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    after = end + timedelta(days=1)
    last = end if after.day == 1 else end.replace(day=1) - timedelta(days=1)
    return (first, last) if first <= last else None


def merge(parts: list[list[SalesTotal]]) -> list[SalesTotal]:
    """Sum totals of the same key and currency from several reads, in key order."""
    sums: dict[tuple[str, str], SalesFigures] = {}
    for part in parts:
        for t in part:
            known = sums.get((t.key, t.currency))
            sums[t.key, t.currency] = t.figures if known is None else known + t.figures
    return [SalesTotal(key, currency, figures) for (key, currency), figures in sorted(sums.items())]


def _lines(query: SalesQuery) -> tuple[list[str], list[object]]:
    """The condition on `sku`: the SKUs asked for, every line, or the whole-order buckets."""
    if query.skus is not None:
        return ["sku IN (SELECT value FROM json_each(?))"], [json_ids(query.skus)]
    return (["sku > ''"] if query.lines else ["sku = ''"]), []


def _totals(rows: Iterable[tuple[str, str, int, int, int, int, int]]) -> list[SalesTotal]:
    return [
        SalesTotal(key, currency, SalesFigures(orders=o, quantity=q, net=n, tax=t, total=tot))
        for key, currency, o, q, n, t, tot in rows
    ]


class _Line(msgspec.Struct):
    total: tuple[int, str]


class _Credit(msgspec.Struct):
    reason: str | None
    shortfall: tuple[int, str]


class _Held(msgspec.Struct):
    """The parts of an order's document the holds report shows; the rest is skipped unread."""

    currency: str
    lines: list[_Line]
    credit: _Credit | None = None


_held_doc = msgspec.json.Decoder(_Held).decode


def held_order(order_id: str, number: str, customer_id: str, held_at: int, doc: str) -> HeldOrder:
    held = _held_doc(doc)
    credit = held.credit
    return HeldOrder(
        order_id=order_id,
        number=number,
        customer_id=customer_id,
        total=Money(sum(line.total[0] for line in held.lines), held.currency),
        shortfall=None if credit is None else Money(*credit.shortfall),
        reason=None if credit is None else credit.reason,
        held_at=instant(held_at),
    )


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
        roll_up = roll_up_for(query)
        if roll_up is not None and not roll_up.monthly:
            where = ["day BETWEEN ? AND ?"]
            return self._select(roll_up.table, query, where, [query.start.isoformat(), query.end.isoformat()])
        months = whole_months(query.start, query.end) if roll_up is not None else None
        if roll_up is None or months is None:
            return self._sum(query)
        first, last = months
        parts = [self._sum_months(roll_up, query, first, last)]
        if query.start < first:
            parts.append(self._sum(attrs.evolve(query, end=first - timedelta(days=1))))
        if last < query.end:
            parts.append(self._sum(attrs.evolve(query, start=last + timedelta(days=1))))
        return parts[0] if len(parts) == 1 else merge(parts)

    def _sum(self, query: SalesQuery) -> list[SalesTotal]:
        """The daily buckets summed by the query's dimension."""
        where, params = _lines(query)
        return self._select(
            "sales_buckets", query, ["day BETWEEN ? AND ?", *where], [query.start.isoformat(), query.end.isoformat(),
            *params],
        )  # fmt: skip

    def _sum_months(self, roll_up: RollUp, query: SalesQuery, first: date, last: date) -> list[SalesTotal]:
        """`roll_up` from the month of `first` to that of `last`, summed by the query's dimension."""
        where: list[str] = ["month BETWEEN ? AND ?"]
        params: list[object] = [first.isoformat()[:7], last.isoformat()[:7]]
        if roll_up.lines:
            sku, sku_params = _lines(query)
            where += sku
            params += sku_params
        return self._select(roll_up.table, query, where, params)

    def _select(self, table: str, query: SalesQuery, where: list[str], params: list[object]) -> list[SalesTotal]:
        column = _COLUMN[query.dimension]
        where = [*where, "status IN (SELECT value FROM json_each(?))"]
        params = [*params, json_ids(s.value for s in query.statuses)]
        for name, ids in (("customer_id", query.customer_ids), ("rep_id", query.rep_ids)):
            if ids is not None:
                where.append(f"{name} IN (SELECT value FROM json_each(?))")
                params.append(json_ids(ids))
        return _totals(
            self._s.execute(
                f"SELECT {column}, currency, sum(orders), sum(quantity), sum(net), sum(tax), sum(total) "
                f"FROM {table} WHERE {' AND '.join(where)} GROUP BY {column}, currency ORDER BY {column}, currency",
                params,
            )
        )

    def summary_differences(self) -> int:
        """Roll-up rows that differ from the sums of the daily buckets they summarise (0 when in agreement)."""
        return sum(self._roll_up_differences(roll_up) for roll_up in ROLL_UPS)

    def _roll_up_differences(self, roll_up: RollUp) -> int:
        keys = ", ".join(roll_up.keys)
        which = "sku > ''" if roll_up.lines else "sku = ''"
        period, of_day = ("month", "substr(day, 1, 7)") if roll_up.monthly else ("day", "day")
        sums = (
            f"SELECT {of_day} AS {period}, {keys}, sum(orders), sum(quantity), sum(net), sum(tax), sum(total) "
            f"FROM sales_buckets WHERE {which} GROUP BY {of_day}, {keys}"
        )
        rolled = f"SELECT {period}, {keys}, orders, quantity, net, tax, total FROM {roll_up.table}"
        key = f"SELECT {period}, {keys} FROM"
        row = self._s.execute(
            f"SELECT count(*) FROM ({key} ({sums} EXCEPT {rolled}) UNION {key} ({rolled} EXCEPT {sums}))"
        ).fetchone()
        return int(row[0])

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
        for roll_up in ROLL_UPS:
            self._s.execute(f"DELETE FROM {roll_up.table}")  # the triggers fill them again from the inserts
        self._s.executemany(_UPSERT, [bucket_row(key, figures) for key, figures in buckets.items()])
        self._s.execute(_BUMP)

    def version(self) -> str:
        row = self._s.execute("SELECT version FROM report_versions WHERE name = 'sales'").fetchone()
        return str(row[0] if row else 0)

    def holds(self, customer_ids: frozenset[str] | None) -> list[HeldOrder]:
        columns = "id, number, customer_id, coalesce(held_at, created_at), doc"
        order = " ORDER BY coalesce(held_at, created_at), number"
        if customer_ids is None:  # every held order, read in its order from the partial index (migration 12)
            sql = f"SELECT {columns} FROM orders INDEXED BY orders_on_hold WHERE status = '{_HELD}'{order}"
            return [held_order(*row) for row in self._s.execute(sql)]
        sql = f"SELECT {columns} FROM orders WHERE status = ? AND customer_id IN (SELECT value FROM json_each(?))"
        return [held_order(*row) for row in self._s.execute(sql + order, (_HELD, json_ids(customer_ids)))]

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
