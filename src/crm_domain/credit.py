"""Dealer credit: the credit account of a customer, the check at submit, reservations keyed by order id,
and the changes of its terms (SPEC §2.3; raising them needs an approval: see credit_governance.py).

Exposure = receivables (owned by the ERP) + the reservations of open orders. The account is one aggregate so
that a store can make check-and-reserve one atomic step (a transaction on SQLite, a conditional update of one
document on MongoDB).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

import attrs

from crm_domain.credit_governance import Approval, TermKind, percent
from crm_domain.errors import CreditRaiseNeedsApproval, CurrencyMismatch, ValidationFailed
from crm_domain.events import CreditLimitChanged, CustomerBalanceUpdated, Event
from crm_domain.money import Money, check_currency


class HoldReason(StrEnum):
    CUSTOMER_BLOCKED = "customer_blocked"
    LIMIT_EXCEEDED = "limit_exceeded"
    OVERDUE = "overdue"
    #: Our check passed, the ERP's own credit check (SAP's credit worthiness) did not: a person decides (four eyes)
    ERP_CREDIT_CHECK = "erp_credit_check"


class Verdict(StrEnum):
    APPROVED = "approved"
    HOLD = "hold"


class ReservationStage(StrEnum):
    OPEN = "open"  # submitted or confirmed
    DISPATCHED = "dispatched"  # dispatched, not yet invoiced


@attrs.frozen
class CreditPolicy:
    """Which parts of exposure count (a company-wide setting; everything counts by default)."""

    count_receivables: bool = True
    count_open_orders: bool = True
    count_dispatched: bool = True


@attrs.frozen(kw_only=True)
class Reservation:
    order_id: str
    amount: int  # minor units
    stage: ReservationStage = ReservationStage.OPEN
    by_release: bool = False  # reserved by a credit-hold release (an override), not by the check
    at: datetime


@attrs.frozen(kw_only=True)
class CreditCheck:
    """What the check at submit decided; changes nothing by itself."""

    verdict: Verdict
    reason: HoldReason | None
    available: Money  # effective limit − exposure, before this order
    shortfall: Money  # how much the order exceeds what fits (zero when approved)
    exposure: Money
    limit: Money

    @property
    def approved(self) -> bool:
        return self.verdict is Verdict.APPROVED

    def refused_by_erp(self, amount: Money, erp_available: Money | None) -> CreditCheck:
        """This check, approved by us, turned into a hold because the ERP's own credit check refused `amount`;
        the shortfall is what the ERP says is missing (zero when it does not say how much it has left)."""
        missing = Money.zero(amount.currency)
        if erp_available is not None and erp_available.currency == amount.currency and erp_available < amount:
            missing = amount - erp_available
        return attrs.evolve(self, verdict=Verdict.HOLD, reason=HoldReason.ERP_CREDIT_CHECK, shortfall=missing)


def _non_negative_minor(value: int, field: str) -> None:
    if value < 0:
        raise ValidationFailed(f"{field} must not be negative", field=field)


class ReservationNotLoaded(RuntimeError):
    """A programming error: a reservation was changed on an account read without that order's reservation."""

    def __init__(self, customer_id: str, order_id: str) -> None:
        super().__init__(
            f"the credit account of {customer_id} was read without the reservation of order {order_id}; "
            "read it with that order (or in full) before reserving, releasing or dispatching for it"
        )
        self.customer_id = customer_id
        self.order_id = order_id


@attrs.define(kw_only=True)
class CreditAccount:
    """The credit position of one customer. Amounts are integer minor units of `currency`.

    `open_total` and `dispatched_total` are running totals of the reservations at each stage, kept by
    `reserve`, `release` and `mark_dispatched`, so the figures and the check cost the same however many
    orders are open. Built without them (tests, older documents) they are summed from `reservations`.

    `loaded` says which reservations were read: None, every reservation of the account is in `reservations`;
    a set of order ids, only those orders' reservations were read (a store's `get(customer_id, orders=…)`, so a
    submit does not read the dealer's other open orders), while the totals still cover them all. On such an
    account, reserving, releasing or dispatching for an order outside `loaded` raises `ReservationNotLoaded`
    (it could not tell whether the order already holds a reservation). The figures and the check work as on a
    full account; what walks `reservations` itself (reconciling them with the orders) needs a full one.
    """

    customer_id: str
    currency: str = attrs.field(validator=lambda _i, _a, v: check_currency(v))
    limit: int
    tolerance_pct: Decimal = Decimal(0)
    temp_limit: int | None = None
    temp_limit_until: date | None = None
    overdue_block_days: int | None = None
    blocked: bool = False
    block_reason: str | None = None
    receivables: int = 0
    overdue_days: int = 0
    #: The ERP's own time of the balance last applied: an older one is ignored (SPEC §5, `is_older_balance`).
    balance_as_of: datetime | None = None
    reservations: dict[str, Reservation] = attrs.field(factory=dict)
    open_total: int = attrs.field()
    dispatched_total: int = attrs.field()
    loaded: frozenset[str] | None = None
    version: int = 0
    updated_at: datetime | None = None
    events: list[Event] = attrs.field(factory=list, eq=False, repr=False)  # recorded, not yet pulled

    @open_total.default
    def _sum_open(self) -> int:
        return self._stage_sum(ReservationStage.OPEN)

    @dispatched_total.default
    def _sum_dispatched(self) -> int:
        return self._stage_sum(ReservationStage.DISPATCHED)

    def _stage_sum(self, stage: ReservationStage) -> int:
        return sum(r.amount for r in self.reservations.values() if r.stage is stage)

    def __attrs_post_init__(self) -> None:
        _non_negative_minor(self.limit, "credit_limit")
        if self.loaded is not None and not self.reservations.keys() <= self.loaded:
            raise ValueError("a partly read credit account holds reservations of orders it was not read with")
        self.tolerance_pct = percent(self.tolerance_pct, "tolerance_pct")
        if self.overdue_block_days is not None and self.overdue_block_days < 0:
            raise ValidationFailed("overdue_block_days must not be negative", field="overdue_block_days")

    # --- figures ------------------------------------------------------------------------------------------

    def money(self, minor: int) -> Money:
        return Money(minor, self.currency)

    def _require_currency(self, amount: Money) -> None:
        if amount.currency != self.currency:
            raise CurrencyMismatch(self.currency, amount.currency)

    def effective_limit(self, today: date) -> int:
        """The temporary limit while it is valid (through its valid-until date), else the base limit."""
        if self.temp_limit is not None and self.temp_limit_until is not None and today <= self.temp_limit_until:
            return self.temp_limit
        return self.limit

    def ceiling(self, today: date) -> int:
        """The most exposure a submit may reach: effective limit × (1 + tolerance/100), half-up."""
        limit = self.effective_limit(today)
        if not self.tolerance_pct:
            return limit
        scaled = Decimal(limit) * (1 + self.tolerance_pct / 100)
        return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def open_orders(self) -> int:
        return self.open_total

    @property
    def dispatched(self) -> int:
        return self.dispatched_total

    @property
    def reserved(self) -> int:
        return self.open_total + self.dispatched_total

    def exposure(self, policy: CreditPolicy) -> int:
        """Receivables (never below zero: an advance does not create credit) plus counted reservations."""
        result = 0
        if policy.count_receivables:
            result += max(self.receivables, 0)
        if policy.count_open_orders:
            result += self.open_orders
        if policy.count_dispatched:
            result += self.dispatched
        return result

    def available(self, policy: CreditPolicy, today: date) -> int:
        return self.effective_limit(today) - self.exposure(policy)

    def is_overdue_blocked(self) -> bool:
        return self.overdue_block_days is not None and self.overdue_days > self.overdue_block_days

    # --- the check -----------------------------------------------------------------------------------------

    def check(self, amount: Money, policy: CreditPolicy, today: date) -> CreditCheck:
        """The verdict a submit of `amount` would get now. Pure: reserves nothing."""
        self._require_currency(amount)
        exposure = self.exposure(policy)
        limit = self.effective_limit(today)
        available = limit - exposure
        fits_by = self.ceiling(today) - exposure - amount.minor
        reason: HoldReason | None = None
        if self.blocked:
            reason = HoldReason.CUSTOMER_BLOCKED
        elif self.is_overdue_blocked():
            reason = HoldReason.OVERDUE
        elif fits_by < 0:
            reason = HoldReason.LIMIT_EXCEEDED
        return CreditCheck(
            verdict=Verdict.APPROVED if reason is None else Verdict.HOLD,
            reason=reason,
            available=self.money(available),
            shortfall=self.money(max(-fits_by, 0)),
            exposure=self.money(exposure),
            limit=self.money(limit),
        )

    # --- reservations (idempotent, keyed by order id) -------------------------------------------------------

    def reserve(self, order_id: str, amount: Money, at: datetime, *, by_release: bool = False) -> bool:
        """Reserve `amount` for `order_id`. Reserving twice for one order is a no-op; returns whether it
        reserved."""
        self._require_loaded(order_id)
        self._require_currency(amount)
        if amount.minor < 0:
            raise ValidationFailed("a reservation cannot be negative", field="amount")
        if order_id in self.reservations:
            return False
        self.reservations[order_id] = Reservation(order_id=order_id, amount=amount.minor, by_release=by_release, at=at)
        self.open_total += amount.minor
        return True

    def release(self, order_id: str) -> int:
        """Drop the reservation of `order_id`; releasing twice is a no-op. Returns the amount released."""
        self._require_loaded(order_id)
        reservation = self.reservations.pop(order_id, None)
        if reservation is None:
            return 0
        if reservation.stage is ReservationStage.DISPATCHED:
            self.dispatched_total -= reservation.amount
        else:
            self.open_total -= reservation.amount
        return reservation.amount

    def mark_dispatched(self, order_id: str) -> None:
        self._require_loaded(order_id)
        reservation = self.reservations.get(order_id)
        if reservation is not None and reservation.stage is not ReservationStage.DISPATCHED:
            self.reservations[order_id] = attrs.evolve(reservation, stage=ReservationStage.DISPATCHED)
            self.open_total -= reservation.amount
            self.dispatched_total += reservation.amount

    def check_within_loaded(self) -> None:
        """`ReservationNotLoaded` when a partly read account holds a reservation of an order it was not read
        with (possible only by changing `reservations` behind the methods above); stores call it before they
        write a partly read account over the stored one."""
        if self.loaded is not None:
            for order_id in sorted(self.reservations.keys() - self.loaded):
                raise ReservationNotLoaded(self.customer_id, order_id)

    def pull_events(self) -> list[Event]:
        """The events recorded since the last pull (the unit of work that saves the account writes them)."""
        events, self.events = self.events, []
        return events

    def _require_loaded(self, order_id: str) -> None:
        if self.loaded is not None and order_id not in self.loaded:
            raise ReservationNotLoaded(self.customer_id, order_id)

    # --- terms (each change is recorded: `CreditLimitChanged`, `CustomerBalanceUpdated`) -----------------------
    # A change that raises what the customer may owe needs the `Approval` of a credit-term change request
    # (SPEC §2.3 credit governance); without one it raises `CreditRaiseNeedsApproval`. Lowering needs none.

    def set_limit(
        self, new_limit: Money, *, by: str, reason: str, at: datetime, approval: Approval | None = None
    ) -> CreditLimitChanged:
        self._require_currency(new_limit)
        _non_negative_minor(new_limit.minor, "credit_limit")
        self._require_approval(TermKind.LIMIT, new_limit.minor > self.limit, approval)
        old = self.limit
        self.limit = new_limit.minor
        return self._changed("limit", self.money(old).decimal_string(), new_limit.decimal_string(), by, reason, at)

    def set_temporary_limit(
        self,
        amount: Money | None,
        until: date | None,
        *,
        by: str,
        reason: str,
        at: datetime,
        approval: Approval | None = None,
    ) -> CreditLimitChanged:
        if (amount is None) != (until is None):
            raise ValidationFailed("a temporary limit needs both an amount and a valid-until date", field="until")
        if amount is not None:
            self._require_currency(amount)
            _non_negative_minor(amount.minor, "temporary_limit")
        new_amount = None if amount is None else amount.minor
        # `at`'s UTC date is never after the company's (UTC or east of it): a day more is compared, never less
        raises = self._temporary_raises(new_amount, until, at.date())
        self._require_approval(TermKind.TEMPORARY_LIMIT, raises, approval)
        old = self._temporary_text()
        self.temp_limit = new_amount
        self.temp_limit_until = until
        return self._changed("temporary_limit", old, self._temporary_text(), by, reason, at)

    def _temporary_raises(self, amount: int | None, until: date | None, today: date) -> bool:
        """Whether the temporary limit (`amount`, `until`) lets the effective limit be higher on some day from
        `today` on than the present one does. Both effective limits are steps that change only the day after a
        valid-until date, and after the later of the two dates both are the base limit; so today and each
        valid-until date stand for every day (one in each stretch where neither changes)."""
        proposed = attrs.evolve(self, temp_limit=amount, temp_limit_until=until, reservations={}, events=[])
        days = {today, *(d for d in (until, self.temp_limit_until) if d is not None)}
        return any(proposed.effective_limit(day) > self.effective_limit(day) for day in days if day >= today)

    def _temporary_text(self) -> str | None:
        if self.temp_limit is None:
            return None
        return f"{self.money(self.temp_limit).decimal_string()} until {self.temp_limit_until}"

    def set_tolerance(
        self, pct: Decimal | int | str, *, by: str, reason: str, at: datetime, approval: Approval | None = None
    ) -> CreditLimitChanged:
        new = percent(pct, "tolerance_pct")
        self._require_approval(TermKind.TOLERANCE, new > self.tolerance_pct, approval)
        old = str(self.tolerance_pct)
        self.tolerance_pct = new
        return self._changed("tolerance", old, str(self.tolerance_pct), by, reason, at)

    def set_overdue_block(
        self, days: int | None, *, by: str, reason: str, at: datetime, approval: Approval | None = None
    ) -> CreditLimitChanged:
        """Block submits while invoices are more than `days` overdue (None: never). Loosening it (more days, or
        none) is a raise: kind `policy`."""
        if days is not None and days < 0:
            raise ValidationFailed("overdue_block_days must not be negative", field="overdue_block_days")
        old = self.overdue_block_days
        loosens = old is not None and (days is None or days > old)
        self._require_approval(TermKind.POLICY, loosens, approval)
        self.overdue_block_days = days
        return self._changed(
            "overdue_block_days", None if old is None else str(old), None if days is None else str(days), by, reason, at
        )

    def block(self, reason: str, *, by: str, at: datetime) -> CreditLimitChanged:
        if not reason.strip():
            raise ValidationFailed("blocking a customer needs a reason", field="reason")
        self.blocked = True
        self.block_reason = reason
        return self._changed("block", None, reason, by, reason, at)

    def unblock(self, *, by: str, reason: str, at: datetime, approval: Approval | None = None) -> CreditLimitChanged:
        self._require_approval(TermKind.UNBLOCK, self.blocked, approval)
        old = self.block_reason
        self.blocked = False
        self.block_reason = None
        return self._changed("unblock", old, None, by, reason, at)

    def _require_approval(self, kind: TermKind, raises: bool, approval: Approval | None) -> None:
        if raises and approval is None:
            raise CreditRaiseNeedsApproval(self.customer_id, kind.value)

    def _changed(
        self, kind: str, old: str | None, new: str | None, by: str, reason: str, at: datetime
    ) -> CreditLimitChanged:
        event = CreditLimitChanged(
            occurred_at=at, customer_id=self.customer_id, kind=kind, old=old, new=new, changed_by=by, reason=reason
        )
        self.events.append(event)
        self.updated_at = at
        return event

    def is_older_balance(self, as_of: datetime | None) -> bool:
        """Whether an ERP balance as of `as_of` is older than the one already applied (a late or replayed
        event): it must not replace the newer figures (SPEC §5). A balance without a time cannot be told older."""
        return as_of is not None and self.balance_as_of is not None and as_of < self.balance_as_of

    def note_balance_as_of(self, as_of: datetime | None) -> bool:
        """Remember `as_of` as the time of the ERP's figures when it is later than the one known (a balance equal
        to ours still dates them); True when it moved."""
        if as_of is None or (self.balance_as_of is not None and as_of <= self.balance_as_of):
            return False
        self.balance_as_of = as_of
        return True

    def update_balance(
        self, receivables: Money, overdue_days: int, at: datetime, as_of: datetime | None = None
    ) -> None:
        """The ERP's receivables and overdue days (as of the ERP's `as_of`, when it says) replace ours
        (`CustomerBalanceUpdated`). The caller checks `is_older_balance` first."""
        self._require_currency(receivables)
        if overdue_days < 0:
            raise ValidationFailed("overdue_days must not be negative", field="overdue_days")
        if self.is_older_balance(as_of):
            raise ValidationFailed("the balance is older than the one applied", field="as_of")
        self.receivables = receivables.minor
        self.overdue_days = overdue_days
        self.note_balance_as_of(as_of)
        self.updated_at = at
        self.events.append(
            CustomerBalanceUpdated(
                occurred_at=at, customer_id=self.customer_id, receivables=receivables, overdue_days=overdue_days
            )
        )


@attrs.frozen(kw_only=True)
class LimitChange:
    """One entry of a customer's limit history."""

    id: str
    customer_id: str
    kind: str  # "limit" | "temporary_limit" | "tolerance" | "block" | "unblock"
    old: str | None
    new: str | None
    changed_by: str
    at: datetime
    reason: str
    request_id: str | None = None
