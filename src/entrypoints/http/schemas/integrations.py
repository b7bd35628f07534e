"""Shapes of the ERP webhook (`POST /api/v1/integrations/{erp}/events`, docs/integrations/erp-webhook.md): one
event or a batch of events, and what applying them did."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field, RootModel, StringConstraints

from crm_domain.erp import ErpOrderState
from crm_domain.money import Money
from crm_domain.services.erp_events import BalanceReport, EventResult, OrderStatusReport
from entrypoints.http.schemas.common import Currency, In, MoneyStr, Out, SignedMoneyStr, _exactly

MAX_EVENTS = 500

EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_./:\-]+$")]
ErpState = Literal["open", "dispatched", "invoiced", "delivered", "cancelled"]
OverdueDays = Annotated[int, _exactly(int), Field(ge=0, le=36500)]


def _instant(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string with a time zone")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("must be an ISO 8601 date-time string with a time zone") from exc
    if parsed.tzinfo is None:
        raise ValueError("must carry a time zone (e.g. Z or +05:30)")
    return parsed


Instant = Annotated[datetime, BeforeValidator(_instant)]


class OrderStatusEventIn(In):
    """The ERP's state of one order. Name it by `external_ref` (our order id or number, as sent to the ERP) or by
    `erp_order_id` (the CRM then asks the ERP for the reference), or both."""

    type: Literal["order.status"]
    id: EventId = Field(
        validation_alias=AliasChoices("id", "event_id"),
        description="The ERP's event id (required; sent as `id` or `event_id`): a replay of it changes nothing.",
    )
    erp_order_id: Ref | None = None
    external_ref: Ref | None = Field(default=None, description="Our order id (or order number).")
    state: ErpState = Field(description="open (accepted: our `confirmed`), dispatched, invoiced, delivered, cancelled.")
    invoice_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    invoiced_amount: MoneyStr | None = Field(
        default=None, description='The invoiced amount ("1180.00"); the order total when left out.'
    )
    currency: Currency | None = Field(
        default=None, description="Of invoiced_amount (CRM_DEFAULT_CURRENCY when left out); must be the customer's."
    )
    changed_at: Instant | None = Field(
        default=None, description="The ERP's time of this state: a report older than the one applied changes nothing."
    )

    def report(self, currency: str) -> OrderStatusReport:
        amount = None
        if self.invoiced_amount is not None:
            amount = Money.of(self.invoiced_amount, self.currency or currency)
        return OrderStatusReport(
            erp_order_id=self.erp_order_id,
            external_ref=self.external_ref,
            state=ErpOrderState(self.state),
            invoice_number=self.invoice_number,
            invoiced_amount=amount,
            changed_at=self.changed_at,
        )


class CustomerBalanceEventIn(In):
    """The ERP's receivables (open invoice balance) and the age of the oldest overdue item of a customer."""

    type: Literal["customer.balance"]
    id: EventId = Field(
        validation_alias=AliasChoices("id", "event_id"),
        description="The ERP's event id (required; sent as `id` or `event_id`): a replay of it changes nothing.",
    )
    customer_code: Ref
    receivables: SignedMoneyStr = Field(description='Open invoice balance, e.g. "25000.00"; negative for an advance.')
    currency: Currency | None = Field(
        default=None, description="Of receivables (CRM_DEFAULT_CURRENCY when left out); must be the customer's."
    )
    overdue_days: OverdueDays = 0
    as_of: Instant | None = Field(
        default=None,
        description="The ERP's time of these figures: a balance older than the one applied changes nothing.",
    )

    def report(self, currency: str) -> BalanceReport:
        return BalanceReport(
            customer_code=self.customer_code,
            receivables=Money.of(self.receivables, self.currency or currency),
            overdue_days=self.overdue_days,
            as_of=self.as_of,
        )


ErpEventIn = Annotated[OrderStatusEventIn | CustomerBalanceEventIn, Field(discriminator="type")]


class ErpEventBatchIn(In):
    events: list[ErpEventIn] = Field(min_length=1, max_length=MAX_EVENTS)


class ErpEventsIn(RootModel[ErpEventIn | ErpEventBatchIn]):
    """One event, or `{"events": [...]}` with 1 to 500 of them (applied in the order given)."""

    def events(self) -> list[OrderStatusEventIn | CustomerBalanceEventIn]:
        root = self.root
        return list(root.events) if isinstance(root, ErpEventBatchIn) else [root]


class EventResultOut(Out):
    index: int = Field(description="The event's position in the request, from 0.")
    id: str | None = None
    type: str
    outcome: Literal["applied", "unchanged", "duplicate", "rejected"]
    order_id: str | None = None
    order_number: str | None = None
    customer_id: str | None = None
    status: str | None = Field(default=None, description="The order's status afterwards.")
    steps: list[str] = Field(default_factory=list, description="The statuses the order went through.")
    released: list[str] = Field(default_factory=list, description="Held orders released by this change.")
    code: str | None = Field(default=None, description="Why a rejected event was refused (a problem code).")
    detail: str | None = None

    @classmethod
    def of(cls, index: int, event: OrderStatusEventIn | CustomerBalanceEventIn, result: EventResult) -> EventResultOut:
        return cls(
            index=index,
            id=event.id,
            type=event.type,
            outcome=result.outcome.value,
            order_id=result.order_id,
            order_number=result.order_number,
            customer_id=result.customer_id,
            status=None if result.status is None else result.status.value,
            steps=[s.value for s in result.steps],
            released=list(result.released),
        )


class ErpEventsOut(Out):
    applied: int
    unchanged: int
    duplicate: int
    rejected: int
    results: list[EventResultOut]
