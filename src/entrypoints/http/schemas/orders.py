"""Order, quote and line shapes (SPEC §4)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from crm_domain.credit import HoldReason, Verdict
from crm_domain.orders import Channel, ErpSync, LineRequest, Order, OrderLine, OrderStatus, StatusChange
from crm_domain.services.orders import NewOrder, Quote
from entrypoints.http.schemas.common import (
    CurrencyOut,
    DecimalOut,
    ExactBool,
    Id,
    In,
    MoneyOut,
    Out,
    PlainDecimal,
    ShortText,
    Text,
)

ChannelName = Literal["field_app", "dealer_app", "call_center", "web", "import"]


class LineIn(In):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: PlainDecimal = Field(description="Positive, at most 3 decimal places, at most 1,000,000.")
    discount_pct: PlainDecimal = Field(default=Decimal(0), description="0 to 100, at most 2 decimal places.")


class OrderIn(In):
    customer_id: Id
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    notes: Text = ""
    channel: ChannelName | None = None
    submit: ExactBool = False

    def command(self) -> NewOrder:
        return NewOrder(
            customer_id=self.customer_id,
            lines=tuple(
                LineRequest(sku=line.sku, quantity=line.quantity, discount_pct=line.discount_pct) for line in self.lines
            ),
            notes=self.notes,
            channel=Channel(self.channel) if self.channel else None,
            submit=self.submit,
        )


class NoteIn(In):
    note: ShortText = Field(min_length=1)


class ReasonIn(In):
    reason: ShortText = Field(min_length=1)


class LineOut(Out):
    sku: str
    name: str
    uom: str
    quantity: DecimalOut
    discount_pct: DecimalOut
    unit_price: MoneyOut
    tax_rate: DecimalOut
    net: MoneyOut
    tax: MoneyOut
    total: MoneyOut

    @classmethod
    def of(cls, line: OrderLine) -> LineOut:
        return cls(
            sku=line.sku,
            name=line.name,
            uom=line.uom,
            quantity=str(line.quantity),
            discount_pct=str(line.discount_pct),
            unit_price=line.unit_price.decimal_string(),
            tax_rate=str(line.tax_rate),
            net=line.net.decimal_string(),
            tax=line.tax.decimal_string(),
            total=line.total.decimal_string(),
        )


class CreditOut(Out):
    verdict: Verdict
    reason: HoldReason | None
    available: MoneyOut
    shortfall: MoneyOut
    released_by: str | None = None
    released_at: datetime | None = None
    release_note: str | None = None
    balance_source: Literal["live", "stored"] = Field(
        default="stored",
        description="where the check's receivables came from: read from the ERP at that moment, or as last stored",
    )
    balance_as_of: datetime | None = Field(default=None, description="the time of those receivables, when known")


class HistoryOut(Out):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    from_: OrderStatus | None = Field(alias="from")
    to: OrderStatus
    actor_id: str
    at: datetime
    note: str

    @classmethod
    def of(cls, change: StatusChange) -> HistoryOut:
        return cls.model_validate(
            {
                "from": change.from_status,
                "to": change.to_status,
                "actor_id": change.actor_id,
                "at": change.at,
                "note": change.note,
            }
        )


class AttachmentOut(Out):
    id: str
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    uploaded_at: datetime


class OrderOut(Out):
    id: str
    number: str
    customer_id: str
    status: OrderStatus
    channel: Channel
    rep_id: str | None
    created_by: str
    currency: CurrencyOut
    lines: list[LineOut]
    subtotal: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    notes: str
    credit: CreditOut | None
    erp_sync: ErpSync
    erp_order_id: str | None
    history: list[HistoryOut]
    attachments: list[AttachmentOut]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        credit = order.credit
        return cls(
            id=order.id,
            number=order.number,
            customer_id=order.customer_id,
            status=order.status,
            channel=order.channel,
            rep_id=order.rep_id,
            created_by=order.created_by,
            currency=order.currency,
            lines=[LineOut.of(line) for line in order.lines],
            subtotal=order.subtotal.decimal_string(),
            tax_total=order.tax_total.decimal_string(),
            total=order.total.decimal_string(),
            notes=order.notes,
            credit=None
            if credit is None
            else CreditOut(
                verdict=credit.verdict,
                reason=credit.reason,
                available=credit.available.decimal_string(),
                shortfall=credit.shortfall.decimal_string(),
                released_by=credit.released_by,
                released_at=credit.released_at,
                release_note=credit.release_note,
                balance_source=credit.balance_source.value,
                balance_as_of=credit.balance_as_of,
            ),
            erp_sync=order.erp_sync,
            erp_order_id=order.erp_order_id,
            history=[HistoryOut.of(h) for h in order.history],
            attachments=[
                AttachmentOut(
                    id=a.id,
                    filename=a.filename,
                    content_type=a.content_type,
                    size=a.size,
                    uploaded_by=a.uploaded_by,
                    uploaded_at=a.uploaded_at,
                )
                for a in order.attachments
            ],
            created_at=order.created_at,
            updated_at=order.updated_at,
            submitted_at=order.submitted_at,
        )


class QuoteOut(Out):
    customer_id: str
    currency: CurrencyOut
    lines: list[LineOut]
    subtotal: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    credit: CreditOut

    @classmethod
    def of(cls, quote: Quote) -> QuoteOut:
        c = quote.credit
        return cls(
            customer_id=quote.customer_id,
            currency=quote.currency,
            lines=[LineOut.of(x) for x in quote.lines],
            subtotal=quote.subtotal.decimal_string(),
            tax_total=quote.tax_total.decimal_string(),
            total=quote.total.decimal_string(),
            credit=CreditOut(
                verdict=c.verdict,
                reason=c.reason,
                available=c.available.decimal_string(),
                shortfall=c.shortfall.decimal_string(),
                balance_source=quote.balance_source.value,
                balance_as_of=quote.balance_as_of,
            ),
        )
