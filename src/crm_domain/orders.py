"""Orders: lines and totals, the state machine with its history, the credit decision (SPEC §2.4, §2.5)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final, TypedDict

import attrs

from crm_domain.credit import CreditCheck, HoldReason, Verdict
from crm_domain.erp import BalanceSource
from crm_domain.errors import FourEyesViolation, InvalidTransition, ValidationFailed
from crm_domain.events import (
    Event,
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderErpSyncChanged,
    OrderPutOnCreditHold,
    OrderRejected,
    OrderReleased,
    OrderStatusChanged,
    OrderSubmitted,
)
from crm_domain.money import Money, total
from crm_domain.pricing import price_line
from crm_domain.products import Product, check_quantity, check_rate, check_sku
from crm_domain.users import Actor

MAX_LINES: Final = 500


class OrderStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ON_CREDIT_HOLD = "on_credit_hold"
    REJECTED = "rejected"
    CONFIRMED = "confirmed"
    DISPATCHED = "dispatched"
    INVOICED = "invoiced"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


S = OrderStatus
TRANSITIONS: Final[dict[OrderStatus, frozenset[OrderStatus]]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.ON_CREDIT_HOLD, S.CANCELLED}),
    S.ON_CREDIT_HOLD: frozenset({S.SUBMITTED, S.REJECTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.DISPATCHED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.INVOICED}),
    S.INVOICED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}
#: States whose order holds a credit reservation.
RESERVING: Final = frozenset({S.SUBMITTED, S.CONFIRMED, S.DISPATCHED})
#: States that count towards a rep's achieved figure (SPEC §2.6).
COUNTED: Final = frozenset({S.SUBMITTED, S.CONFIRMED, S.DISPATCHED, S.INVOICED, S.DELIVERED})


class ErpSync(StrEnum):
    NOT_SENT = "not_sent"
    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"
    DEAD = "dead"


class Channel(StrEnum):
    FIELD_APP = "field_app"
    DEALER_APP = "dealer_app"
    CALL_CENTER = "call_center"
    WEB = "web"
    IMPORT = "import"


def _discount(value: Decimal | int | str) -> Decimal:
    return check_rate(value, "discount_pct")


@attrs.frozen(kw_only=True)
class LineRequest:
    """One line as asked for: what the caller says, before prices are copied from the catalogue."""

    sku: str = attrs.field(converter=check_sku)
    quantity: Decimal = attrs.field(converter=check_quantity)
    discount_pct: Decimal = attrs.field(default=Decimal(0), converter=_discount)


@attrs.frozen(kw_only=True)
class OrderLine:
    sku: str
    name: str
    uom: str
    quantity: Decimal
    discount_pct: Decimal
    unit_price: Money
    tax_rate: Decimal
    net: Money
    tax: Money
    total: Money

    @classmethod
    def priced(cls, request: LineRequest, product: Product) -> OrderLine:
        amounts = price_line(request.quantity, product.unit_price, request.discount_pct, product.tax_rate)
        return cls(
            sku=product.sku,
            name=product.name,
            uom=product.uom,
            quantity=request.quantity,
            discount_pct=request.discount_pct,
            unit_price=product.unit_price,
            tax_rate=product.tax_rate,
            net=amounts.net,
            tax=amounts.tax,
            total=amounts.total,
        )


@attrs.frozen(kw_only=True)
class StatusChange:
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor_id: str
    at: datetime
    note: str = ""


@attrs.frozen(kw_only=True)
class CreditDecision:
    """The credit verdict recorded on the order at submit, and the override when a hold was released."""

    verdict: Verdict
    reason: HoldReason | None
    available: Money
    shortfall: Money
    decided_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None
    release_note: str | None = None
    released_shortfall: Money | None = None
    #: The automatic release may not move the order: its creator asked for or approved a credit raise of its
    #: customer while it was held (SPEC §2.3 credit governance); a person other than its creator releases it.
    needs_person: bool = False
    #: Where the receivables of the check came from: read from the ERP at submit (`live`) or as last stored, and
    #: the time of those figures as far as known (SPEC §8, request-reply at the credit check).
    balance_source: BalanceSource = BalanceSource.STORED
    balance_as_of: datetime | None = None

    @classmethod
    def from_check(
        cls,
        check: CreditCheck,
        at: datetime,
        *,
        balance_source: BalanceSource = BalanceSource.STORED,
        balance_as_of: datetime | None = None,
    ) -> CreditDecision:
        return cls(
            verdict=check.verdict,
            reason=check.reason,
            available=check.available,
            shortfall=check.shortfall,
            decided_at=at,
            balance_source=balance_source,
            balance_as_of=balance_as_of,
        )


@attrs.frozen(kw_only=True)
class Attachment:
    id: str
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    uploaded_at: datetime


class _EventBase(TypedDict):
    occurred_at: datetime
    order_id: str
    order_number: str
    customer_id: str
    actor_id: str


def check_lines(requests: list[LineRequest]) -> None:
    if not 1 <= len(requests) <= MAX_LINES:
        raise ValidationFailed(f"an order has 1 to {MAX_LINES} lines, got {len(requests)}", field="lines")
    seen: set[str] = set()
    for line in requests:
        if line.sku in seen:
            raise ValidationFailed(f"SKU {line.sku!r} appears more than once", field="lines")
        seen.add(line.sku)


@attrs.define(kw_only=True)
class Order:
    id: str
    number: str
    customer_id: str
    created_by: str
    channel: Channel
    currency: str
    lines: tuple[OrderLine, ...]
    notes: str = ""
    status: OrderStatus = OrderStatus.DRAFT
    rep_id: str | None = None
    credit: CreditDecision | None = None
    erp_sync: ErpSync = ErpSync.NOT_SENT
    erp_order_id: str | None = None
    erp_error: str | None = None
    #: The ERP's own time of the status change last applied: an older report is ignored (SPEC §5).
    erp_changed_at: datetime | None = None
    history: list[StatusChange] = attrs.field(factory=list)
    attachments: list[Attachment] = attrs.field(factory=list)
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None  # when it entered `submitted` (counts for the rep from then)
    held_at: datetime | None = None
    version: int = 0
    events: list[Event] = attrs.field(factory=list, eq=False, repr=False)
    #: (status, dating moment, rep) before the first move since it was read: what its sales buckets held then
    #: (crm_domain.sales); pulled by the unit of work at commit. Not stored.
    _sales_before: tuple[OrderStatus, datetime | None, str | None] | None = attrs.field(
        default=None, init=False, eq=False, repr=False
    )

    # --- creation -----------------------------------------------------------------------------------------

    @classmethod
    def draft(
        cls,
        *,
        id: str,
        number: str,
        customer_id: str,
        currency: str,
        lines: list[OrderLine],
        actor: Actor,
        channel: Channel,
        notes: str,
        at: datetime,
    ) -> Order:
        for line in lines:
            if line.unit_price.currency != currency:
                raise ValidationFailed(
                    f"SKU {line.sku} is priced in {line.unit_price.currency}, the customer buys in {currency}",
                    field="lines",
                )
        order = cls(
            id=id,
            number=number,
            customer_id=customer_id,
            created_by=actor.id,
            channel=channel,
            currency=currency,
            lines=tuple(lines),
            notes=notes,
            created_at=at,
            updated_at=at,
            history=[StatusChange(from_status=None, to_status=OrderStatus.DRAFT, actor_id=actor.id, at=at)],
        )
        order.events.append(OrderCreated(**order._event_base(actor.id, at), total=order.total))
        return order

    # --- totals -------------------------------------------------------------------------------------------

    @property
    def subtotal(self) -> Money:
        return total([line.net for line in self.lines], self.currency)

    @property
    def tax_total(self) -> Money:
        return total([line.tax for line in self.lines], self.currency)

    @property
    def total(self) -> Money:
        return total([line.total for line in self.lines], self.currency)

    @property
    def holds_reservation(self) -> bool:
        return self.status in RESERVING

    @property
    def counts_for_performance(self) -> bool:
        return self.status in COUNTED

    # --- transitions --------------------------------------------------------------------------------------

    def _event_base(self, actor_id: str, at: datetime) -> _EventBase:
        return {
            "occurred_at": at,
            "order_id": self.id,
            "order_number": self.number,
            "customer_id": self.customer_id,
            "actor_id": actor_id,
        }

    def _move(self, target: OrderStatus, actor_id: str, at: datetime, note: str = "") -> OrderStatus:
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransition(self.id, self.status.value, target.value)
        previous = self.status
        if self._sales_before is None:
            self._sales_before = (previous, self.submitted_at or self.held_at, self.rep_id)
        self.history.append(StatusChange(from_status=previous, to_status=target, actor_id=actor_id, at=at, note=note))
        self.status = target
        self.updated_at = at
        return previous

    def ensure_can(self, target: OrderStatus) -> None:
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransition(self.id, self.status.value, target.value)

    def submit(
        self,
        check: CreditCheck,
        rep_id: str | None,
        actor: Actor,
        at: datetime,
        *,
        balance_source: BalanceSource = BalanceSource.STORED,
        balance_as_of: datetime | None = None,
    ) -> None:
        """Record the credit verdict: `submitted` when approved, else `on_credit_hold`. Only a draft is submitted;
        a held order leaves its hold by `release` (a person, four eyes, or the system) or `reject`."""
        if self.status is not OrderStatus.DRAFT:
            raise InvalidTransition(self.id, self.status.value, OrderStatus.SUBMITTED.value)
        self.rep_id = rep_id
        self.credit = CreditDecision.from_check(check, at, balance_source=balance_source, balance_as_of=balance_as_of)
        base = self._event_base(actor.id, at)
        if check.approved:
            self._move(OrderStatus.SUBMITTED, actor.id, at)
            self.submitted_at = at
            self.erp_sync = ErpSync.PENDING
            self.events.append(OrderSubmitted(**base, total=self.total, rep_id=rep_id))
        else:
            assert check.reason is not None
            self._move(OrderStatus.ON_CREDIT_HOLD, actor.id, at, note=check.reason.value)
            self.held_at = at
            self.events.append(
                OrderPutOnCreditHold(**base, total=self.total, reason=check.reason.value, shortfall=check.shortfall)
            )

    def release(self, actor: Actor, note: str, shortfall: Money, at: datetime, *, by_system: bool = False) -> None:
        """Release a credit hold. A person may not release their own order (four eyes); the automatic release
        (`by_system`, on behalf of `actor`) may not move an order that `needs_person` (see
        `may_release_automatically`)."""
        self.ensure_can(OrderStatus.SUBMITTED)
        if self.status is not OrderStatus.ON_CREDIT_HOLD:
            raise InvalidTransition(self.id, self.status.value, "released")
        if not by_system and actor.id == self.created_by:
            raise FourEyesViolation("releasing an order from credit hold", actor.id)
        if by_system and self.credit is not None and self.credit.needs_person:
            raise FourEyesViolation("releasing an order from credit hold", actor.id)
        self._move(OrderStatus.SUBMITTED, actor.id, at, note=note)
        self.submitted_at = at
        self.erp_sync = ErpSync.PENDING
        assert self.credit is not None
        self.credit = attrs.evolve(
            self.credit, released_by=actor.id, released_at=at, release_note=note, released_shortfall=shortfall
        )
        self.events.append(
            OrderReleased(
                **self._event_base(actor.id, at),
                total=self.total,
                by_system=by_system,
                shortfall=shortfall,
                note=note,
            )
        )

    def keep_for_a_person(self, raised_by: frozenset[str]) -> bool:
        """After a credit raise asked for and approved by `raised_by`: a held order created by one of them is
        marked `needs_person` (the automatic release never moves it; it stays on hold for another person).
        Answers whether it marked the order now."""
        if self.status is not OrderStatus.ON_CREDIT_HOLD or self.created_by not in raised_by:
            return False
        assert self.credit is not None
        if self.credit.needs_person:
            return False
        self.credit = attrs.evolve(self.credit, needs_person=True)
        return True

    @property
    def releasable_automatically(self) -> bool:
        """Whether the automatic release may move this order when it fits: not when it `needs_person`, nor when the
        ERP's own credit check refused it (fitting our limit is not the question then; a person decides)."""
        if self.credit is None:
            return True
        return not self.credit.needs_person and self.credit.reason is not HoldReason.ERP_CREDIT_CHECK

    def reject(self, actor: Actor, reason: str, at: datetime) -> None:
        if self.status is not OrderStatus.ON_CREDIT_HOLD:
            raise InvalidTransition(self.id, self.status.value, OrderStatus.REJECTED.value)
        if not reason.strip():
            raise ValidationFailed("rejecting an order needs a reason", field="reason")
        self._move(OrderStatus.REJECTED, actor.id, at, note=reason)
        self.events.append(OrderRejected(**self._event_base(actor.id, at), reason=reason))

    def is_older_erp_change(self, changed_at: datetime | None) -> bool:
        """Whether an ERP status report of `changed_at` is older than the one already applied (a late or
        replayed event), so it must change nothing. A report without a time cannot be told older."""
        return changed_at is not None and self.erp_changed_at is not None and changed_at < self.erp_changed_at

    def note_erp_change(self, changed_at: datetime | None) -> bool:
        """Remember `changed_at` as the ERP's time of this order's state when it is later than the one known;
        True when it moved."""
        if changed_at is None or (self.erp_changed_at is not None and changed_at <= self.erp_changed_at):
            return False
        self.erp_changed_at = changed_at
        return True

    def cancel(self, actor: Actor, reason: str, at: datetime) -> OrderStatus:
        previous = self._move(OrderStatus.CANCELLED, actor.id, at, note=reason)
        self.events.append(
            OrderCancelled(
                **self._event_base(actor.id, at),
                previous_status=previous.value,
                reason=reason,
                erp_order_id=self.erp_order_id,
            )
        )
        return previous

    def confirm(self, erp_order_id: str, actor: Actor, at: datetime) -> None:
        """The ERP accepted the order."""
        if not erp_order_id:
            raise ValidationFailed("confirming needs the ERP order id", field="erp_order_id")
        self._move(OrderStatus.CONFIRMED, actor.id, at, note=f"ERP order {erp_order_id}")
        self.erp_order_id = erp_order_id
        self.erp_sync = ErpSync.SYNCED
        self.erp_error = None
        self.events.append(OrderConfirmed(**self._event_base(actor.id, at), erp_order_id=erp_order_id))

    def advance(self, target: OrderStatus, actor: Actor, at: datetime, note: str = "") -> OrderStatus:
        """ERP-driven progress: dispatched, invoiced, delivered."""
        if target not in {OrderStatus.DISPATCHED, OrderStatus.INVOICED, OrderStatus.DELIVERED}:
            raise InvalidTransition(self.id, self.status.value, target.value)
        previous = self._move(target, actor.id, at, note=note)
        self.events.append(
            OrderStatusChanged(**self._event_base(actor.id, at), previous_status=previous.value, status=target.value)
        )
        return previous

    def set_erp_sync(self, state: ErpSync, at: datetime, error: str | None = None) -> None:
        if state is self.erp_sync and error == self.erp_error:
            return
        self.erp_sync = state
        self.erp_error = error
        self.updated_at = at
        self.events.append(OrderErpSyncChanged(**self._event_base("system", at), erp_sync=state.value, error=error))

    def add_attachment(self, attachment: Attachment) -> None:
        self.attachments.append(attachment)
        self.updated_at = attachment.uploaded_at

    def pull_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    def pull_sales_before(self) -> tuple[OrderStatus, datetime | None, str | None] | None:
        """(status, dating moment, rep) before the moves since it was read or last pulled; None when it did not
        move. The unit of work turns it into sales-bucket changes at commit (crm_domain.sales)."""
        before, self._sales_before = self._sales_before, None
        return before
