"""Reports (SPEC §2.8): sales from the daily buckets, credit exposure, credit holds and the dealer statement.

Scope is the orders' and customers' (`scope_of`): a rep sees their dealers, a manager the dealers of everyone
under them, a dealer only their own customer; anything else is not found. Dates are days in the company time
zone. The figures come from aggregates kept with every order change (`crm_domain.sales`); `rebuild` recomputes
them from the orders and `check` says whether they agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import attrs

from crm_domain.customers import Customer
from crm_domain.errors import ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import OrderQuery, UnitOfWork
from crm_domain.records import PageRequest
from crm_domain.reports import (
    DIMENSION_OF,
    MAX_RANGE_DAYS,
    ExposureRow,
    HeldOrder,
    HoldRow,
    LedgerKind,
    SalesFilter,
    SalesGroup,
    SalesQuery,
    SalesReport,
    SalesRow,
    Statement,
    StatementKind,
    StatementLine,
    exposure_order,
    fold,
    grand_totals,
    utilisation,
)
from crm_domain.sales import ZERO, SalesFigures, SalesKey, buckets_of
from crm_domain.scope import Scope
from crm_domain.services.context import ServiceContext, customer_in_scope, scope_of
from crm_domain.users import Actor, Permission

_PAGE = PageRequest.MAX_LIMIT


@attrs.frozen(kw_only=True)
class BucketCheck:
    """What `check` found: buckets that differ from a recomputation from the orders (stored, expected)."""

    buckets: int
    orders: int
    differences: dict[SalesKey, tuple[SalesFigures, SalesFigures]]
    summaries: int = 0  # roll-up rows that disagree with the buckets

    @property
    def agrees(self) -> bool:
        return not self.differences and not self.summaries


class ReportService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # --- sales -----------------------------------------------------------------------------------------------

    def sales(self, actor: Actor, flt: SalesFilter) -> SalesReport:
        """Sales by `flt.group_by` with a totals row per currency; only the customers in the actor's scope."""
        actor.require(Permission.REPORT_READ)
        return self._ctx.read(lambda uow: self._sales(uow, actor, flt))

    def _sales(self, uow: UnitOfWork, actor: Actor, flt: SalesFilter) -> SalesReport:
        scope = scope_of(uow, actor)
        customer_ids = _meet(uow.customers.ids_in_scope(scope), flt.customer_ids)
        by_territory = flt.group_by is SalesGroup.TERRITORY or flt.territories is not None
        territory_of: dict[str, str] | None = None
        if by_territory:
            customers = [c for c in _customers(uow, scope) if customer_ids is None or c.id in customer_ids]
            territory_of = {c.id: c.territory or "" for c in customers}
            if flt.territories is not None:
                customer_ids = frozenset(cid for cid, t in territory_of.items() if t in flt.territories)
        dimension = DIMENSION_OF[flt.group_by]
        query = SalesQuery(
            start=flt.start,
            end=flt.end,
            statuses=flt.statuses,
            dimension=dimension,
            lines=flt.group_by is SalesGroup.PRODUCT or flt.skus is not None,
            customer_ids=customer_ids,
            rep_ids=flt.rep_ids,
            skus=flt.skus,
        )
        totals = [] if customer_ids is not None and not customer_ids else uow.reports.totals(query)
        folded = {
            group: sums
            for group, sums in fold(
                totals, territory_of if flt.group_by is SalesGroup.TERRITORY else None, flt.group_by
            ).items()
            if any(sums)  # buckets whose orders all moved on
        }
        labels = self._labels(uow, flt.group_by, {key for key, _ in folded})
        rows = [
            SalesRow(key, labels.get(key, key), currency, *sums) for (key, currency), sums in sorted(folded.items())
        ]
        grand = grand_totals(folded) or {self._ctx.config.default_currency: [0, 0, 0, 0, 0]}
        summary = [SalesRow("total", "Total", currency, *sums) for currency, sums in sorted(grand.items())]
        return SalesReport(filter=flt, rows=rows, totals=summary)

    def _labels(self, uow: UnitOfWork, group: SalesGroup, keys: set[str]) -> dict[str, str]:
        if group is SalesGroup.REP:
            users = {key: uow.users.get(key) for key in keys if key}
            return {key: user.name for key, user in users.items() if user is not None} | {"": "(no rep)"}
        if group is SalesGroup.CUSTOMER:
            customers = {key: uow.customers.get(key) for key in keys}
            return {key: f"{c.code} {c.name}" for key, c in customers.items() if c is not None}
        if group is SalesGroup.PRODUCT:
            return {sku: product.name for sku, product in uow.products.get_many(sorted(keys)).items()}
        if group is SalesGroup.TERRITORY:
            return {"": "(no territory)"}
        return {}

    # --- credit exposure and holds ----------------------------------------------------------------------------

    def credit_exposure(self, actor: Actor) -> list[ExposureRow]:
        """Every customer in scope: limit, exposure and its parts, available, utilisation, overdue days, holds;
        over the limit first, then by utilisation."""
        actor.require(Permission.CREDIT_READ)

        def step(uow: UnitOfWork) -> list[ExposureRow]:
            scope = scope_of(uow, actor)
            holds = uow.reports.hold_counts(uow.customers.ids_in_scope(scope))
            rows = [self._exposure_row(uow, customer, holds.get(customer.id, 0)) for customer in _customers(uow, scope)]
            return exposure_order([row for row in rows if row is not None])

        return self._ctx.read(step)

    def _exposure_row(self, uow: UnitOfWork, customer: Customer, on_hold: int) -> ExposureRow | None:
        account = uow.credit.get(customer.id, orders=())
        if account is None:
            return None
        policy, today, money = self._ctx.config.credit_policy, self._ctx.today(), account.money
        limit = account.effective_limit(today)
        exposure = account.exposure(policy)
        return ExposureRow(
            customer_id=customer.id,
            code=customer.code,
            name=customer.name,
            currency=account.currency,
            limit=money(account.limit),
            effective_limit=money(limit),
            receivables=money(account.receivables),
            open_orders=money(account.open_orders),
            dispatched=money(account.dispatched),
            exposure=money(exposure),
            available=money(account.available(policy, today)),
            utilisation_pct=utilisation(exposure, limit),
            overdue_days=account.overdue_days,
            on_hold=on_hold,
        )

    def credit_holds(self, actor: Actor) -> list[HoldRow]:
        """Orders on credit hold in scope, oldest first, with their age."""
        actor.require(Permission.ORDER_RELEASE)
        now = self._ctx.now()

        def step(uow: UnitOfWork) -> list[HoldRow]:
            return hold_rows(uow, uow.reports.holds(uow.customers.ids_in_scope(scope_of(uow, actor))), now)

        return self._ctx.read(step)

    # --- the dealer statement ---------------------------------------------------------------------------------

    def statement(self, actor: Actor, customer_id: str, start: date, end: date) -> Statement:
        """The customer's orders, invoices and payments as known from the ERP from `start` to `end` (days,
        inclusive), with the opening and closing balance; scope as the customer's."""
        actor.require(Permission.CREDIT_READ)
        if end < start:
            raise ValidationFailed("the end date is before the start date", field="to")
        if (end - start).days > MAX_RANGE_DAYS or end >= date.max:
            raise ValidationFailed(f"a statement covers at most {MAX_RANGE_DAYS} days", field="to")
        begin, until = self.moment(start), self.moment(end + timedelta(days=1))

        def step(uow: UnitOfWork) -> Statement:
            customer = customer_in_scope(uow, actor, customer_id)
            account = uow.credit.get(customer.id, orders=())
            currency = account.currency if account is not None else customer.currency
            entries = uow.reports.entries(customer.id, until)
            opening = sum((e.amount for e in entries if e.at < begin), Money.zero(currency))
            dated: list[tuple[datetime, int, StatementLine]] = [
                (e.at, 1, _entry_line(e.kind, e.reference, e.at, e.amount)) for e in entries if e.at >= begin
            ]
            dated += [(o.created_at, 0, _order_line(o)) for o in _orders(uow, customer.id, begin, until)]
            balance, lines = opening, []
            for _, _, line in sorted(dated, key=lambda d: (d[0], d[1])):
                balance = balance + (line.debit or Money.zero(currency)) - (line.credit or Money.zero(currency))
                lines.append(attrs.evolve(line, balance=balance))
            return Statement(
                customer_id=customer.id,
                code=customer.code,
                name=customer.name,
                currency=currency,
                start=start,
                end=end,
                opening=opening,
                closing=balance,
                lines=lines,
            )

        return self._ctx.read(step)

    def moment(self, day: date) -> datetime:
        """The start of `day` in the company time zone."""
        return datetime.combine(day, time(), tzinfo=self._ctx.config.tz)

    # --- the aggregates themselves ---------------------------------------------------------------------------

    def version(self) -> str:
        """The aggregates' version: it changes with every change of the buckets (cache keys)."""
        return self._ctx.read(lambda uow: uow.reports.version())

    def check(self, actor: Actor) -> BucketCheck:
        """Recompute every bucket from the orders and compare with the stored ones."""
        actor.require(Permission.OUTBOX_MANAGE)

        def step(uow: UnitOfWork) -> BucketCheck:
            orders = list(_all_orders(uow))
            expected = buckets_of(orders, self._ctx.config.tz)
            stored = uow.reports.buckets()
            differences = {
                key: (stored.get(key, ZERO), expected.get(key, ZERO))
                for key in stored.keys() | expected.keys()
                if stored.get(key, ZERO) != expected.get(key, ZERO)
            }
            return BucketCheck(
                buckets=len(stored),
                orders=len(orders),
                differences=differences,
                summaries=uow.reports.summary_differences(),
            )

        return self._ctx.read(step)

    def rebuild(self, actor: Actor) -> int:
        """Replace every bucket by a recomputation from the orders, in one unit of work; returns the buckets."""
        actor.require(Permission.OUTBOX_MANAGE)

        def step(uow: UnitOfWork) -> int:
            buckets = buckets_of(_all_orders(uow), self._ctx.config.tz)
            uow.reports.replace_buckets(buckets)
            return len(buckets)

        return self._ctx.write(step)


def _meet(scope: frozenset[str] | None, wanted: frozenset[str] | None) -> frozenset[str] | None:
    if scope is None:
        return wanted
    return scope if wanted is None else scope & wanted


def _customers(uow: UnitOfWork, scope: Scope) -> Iterator[Customer]:
    cursor: str | None = None
    while True:
        page = uow.customers.page(PageRequest(limit=_PAGE, cursor=cursor), scope)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _all_orders(uow: UnitOfWork, query: OrderQuery | None = None) -> Iterator[Order]:
    cursor: str | None = None
    while True:
        page = uow.orders.page(PageRequest(limit=_PAGE, cursor=cursor), query or OrderQuery())
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _orders(uow: UnitOfWork, customer_id: str, begin: datetime, until: datetime) -> list[Order]:
    query = OrderQuery(customer_id=customer_id, created_from=begin, created_to=until)
    return sorted(
        (o for o in _all_orders(uow, query) if o.status is not OrderStatus.DRAFT), key=lambda o: (o.created_at, o.id)
    )


def _order_line(order: Order) -> StatementLine:
    return StatementLine(
        at=order.created_at,
        kind=StatementKind.ORDER,
        reference=order.number,
        description=f"order {order.number} ({order.status.value}), {order.total.decimal_string()}",
        debit=None,
        credit=None,
        balance=Money.zero(order.currency),
    )


def _entry_line(kind: LedgerKind, reference: str, at: datetime, amount: Money) -> StatementLine:
    positive = amount.minor >= 0
    magnitude = Money(abs(amount.minor), amount.currency)
    return StatementLine(
        at=at,
        kind=StatementKind(kind.value),
        reference=reference,
        description=f"{kind.value} {reference}".strip(),
        debit=magnitude if positive else None,
        credit=None if positive else magnitude,
        balance=amount,  # set to the running balance by `statement`
    )


def hold_rows(uow: UnitOfWork, held: list[HeldOrder], now: datetime) -> list[HoldRow]:
    """The credit-holds report's rows of `held`, with their customers and ages at `now`."""
    customers: dict[str, Customer | None] = {}
    rows = []
    none = timedelta(0)
    for order in held:
        if order.customer_id not in customers:
            customers[order.customer_id] = uow.customers.get(order.customer_id)
        customer = customers[order.customer_id]
        rows.append(
            HoldRow(
                order_id=order.order_id,
                number=order.number,
                customer_id=order.customer_id,
                code=customer.code if customer else "",
                name=customer.name if customer else "",
                total=order.total,
                shortfall=order.shortfall,
                reason=order.reason,
                held_at=order.held_at,
                age=max(now - order.held_at, none),
            )
        )
    return rows
