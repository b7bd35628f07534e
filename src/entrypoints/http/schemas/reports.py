"""Report shapes (SPEC §2.8, §4): money as decimal strings with their currency, quantities as decimal strings."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from crm_domain.money import Money
from crm_domain.reports import ExposureRow, HoldRow, SalesRow, Statement, StatementLine
from entrypoints.http.schemas.common import Out


def _m(money: Money | None) -> str | None:
    return None if money is None else money.decimal_string()


class SalesRowOut(Out):
    key: str = Field(description="The day (YYYY-MM-DD), ISO week (YYYY-Www), month (YYYY-MM), or the id / SKU / "
                     "territory grouped by; `total` on the totals row.")  # fmt: skip
    label: str
    currency: str
    orders: int
    quantity: str
    net: str
    tax: str
    total: str

    @classmethod
    def of(cls, row: SalesRow) -> SalesRowOut:
        return cls(
            key=row.key,
            label=row.label,
            currency=row.currency,
            orders=row.orders,
            quantity=f"{row.quantity:f}",
            net=row.net.decimal_string(),
            tax=row.tax.decimal_string(),
            total=row.total.decimal_string(),
        )


class SalesReportOut(Out):
    group_by: str
    start: date = Field(description="The first day (`from`), company time zone.")
    end: date = Field(description="The last day (`to`), inclusive.")
    statuses: list[str]
    items: list[SalesRowOut]
    totals: list[SalesRowOut] = Field(description="One row per currency: the whole report, not only this page.")
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null on the last.")


class ExposureOut(Out):
    customer_id: str
    code: str
    name: str
    currency: str
    limit: str
    effective_limit: str
    receivables: str
    open_orders: str
    dispatched: str
    exposure: str
    available: str
    utilisation_pct: str | None = Field(description="exposure / effective limit × 100; null without a limit.")
    overdue_days: int
    on_hold: int = Field(description="Orders on credit hold.")
    over_limit: bool

    @classmethod
    def of(cls, r: ExposureRow) -> ExposureOut:
        return cls(
            customer_id=r.customer_id,
            code=r.code,
            name=r.name,
            currency=r.currency,
            limit=r.limit.decimal_string(),
            effective_limit=r.effective_limit.decimal_string(),
            receivables=r.receivables.decimal_string(),
            open_orders=r.open_orders.decimal_string(),
            dispatched=r.dispatched.decimal_string(),
            exposure=r.exposure.decimal_string(),
            available=r.available.decimal_string(),
            utilisation_pct=None if r.utilisation_pct is None else f"{r.utilisation_pct:f}",
            overdue_days=r.overdue_days,
            on_hold=r.on_hold,
            over_limit=r.over_limit,
        )


class HoldOut(Out):
    order_id: str
    number: str
    customer_id: str
    code: str
    name: str
    currency: str
    total: str
    shortfall: str | None
    reason: str | None
    held_at: datetime
    age_days: int

    @classmethod
    def of(cls, r: HoldRow) -> HoldOut:
        return cls(
            order_id=r.order_id,
            number=r.number,
            customer_id=r.customer_id,
            code=r.code,
            name=r.name,
            currency=r.total.currency,
            total=r.total.decimal_string(),
            shortfall=_m(r.shortfall),
            reason=r.reason,
            held_at=r.held_at,
            age_days=r.age_days,
        )


class StatementLineOut(Out):
    at: datetime
    kind: str = Field(description="order (no effect on the balance until invoiced), invoice, payment or adjustment.")
    reference: str
    description: str
    debit: str | None
    credit: str | None
    balance: str

    @classmethod
    def of(cls, line: StatementLine) -> StatementLineOut:
        return cls(
            at=line.at,
            kind=line.kind.value,
            reference=line.reference,
            description=line.description,
            debit=_m(line.debit),
            credit=_m(line.credit),
            balance=line.balance.decimal_string(),
        )


class StatementOut(Out):
    customer_id: str
    code: str
    name: str
    currency: str
    start: date = Field(description="The first day (`from`), company time zone.")
    end: date = Field(description="The last day (`to`), inclusive.")
    opening: str
    closing: str
    items: list[StatementLineOut]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null on the last.")

    @classmethod
    def of(cls, s: Statement, items: list[StatementLine], next_cursor: str | None) -> StatementOut:
        return cls(
            customer_id=s.customer_id,
            code=s.code,
            name=s.name,
            currency=s.currency,
            start=s.start,
            end=s.end,
            opening=s.opening.decimal_string(),
            closing=s.closing.decimal_string(),
            items=[StatementLineOut.of(line) for line in items],
            next_cursor=next_cursor,
        )
