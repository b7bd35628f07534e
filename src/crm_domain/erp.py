"""What the domain exchanges with an ERP (SAP S/4HANA, GenNext, the sandbox): plain values, no transport.

The `ErpGateway` port (crm_domain.ports) takes and returns these. Amounts are `Money`; an ERP adapter converts
to and from its own representation. Failures split in two:

- `UpstreamUnavailable` (crm_domain.errors): transient — connection refused, timeout, 5xx, a SOAP fault the ERP
  marks as temporary, a malformed answer. The outbox worker retries with backoff.
- `ErpRejected` (below): permanent — the ERP understood the request and refuses it (unknown customer or
  material, blocked sold-to party). Retrying cannot help; the order's `erp_sync` goes to `dead`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Generic, TypeVar

import attrs

from crm_domain.errors import DomainError
from crm_domain.money import Money

T = TypeVar("T")


class ErpRejected(DomainError):
    """The ERP refused the request for good (retrying cannot help)."""

    code: ClassVar[str] = "erp_rejected"


@attrs.frozen(kw_only=True)
class ErpOrderLine:
    sku: str
    erp_material_id: str | None
    quantity: Decimal
    uom: str
    unit_price: Money
    discount_pct: Decimal
    net: Money
    tax: Money
    total: Money


@attrs.frozen(kw_only=True)
class ErpOrderRequest:
    """An order as sent to the ERP. `external_ref` is our order id: the ERP de-duplicates on it, so sending the
    same order twice returns the first ERP order instead of creating a second."""

    external_ref: str
    number: str
    customer_code: str
    erp_customer_id: str | None
    currency: str
    lines: tuple[ErpOrderLine, ...]
    net: Money
    tax: Money
    total: Money
    notes: str = ""
    submitted_at: datetime


@attrs.frozen(kw_only=True)
class ErpOrderAck:
    """The ERP's answer to a create: its order number, and whether it already had the order (a duplicate)."""

    erp_order_id: str
    duplicate: bool = False


class ErpOrderState(StrEnum):
    OPEN = "open"  # accepted, not yet shipped
    DISPATCHED = "dispatched"
    INVOICED = "invoiced"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


@attrs.frozen(kw_only=True)
class ErpOrderStatus:
    erp_order_id: str
    external_ref: str | None
    state: ErpOrderState
    invoice_number: str | None = None
    invoiced_amount: Money | None = None
    changed_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ErpBalance:
    """A customer's receivables in the ERP: the unpaid invoiced amount and the age of its oldest overdue item."""

    customer_code: str
    receivables: Money
    overdue_days: int = 0
    as_of: datetime | None = None


class BalanceSource(StrEnum):
    """Where the receivables of a credit check came from: read from the ERP at that moment, or as last stored."""

    LIVE = "live"
    STORED = "stored"


@attrs.frozen(kw_only=True)
class ErpCreditVerdict:
    """An ERP's own credit check of one amount for a customer (SAP's `CreditWorthinessQuery_In`): a second
    opinion next to ours. `available` is what the ERP says is left, when it says."""

    customer_code: str
    passed: bool
    available: Money | None = None


@attrs.frozen(kw_only=True)
class ErpCommitment:
    """An order the ERP does not know as an invoice yet, reported so the ERP's credit exposure includes it. A later
    report of the same `external_ref` (our order id) replaces the earlier one; an amount of zero ends it."""

    customer_code: str
    external_ref: str
    amount: Money


@attrs.frozen(kw_only=True)
class ErpCustomer:
    customer_code: str
    erp_customer_id: str
    name: str
    mobile: str | None = None
    territory: str = ""
    currency: str = "INR"
    active: bool = True
    changed_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ErpProduct:
    sku: str
    erp_material_id: str
    name: str
    uom: str = "EA"
    unit_price: Money
    tax_rate: Decimal = Decimal(0)
    active: bool = True
    changed_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ErpChanges(Generic[T]):
    """One page of a "changed since" listing. Pass `next_cursor` back to continue; None when done. A batch sync
    stores the last cursor it finished so an interrupted run resumes where it stopped."""

    items: tuple[T, ...]
    next_cursor: str | None
