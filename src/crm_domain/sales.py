"""Sales aggregates: daily buckets that every order change moves, so reports never scan orders (SPEC §2.8).

An order that left `draft` contributes to two kinds of bucket of the day it was submitted (or put on hold, when
it never was) in the company time zone, under its current status: one whole-order bucket
(`sku == ""`: orders 1, the quantity of all its lines, net, tax and total) and one bucket per line (`sku` set).
A change of status, day or rep takes its contribution out of the old buckets and adds it to the new ones — in the
same atomic step as the change itself (the stores apply `sales_deltas` at commit, next to the outbox).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs

from crm_domain.orders import Order, OrderStatus

ORDER_LEVEL = ""  # the `sku` of a whole-order bucket
_MILLI = Decimal(1000)


@attrs.frozen(kw_only=True)
class SalesKey:
    """One bucket: a day in the company time zone, a status, a customer, a rep ("" for none), a SKU ("" for the
    whole order) and a currency."""

    day: date
    status: OrderStatus
    customer_id: str
    rep_id: str
    sku: str
    currency: str


@attrs.frozen(kw_only=True)
class SalesFigures:
    """What a bucket holds: orders, quantity in thousandths, and net / tax / total in minor units."""

    orders: int = 0
    quantity: int = 0
    net: int = 0
    tax: int = 0
    total: int = 0

    def __add__(self, other: SalesFigures) -> SalesFigures:
        return SalesFigures(
            orders=self.orders + other.orders,
            quantity=self.quantity + other.quantity,
            net=self.net + other.net,
            tax=self.tax + other.tax,
            total=self.total + other.total,
        )

    def __neg__(self) -> SalesFigures:
        return SalesFigures(
            orders=-self.orders, quantity=-self.quantity, net=-self.net, tax=-self.tax, total=-self.total
        )

    @property
    def is_zero(self) -> bool:
        return not (self.orders or self.quantity or self.net or self.tax or self.total)

    @property
    def quantity_decimal(self) -> Decimal:
        return Decimal(self.quantity) / _MILLI


ZERO = SalesFigures()


@attrs.frozen(kw_only=True)
class SalesState:
    """What decides an order's buckets besides its lines: status, the moment that dates it, and its rep."""

    status: OrderStatus
    at: datetime | None
    rep_id: str | None

    @classmethod
    def of(cls, order: Order) -> SalesState:
        return cls(status=order.status, at=order.submitted_at or order.held_at, rep_id=order.rep_id)


@attrs.frozen
class SalesMove:
    """An order changed from `before` to its present state within one unit of work."""

    order: Order
    before: SalesState


def milli(quantity: Decimal) -> int:
    return int(quantity * _MILLI)


def contributions(order: Order, state: SalesState, tz: ZoneInfo) -> dict[SalesKey, SalesFigures]:
    """The buckets `order` adds to in `state` (none for a draft, or an order never submitted)."""
    if state.status is OrderStatus.DRAFT or state.at is None:
        return {}
    day = state.at.astimezone(tz).date()

    def key(sku: str) -> SalesKey:
        return SalesKey(
            day=day,
            status=state.status,
            customer_id=order.customer_id,
            rep_id=state.rep_id or "",
            sku=sku,
            currency=order.currency,
        )

    out: dict[SalesKey, SalesFigures] = {}
    whole = ZERO
    for line in order.lines:
        figures = SalesFigures(
            orders=1, quantity=milli(line.quantity), net=line.net.minor, tax=line.tax.minor, total=line.total.minor
        )
        out[key(line.sku)] = figures
        whole = whole + attrs.evolve(figures, orders=0)
    out[key(ORDER_LEVEL)] = attrs.evolve(whole, orders=1)
    return out


#: A bucket as a flat row: (sku, day ISO, status, customer, rep, currency, orders, quantity, net, tax, total).
BucketRow = tuple[str, str, str, str, str, str, int, int, int, int, int]


def delta_rows(moves: Iterable[SalesMove], tz: ZoneInfo) -> list[BucketRow]:
    """`sales_deltas` as flat rows, computed without building objects: this runs in every order's commit."""
    acc: dict[tuple[str, str, str, str, str, str], list[int]] = {}

    def add(key: tuple[str, str, str, str, str, str], sign: int, q: int, net: int, tax: int, total: int) -> None:
        figures = acc.get(key)
        if figures is None:
            acc[key] = [sign, sign * q, sign * net, sign * tax, sign * total]
        else:
            figures[0] += sign
            figures[1] += sign * q
            figures[2] += sign * net
            figures[3] += sign * tax
            figures[4] += sign * total

    for move in moves:
        order, before = move.order, move.before
        states = (
            (-1, before.status, before.at, before.rep_id),
            (1, order.status, order.submitted_at or order.held_at, order.rep_id),
        )
        for sign, status, at, rep_id in states:
            if status is OrderStatus.DRAFT or at is None:
                continue
            head = (at.astimezone(tz).date().isoformat(), status.value, order.customer_id, rep_id or "", order.currency)
            quantity = net = tax = total = 0
            for line in order.lines:
                q = milli(line.quantity)
                add((line.sku, *head), sign, q, line.net.minor, line.tax.minor, line.total.minor)
                quantity += q
                net += line.net.minor
                tax += line.tax.minor
                total += line.total.minor
            add((ORDER_LEVEL, *head), sign, quantity, net, tax, total)
    return [(*key, *figures) for key, figures in acc.items() if any(figures)]  # type: ignore[misc]


def sales_deltas(moves: Iterable[SalesMove], tz: ZoneInfo) -> dict[SalesKey, SalesFigures]:
    """What the buckets change by for `moves`; buckets that do not change are left out."""
    return dict(bucket_of(row) for row in delta_rows(moves, tz))


def bucket_of(row: BucketRow) -> tuple[SalesKey, SalesFigures]:
    sku, day, status, customer_id, rep_id, currency, orders, quantity, net, tax, total = row
    key = SalesKey(
        day=date.fromisoformat(day),
        status=OrderStatus(status),
        customer_id=customer_id,
        rep_id=rep_id,
        sku=sku,
        currency=currency,
    )
    return key, SalesFigures(orders=orders, quantity=quantity, net=net, tax=tax, total=total)


def buckets_of(orders: Iterable[Order], tz: ZoneInfo) -> dict[SalesKey, SalesFigures]:
    """Every bucket recomputed from `orders` as they are (what `crm reports rebuild` writes)."""
    totals: dict[SalesKey, SalesFigures] = {}
    for order in orders:
        for key, figures in contributions(order, SalesState.of(order), tz).items():
            totals[key] = totals.get(key, ZERO) + figures
    return {key: figures for key, figures in totals.items() if not figures.is_zero}
