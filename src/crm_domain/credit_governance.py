"""Credit governance (SPEC §2.3): four eyes on every change that raises what a customer may owe.

A raise — base limit up, a temporary limit that allows more on some day, tolerance up, unblocking, loosening the
customer's overdue block (kind `policy`) — takes effect only through a credit-term change request
(`CreditLimitRequest`) that a credit controller other than the requester approved; the approval
(`Approval`) is what a `CreditAccount` needs to apply a raise. Changes that lower credit need none. The bounds
(`CreditBounds`) cap what may be asked for.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import attrs

from crm_domain.decimals import canonical, decimal_of
from crm_domain.errors import FourEyesViolation, InvalidTransition, ValidationFailed
from crm_domain.money import Money

MAX_TOLERANCE_PCT = Decimal(100)


class TermKind(StrEnum):
    """What a credit-term change request changes."""

    LIMIT = "limit"  # the base limit: amount
    TEMPORARY_LIMIT = "temporary_limit"  # amount + valid-until (both none: end it)
    TOLERANCE = "tolerance"  # pct
    UNBLOCK = "unblock"  # nothing
    POLICY = "policy"  # the customer's overdue block: days, or none for no block


def percent(value: Decimal | int | str, field: str) -> Decimal:
    """A percentage between 0 and 100 with at most two places, or `ValidationFailed` on `field`."""
    result = canonical(decimal_of(value, field))
    if result < 0 or result > MAX_TOLERANCE_PCT or result != round(result, 2):
        raise ValidationFailed(f"{field} must be between 0 and 100 with at most two places", field=field)
    return result


@attrs.frozen(kw_only=True)
class CreditBounds:
    """The most a credit-term request may ask for (settings `CRM_MAX_TEMP_LIMIT_DAYS`, `CRM_MAX_TOLERANCE_PCT`)."""

    max_temp_limit_days: int = 90
    max_tolerance_pct: Decimal = Decimal(20)

    def check_until(self, until: date, today: date) -> None:
        """A temporary limit ends today or later, and at most `max_temp_limit_days` ahead."""
        latest = today + timedelta(days=self.max_temp_limit_days)
        if until < today or until > latest:
            raise ValidationFailed(
                f"a temporary limit must end between {today} and {latest} "
                f"(at most {self.max_temp_limit_days} days ahead)",
                field="valid_until",
            )

    def check_tolerance(self, pct: Decimal) -> None:
        if pct > self.max_tolerance_pct:
            raise ValidationFailed(f"tolerance may be at most {self.max_tolerance_pct} %", field="tolerance_pct")


@attrs.frozen(kw_only=True)
class Approval:
    """Proof that a raise was asked for by one person and approved by another: what applying a raise needs."""

    request_id: str
    requested_by: str
    approved_by: str

    def __attrs_post_init__(self) -> None:
        if self.requested_by == self.approved_by:
            raise FourEyesViolation("approving a credit-term change request", self.approved_by)

    @property
    def people(self) -> frozenset[str]:
        """Whose held orders the re-evaluation after this change may not release."""
        return frozenset({self.requested_by, self.approved_by})


class LimitRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


_PAYLOAD = {
    TermKind.LIMIT: {"new_limit"},
    TermKind.TEMPORARY_LIMIT: {"new_limit", "valid_until"},
    TermKind.TOLERANCE: {"tolerance_pct"},
    TermKind.UNBLOCK: set[str](),
    TermKind.POLICY: {"overdue_block_days"},
}


@attrs.define(kw_only=True)
class CreditLimitRequest:
    """A credit-term change request: `kind` and its payload (`new_limit` for `limit`; `new_limit` and
    `valid_until` for `temporary_limit`, both none to end it; `tolerance_pct`; nothing for `unblock`;
    `overdue_block_days` for `policy`, none for no block), asked with a reason, decided by a credit controller
    who did not ask. Requests stored before kinds existed are `limit` requests."""

    id: str
    customer_id: str
    current_limit: Money  # the base limit when requested
    kind: TermKind = TermKind.LIMIT
    new_limit: Money | None = None
    valid_until: date | None = None
    tolerance_pct: Decimal | None = None
    overdue_block_days: int | None = None
    reason: str
    requested_by: str
    requested_at: datetime
    status: LimitRequestStatus = LimitRequestStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.reason.strip():
            raise ValidationFailed("a credit-term change request needs a reason", field="reason")
        self.kind = TermKind(self.kind)
        allowed = _PAYLOAD[self.kind]
        for name in ("new_limit", "valid_until", "tolerance_pct", "overdue_block_days"):
            if name not in allowed and getattr(self, name) is not None:
                raise ValidationFailed(f"a {self.kind.value} request takes no {name}", field=name)
        if self.new_limit is not None:
            if self.new_limit.is_negative():
                raise ValidationFailed("a credit limit cannot be negative", field="new_limit")
            self.current_limit + self.new_limit  # same currency, or CurrencyMismatch
        if self.kind is TermKind.LIMIT and self.new_limit is None:
            raise ValidationFailed("a limit request needs the new limit", field="new_limit")
        if self.kind is TermKind.TEMPORARY_LIMIT and (self.new_limit is None) != (self.valid_until is None):
            raise ValidationFailed("a temporary limit needs both an amount and a valid-until date", field="valid_until")
        if self.kind is TermKind.TOLERANCE:
            if self.tolerance_pct is None:
                raise ValidationFailed("a tolerance request needs the percentage", field="tolerance_pct")
            self.tolerance_pct = percent(self.tolerance_pct, "tolerance_pct")
        if self.overdue_block_days is not None and self.overdue_block_days < 0:
            raise ValidationFailed("overdue_block_days must not be negative", field="overdue_block_days")

    @property
    def updated_at(self) -> datetime:
        """The last change: the decision, or the request while it is open (a decision is never earlier)."""
        return self.decided_at or self.requested_at

    def check_bounds(self, bounds: CreditBounds, today: date) -> None:
        """`ValidationFailed` when the request asks for more than `bounds` allow on `today`."""
        if self.valid_until is not None:
            bounds.check_until(self.valid_until, today)
        if self.tolerance_pct is not None:
            bounds.check_tolerance(self.tolerance_pct)

    def decide(self, by: str, status: LimitRequestStatus, note: str, at: datetime) -> Approval | None:
        """Approve or reject a pending request (never one's own); an approval answers the `Approval` that lets
        the account apply the change."""
        if self.status is not LimitRequestStatus.PENDING:
            raise InvalidTransition(self.id, self.status.value, status.value)
        if by == self.requested_by:
            raise FourEyesViolation("deciding a credit-term change request", by)
        self.status, self.decided_by, self.decided_at = status, by, at
        self.decision_note = note or None
        if status is not LimitRequestStatus.APPROVED:
            return None
        return Approval(request_id=self.id, requested_by=self.requested_by, approved_by=by)
