"""Orders as one JSON document per row (lines, history, credit decision, attachments); the columns that lists
filter on are written beside it by the repository. Money is `[minor, currency]`, Decimals are strings, times are
integer microseconds (see codec.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.sqlite.codec import (
    Row,
    dumps_plain,
    instant,
    instant_or_none,
    loads,
    micros,
    micros_or_none,
    money_of,
    money_or_none,
    money_pair,
    money_pair_or_none,
)
from crm_domain.credit import HoldReason, Verdict
from crm_domain.erp import BalanceSource
from crm_domain.orders import (
    Attachment,
    Channel,
    CreditDecision,
    ErpSync,
    Order,
    OrderLine,
    OrderStatus,
    StatusChange,
)


def order_row(order: Order) -> tuple[Any, ...]:
    """(id, number, customer_id, status, rep_id, created_at, held_at, version, doc)."""
    return (
        order.id,
        order.number,
        order.customer_id,
        order.status.value,
        order.rep_id,
        micros(order.created_at),
        micros_or_none(order.held_at),
        order.version,
        dumps_plain(_order_doc(order)),
    )


def _order_doc(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "customer_id": order.customer_id,
        "created_by": order.created_by,
        "channel": order.channel.value,
        "currency": order.currency,
        "lines": [_line_doc(line) for line in order.lines],
        "notes": order.notes,
        "status": order.status.value,
        "rep_id": order.rep_id,
        "credit": None if order.credit is None else _decision_doc(order.credit),
        "erp_sync": order.erp_sync.value,
        "erp_order_id": order.erp_order_id,
        "erp_error": order.erp_error,
        "erp_changed_at": micros_or_none(order.erp_changed_at),
        "history": [_change_doc(change) for change in order.history],
        "attachments": [_attachment_doc(a) for a in order.attachments],
        "created_at": micros(order.created_at),
        "updated_at": micros(order.updated_at),
        "submitted_at": micros_or_none(order.submitted_at),
        "held_at": micros_or_none(order.held_at),
    }


def order_from(row: Row) -> Order:
    doc = loads(row["doc"])
    return Order(
        id=row["id"],
        number=doc["number"],
        customer_id=doc["customer_id"],
        created_by=doc["created_by"],
        channel=Channel(doc["channel"]),
        currency=doc["currency"],
        lines=tuple(_line_from(line) for line in doc["lines"]),
        notes=doc["notes"],
        status=OrderStatus(doc["status"]),
        rep_id=doc["rep_id"],
        credit=None if doc["credit"] is None else _decision_from(doc["credit"]),
        erp_sync=ErpSync(doc["erp_sync"]),
        erp_order_id=doc["erp_order_id"],
        erp_error=doc["erp_error"],
        erp_changed_at=instant_or_none(doc.get("erp_changed_at")),  # absent from documents written before
        history=[_change_from(change) for change in doc["history"]],
        attachments=[_attachment_from(a) for a in doc["attachments"]],
        created_at=instant(doc["created_at"]),
        updated_at=instant(doc["updated_at"]),
        submitted_at=instant_or_none(doc["submitted_at"]),
        held_at=instant_or_none(doc["held_at"]),
        version=row["version"],
    )


def _line_doc(line: OrderLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "uom": line.uom,
        "quantity": str(line.quantity),
        "discount_pct": str(line.discount_pct),
        "unit_price": money_pair(line.unit_price),
        "tax_rate": str(line.tax_rate),
        "net": money_pair(line.net),
        "tax": money_pair(line.tax),
        "total": money_pair(line.total),
    }


def _line_from(doc: dict[str, Any]) -> OrderLine:
    return OrderLine(
        sku=doc["sku"],
        name=doc["name"],
        uom=doc["uom"],
        quantity=Decimal(doc["quantity"]),
        discount_pct=Decimal(doc["discount_pct"]),
        unit_price=money_of(doc["unit_price"]),
        tax_rate=Decimal(doc["tax_rate"]),
        net=money_of(doc["net"]),
        tax=money_of(doc["tax"]),
        total=money_of(doc["total"]),
    )


def _decision_doc(decision: CreditDecision) -> dict[str, Any]:
    return {
        "verdict": decision.verdict.value,
        "reason": None if decision.reason is None else decision.reason.value,
        "available": money_pair(decision.available),
        "shortfall": money_pair(decision.shortfall),
        "decided_at": micros(decision.decided_at),
        "released_by": decision.released_by,
        "released_at": micros_or_none(decision.released_at),
        "release_note": decision.release_note,
        "released_shortfall": money_pair_or_none(decision.released_shortfall),
        "needs_person": decision.needs_person,
        "balance_source": decision.balance_source.value,
        "balance_as_of": micros_or_none(decision.balance_as_of),
    }


def _decision_from(doc: dict[str, Any]) -> CreditDecision:
    return CreditDecision(
        verdict=Verdict(doc["verdict"]),
        reason=None if doc["reason"] is None else HoldReason(doc["reason"]),
        available=money_of(doc["available"]),
        shortfall=money_of(doc["shortfall"]),
        decided_at=instant(doc["decided_at"]),
        released_by=doc["released_by"],
        released_at=instant_or_none(doc["released_at"]),
        release_note=doc["release_note"],
        released_shortfall=money_or_none(doc["released_shortfall"]),
        needs_person=bool(doc.get("needs_person", False)),  # absent in documents written before it existed
        # absent in documents written before live balances: those checks used the stored figures
        balance_source=BalanceSource(doc.get("balance_source", BalanceSource.STORED.value)),
        balance_as_of=instant_or_none(doc.get("balance_as_of")),
    )


def _change_doc(change: StatusChange) -> dict[str, Any]:
    return {
        "from": None if change.from_status is None else change.from_status.value,
        "to": change.to_status.value,
        "actor_id": change.actor_id,
        "at": micros(change.at),
        "note": change.note,
    }


def _change_from(doc: dict[str, Any]) -> StatusChange:
    return StatusChange(
        from_status=None if doc["from"] is None else OrderStatus(doc["from"]),
        to_status=OrderStatus(doc["to"]),
        actor_id=doc["actor_id"],
        at=instant(doc["at"]),
        note=doc["note"],
    )


def _attachment_doc(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "uploaded_by": attachment.uploaded_by,
        "uploaded_at": micros(attachment.uploaded_at),
    }


def _attachment_from(doc: dict[str, Any]) -> Attachment:
    return Attachment(
        id=doc["id"],
        filename=doc["filename"],
        content_type=doc["content_type"],
        size=doc["size"],
        uploaded_by=doc["uploaded_by"],
        uploaded_at=instant(doc["uploaded_at"]),
    )
