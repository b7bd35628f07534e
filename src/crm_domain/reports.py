"""Reports (SPEC §2.8): the sales report's query and rows, credit exposure, credit holds, the dealer statement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

import attrs

from crm_domain.errors import ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import COUNTED, Order, OrderStatus
from crm_domain.sales import SalesFigures

_MILLI = Decimal(1000)

#: The longest range one sales report covers (days): a few years of daily buckets.
MAX_RANGE_DAYS = 3 * 366


class SalesGroup(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    REP = "rep"
    CUSTOMER = "customer"
    PRODUCT = "product"
    TERRITORY = "territory"


class Dimension(StrEnum):
    """What the store sums buckets by; weeks, months and territories are folded from days and customers."""

    DAY = "day"
    CUSTOMER = "customer"
    REP = "rep"
    SKU = "sku"


DIMENSION_OF: dict[SalesGroup, Dimension] = {
    SalesGroup.DAY: Dimension.DAY,
    SalesGroup.WEEK: Dimension.DAY,
    SalesGroup.MONTH: Dimension.DAY,
    SalesGroup.REP: Dimension.REP,
    SalesGroup.CUSTOMER: Dimension.CUSTOMER,
    SalesGroup.PRODUCT: Dimension.SKU,
    SalesGroup.TERRITORY: Dimension.CUSTOMER,
}

#: Statuses a sales report may filter on (a draft is in no bucket).
REPORTED = frozenset(OrderStatus) - {OrderStatus.DRAFT}


@attrs.frozen(kw_only=True)
class SalesQuery:
    """Buckets from `start` to `end` (days, inclusive) in `statuses`, summed by `dimension`. `lines` reads the
    per-line buckets (a product grouping or filter); None filters mean every one."""

    start: date
    end: date
    statuses: frozenset[OrderStatus]
    dimension: Dimension
    lines: bool = False
    customer_ids: frozenset[str] | None = None
    rep_ids: frozenset[str] | None = None
    skus: frozenset[str] | None = None


@attrs.frozen(kw_only=True)
class SalesFilter:
    """What a caller asks for; the service adds the scope."""

    start: date
    end: date
    group_by: SalesGroup = SalesGroup.MONTH
    statuses: frozenset[OrderStatus] = COUNTED
    rep_ids: frozenset[str] | None = None
    customer_ids: frozenset[str] | None = None
    skus: frozenset[str] | None = None
    territories: frozenset[str] | None = None

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationFailed("the end date is before the start date", field="to")
        if (self.end - self.start).days > MAX_RANGE_DAYS:
            raise ValidationFailed(f"a sales report covers at most {MAX_RANGE_DAYS} days", field="to")
        if not self.statuses or not self.statuses <= REPORTED:
            raise ValidationFailed("status must be one or more of the submitted states", field="status")


@attrs.frozen
class SalesTotal:
    """The store's sum of buckets for one key (a day as ISO date, a customer, rep or SKU id) and currency."""

    key: str
    currency: str
    figures: SalesFigures


@attrs.frozen
class SalesRow:
    """One row of a sales report. The figures are kept as integers (a report by customer has thousands of rows;
    only the rows shown or written out become Money)."""

    key: str
    label: str
    currency: str
    orders: int
    quantity_milli: int
    net_minor: int
    tax_minor: int
    total_minor: int

    @classmethod
    def of(cls, key: str, label: str, currency: str, figures: SalesFigures) -> SalesRow:
        return cls(key, label, currency, figures.orders, figures.quantity, figures.net, figures.tax, figures.total)

    @property
    def quantity(self) -> Decimal:
        return Decimal(self.quantity_milli) / _MILLI

    @property
    def net(self) -> Money:
        return Money(self.net_minor, self.currency)

    @property
    def tax(self) -> Money:
        return Money(self.tax_minor, self.currency)

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)


@attrs.frozen(kw_only=True)
class SalesReport:
    filter: SalesFilter
    rows: list[SalesRow]
    totals: list[SalesRow]  # one per currency ("total" key)


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def fold_key(group: SalesGroup, key: str) -> str:
    """The report key of a day bucket's key for a week or month grouping."""
    if group is SalesGroup.WEEK:
        return week_key(date.fromisoformat(key))
    if group is SalesGroup.MONTH:
        return key[:7]
    return key


#: Sums of a report key: [orders, quantity in thousandths, net, tax, total in minor units].
Sums = list[int]


def fold(totals: Iterable[SalesTotal], key_of: dict[str, str] | None, group: SalesGroup) -> dict[tuple[str, str], Sums]:
    """Sum store totals into report keys: weeks or months of days, territories of customers (`key_of`). Sums
    run on plain integers (thousands of rows: no object per addition)."""
    sums: dict[tuple[str, str], Sums] = {}
    same = key_of is None and group not in (SalesGroup.WEEK, SalesGroup.MONTH)  # the store's keys are the report's
    for t in totals:
        key = t.key if same else key_of.get(t.key, "") if key_of is not None else fold_key(group, t.key)
        f = t.figures
        acc = sums.get((key, t.currency))
        if acc is None:
            sums[key, t.currency] = [f.orders, f.quantity, f.net, f.tax, f.total]
        else:
            acc[0] += f.orders
            acc[1] += f.quantity
            acc[2] += f.net
            acc[3] += f.tax
            acc[4] += f.total
    return sums


def grand_totals(folded: dict[tuple[str, str], Sums]) -> dict[str, Sums]:
    """One sum per currency over every row."""
    grand: dict[str, Sums] = {}
    for (_, currency), (orders, quantity, net, tax, total) in folded.items():
        acc = grand.get(currency)
        if acc is None:
            grand[currency] = [orders, quantity, net, tax, total]
        else:
            acc[0] += orders
            acc[1] += quantity
            acc[2] += net
            acc[3] += tax
            acc[4] += total
    return grand


# --- credit exposure and holds ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ExposureRow:
    customer_id: str
    code: str
    name: str
    currency: str
    limit: Money
    effective_limit: Money
    receivables: Money
    open_orders: Money
    dispatched: Money
    exposure: Money
    available: Money
    utilisation_pct: Decimal | None
    overdue_days: int
    on_hold: int

    @property
    def over_limit(self) -> bool:
        return self.available.minor < 0


def utilisation(exposure: int, limit: int) -> Decimal | None:
    if limit <= 0:
        return None
    return (Decimal(exposure) * 100 / Decimal(limit)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def exposure_order(rows: list[ExposureRow]) -> list[ExposureRow]:
    """Over the limit first, then by utilisation (highest first; no limit last), then by code."""
    return sorted(
        rows,
        key=lambda r: (
            not r.over_limit,
            r.utilisation_pct is None,
            -(r.utilisation_pct or Decimal(0)),
            r.code,
        ),
    )


@attrs.frozen(kw_only=True)
class HeldOrder:
    """What the credit-holds report needs of an order on hold (the stores read no more than this)."""

    order_id: str
    number: str
    customer_id: str
    total: Money
    shortfall: Money | None
    reason: str | None
    held_at: datetime  # the creation time for an order held before holds had a time

    @classmethod
    def of(cls, order: Order) -> HeldOrder:
        return cls(
            order_id=order.id,
            number=order.number,
            customer_id=order.customer_id,
            total=order.total,
            shortfall=order.credit.shortfall if order.credit else None,
            reason=order.credit.reason.value if order.credit and order.credit.reason else None,
            held_at=order.held_at or order.created_at,
        )


@attrs.frozen(kw_only=True)
class HoldRow:
    order_id: str
    number: str
    customer_id: str
    code: str
    name: str
    total: Money
    shortfall: Money | None
    reason: str | None
    held_at: datetime
    age: timedelta

    @property
    def age_days(self) -> int:
        return self.age.days


# --- the dealer statement --------------------------------------------------------------------------------------


class LedgerKind(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    ADJUSTMENT = "adjustment"


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """A change of what a customer owes as known from the ERP: an invoice (positive), a payment (negative), or
    an adjustment (a balance from the ERP that moved the receivables up without an invoice we know of)."""

    id: str
    customer_id: str
    at: datetime
    kind: LedgerKind
    reference: str
    amount: Money


class StatementKind(StrEnum):
    ORDER = "order"
    INVOICE = "invoice"
    PAYMENT = "payment"
    ADJUSTMENT = "adjustment"


@attrs.frozen(kw_only=True)
class StatementLine:
    at: datetime
    kind: StatementKind
    reference: str
    description: str
    debit: Money | None  # what the customer owes more (invoices)
    credit: Money | None  # what it owes less (payments)
    balance: Money  # after this line; orders change nothing until invoiced


@attrs.frozen(kw_only=True)
class Statement:
    customer_id: str
    code: str
    name: str
    currency: str
    start: date
    end: date
    opening: Money
    closing: Money
    lines: list[StatementLine]
