"""Credit shapes (SPEC §4 "credit out"): the position, its history, limit-change requests and the credit
controller's actions. Amounts are decimal strings in the customer's currency."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from crm_domain.credit import LimitChange
from crm_domain.credit_governance import CreditLimitRequest, LimitRequestStatus, TermKind
from crm_domain.money import Money
from crm_domain.services.credit import CreditPosition, TermRequest
from entrypoints.http.schemas.common import (
    Currency,
    CurrencyOut,
    Days,
    DecimalOut,
    In,
    MoneyOut,
    MoneyStr,
    Out,
    Pct,
    ShortText,
)
from entrypoints.http.schemas.customers import Reason


def _iso_date(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    raise ValueError("must be a date string such as 2026-12-31")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Note = Annotated[ShortText, StringConstraints(max_length=200)]
CURRENCY_NOTE = "The currency of the amount: the customer's (INR when left out)."


class LimitRequestIn(In):
    """A credit-term change request: `kind` and its payload (SPEC §2.3 credit governance)."""

    kind: TermKind = Field(
        default=TermKind.LIMIT,
        description="limit (new_limit), temporary_limit (new_limit and valid_until; both null to end it early), "
        "tolerance (tolerance_pct), unblock (nothing), policy (overdue_block_days; null: no overdue block).",
    )
    new_limit: MoneyStr | None = Field(default=None, description='The amount asked for, e.g. "150000.00".')
    valid_until: IsoDate | None = Field(default=None, description="Last day a temporary limit applies.")
    tolerance_pct: Pct | None = None
    overdue_block_days: Days | None = None
    reason: Reason
    currency: Currency = Field(default="INR", description=CURRENCY_NOTE)

    def term_request(self) -> TermRequest:
        return TermRequest(
            kind=self.kind,
            new_limit=None if self.new_limit is None else Money.of(self.new_limit, self.currency),
            valid_until=self.valid_until,
            tolerance_pct=self.tolerance_pct,
            overdue_block_days=self.overdue_block_days,
        )


class DecisionIn(In):
    note: Note = ""


class TemporaryLimitIn(In):
    amount: MoneyStr | None = Field(description="The temporary limit; null clears it.")
    valid_until: IsoDate | None = Field(default=None, description="Last day it applies; required with an amount.")
    reason: Reason
    currency: Currency = Field(default="INR", description=CURRENCY_NOTE)

    @model_validator(mode="after")
    def _until_goes_with_amount(self) -> TemporaryLimitIn:
        if (self.amount is None) != (self.valid_until is None):
            raise ValueError("valid_until is required with an amount, and only then")
        return self

    def money(self) -> Money | None:
        return None if self.amount is None else Money.of(self.amount, self.currency)


class CreditReasonIn(In):
    reason: Reason


class CreditPositionOut(Out):
    customer_id: str
    currency: CurrencyOut
    limit: MoneyOut = Field(description="The effective limit today: the temporary limit while it is valid.")
    receivables: MoneyOut
    open_orders: MoneyOut
    exposure: MoneyOut
    available: MoneyOut = Field(description="limit − exposure; negative when over the limit.")
    blocked: bool
    reason: str | None = Field(description="Why submits are held: a block reason, or `overdue`.")
    base_limit: MoneyOut
    temporary_limit: MoneyOut | None
    temporary_limit_until: date | None
    tolerance_pct: DecimalOut
    dispatched: MoneyOut
    overdue_days: int
    overdue_block_days: int | None

    @classmethod
    def of(cls, p: CreditPosition) -> CreditPositionOut:
        return cls(
            customer_id=p.customer_id,
            currency=p.currency,
            limit=p.limit.decimal_string(),
            receivables=p.receivables.decimal_string(),
            open_orders=p.open_orders.decimal_string(),
            exposure=p.exposure.decimal_string(),
            available=p.available.decimal_string(),
            blocked=p.blocked,
            reason=p.reason,
            base_limit=p.base_limit.decimal_string(),
            temporary_limit=None if p.temporary_limit is None else p.temporary_limit.decimal_string(),
            temporary_limit_until=p.temporary_limit_until,
            tolerance_pct=p.tolerance_pct,
            dispatched=p.dispatched.decimal_string(),
            overdue_days=p.overdue_days,
            overdue_block_days=p.overdue_block_days,
        )


class LimitChangeOut(Out):
    id: str
    kind: str = Field(description="limit, temporary_limit, tolerance, overdue_block_days, block or unblock.")
    old: str | None
    new: str | None
    changed_by: str
    at: datetime
    reason: str
    request_id: str | None

    @classmethod
    def of(cls, change: LimitChange) -> LimitChangeOut:
        return cls(
            id=change.id,
            kind=change.kind,
            old=change.old,
            new=change.new,
            changed_by=change.changed_by,
            at=change.at,
            reason=change.reason,
            request_id=change.request_id,
        )


class LimitRequestOut(Out):
    id: str
    customer_id: str
    kind: TermKind
    currency: CurrencyOut
    current_limit: MoneyOut = Field(description="The base limit when the change was requested.")
    new_limit: MoneyOut | None = Field(description="The amount asked for (limit, temporary_limit).")
    valid_until: date | None
    tolerance_pct: DecimalOut | None
    overdue_block_days: int | None
    reason: str
    status: LimitRequestStatus
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    updated_at: datetime = Field(description="The decision's time, or the request's while it is open.")

    @classmethod
    def of(cls, r: CreditLimitRequest) -> LimitRequestOut:
        return cls(
            id=r.id,
            customer_id=r.customer_id,
            kind=r.kind,
            currency=r.current_limit.currency,
            current_limit=r.current_limit.decimal_string(),
            new_limit=None if r.new_limit is None else r.new_limit.decimal_string(),
            valid_until=r.valid_until,
            tolerance_pct=None if r.tolerance_pct is None else str(r.tolerance_pct),
            overdue_block_days=r.overdue_block_days,
            reason=r.reason,
            status=r.status,
            requested_by=r.requested_by,
            requested_at=r.requested_at,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            decision_note=r.decision_note,
            updated_at=r.updated_at,
        )
