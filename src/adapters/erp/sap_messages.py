"""Mapping between the domain's ERP values and the SAP messages of sap_wsdl/ (request dicts for zeep, zeep
answer objects back to domain values). No I/O here; `SapErpGateway` (adapters.erp.sap) sends and receives.

Amounts travel as `{"_value_1": Decimal, "currencyCode": "INR"}` (an XSD simple content with an attribute);
SAP may answer with more decimals than the CRM's two, which are rounded half up to the minor unit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs

from crm_domain.erp import (
    ErpCommitment,
    ErpCreditVerdict,
    ErpCustomer,
    ErpOrderRequest,
    ErpOrderState,
    ErpOrderStatus,
    ErpProduct,
)
from crm_domain.money import Money

GLOBAL_NS = "http://sap.com/xi/SAPGlobal20/Global"
MAX_HITS = 1000  # QueryHitsMaximumNumberValue's upper bound in sap_global.xsd
_MESSAGE_IDS = uuid.UUID("7f0b5a52-3c1e-4d0e-9a57-0c8f6b1f2d11")


class SapAnswerMalformed(Exception):
    """An answer that parsed but lacks what the contract promises (a missing ID, an impossible state)."""


@attrs.frozen(kw_only=True)
class SapCreditWorthiness(ErpCreditVerdict):
    """The answer of `CreditWorthinessQuery_In` for one amount: whether SAP's own credit check passes it, with
    SAP's figures."""

    available: Money
    limit: Money
    exposure: Money
    risk_class: str | None = None


#: One open order (not yet invoiced) reported to SAP Credit Management as a commitment of its customer.
SapCreditCommitment = ErpCommitment


def message_header(message_id: str | None = None) -> dict[str, Any]:
    """SAP's BusinessDocumentMessageHeader. A create's ID is derived from our order id, so a resend carries the
    same message ID and SAP's idempotent-services layer recognises it as well as the external reference."""
    return {
        "ID": message_id or uuid.uuid4().hex,
        "CreationDateTime": datetime.now(UTC),
    }


def amount(money: Money) -> dict[str, Any]:
    return {"_value_1": money.amount, "currencyCode": money.currency}


def create_request(order: ErpOrderRequest) -> dict[str, Any]:
    items = [
        {
            "ID": str((index + 1) * 10),
            "Product": {"InternalID": line.erp_material_id or line.sku},
            "RequestedQuantity": {"_value_1": line.quantity, "unitCode": line.uom},
            "NetPriceAmount": amount(line.unit_price),
            "DiscountPercent": line.discount_pct,
            "NetAmount": amount(line.net),
            "TaxAmount": amount(line.tax),
            "GrossAmount": amount(line.total),
        }
        for index, line in enumerate(order.lines)
    ]
    sales_order: dict[str, Any] = {
        "ExternalReference": order.external_ref,
        "PurchaseOrderByCustomer": order.number,
        "OrderDateTime": order.submitted_at,
        "DocumentCurrencyCode": order.currency,
        "BuyerParty": {"InternalID": order.erp_customer_id or order.customer_code},
        "Item": items,
        "NetAmount": amount(order.net),
        "TaxAmount": amount(order.tax),
        "GrossAmount": amount(order.total),
    }
    if order.notes:
        sales_order["Note"] = order.notes
    return {
        "MessageHeader": message_header(uuid.uuid5(_MESSAGE_IDS, order.external_ref).hex),
        "SalesOrder": sales_order,
    }


def required(node: Any, *path: str) -> Any:
    """The value at `path` under `node`; `SapAnswerMalformed` when any step is missing."""
    value = node
    for name in path:
        value = getattr(value, name, None)
        if value is None:
            raise SapAnswerMalformed(f"the answer has no {'/'.join(path)}")
    return value


def money_of(node: Any) -> Money:
    value = getattr(node, "_value_1", None)
    currency = getattr(node, "currencyCode", None)
    if not isinstance(value, Decimal) or not isinstance(currency, str):
        raise SapAnswerMalformed(f"not an amount: {node!r}")
    return Money.rounded(value, currency)


def instant(value: datetime | None) -> datetime | None:
    """SAP sends UTC; a time without an offset is taken as UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def order_state(sales_order: Any) -> ErpOrderState:
    """SAP's processing statuses to one lifecycle state; only complete processing (C) moves the order on."""
    if sales_order.CancellationStatusCode == "C":
        return ErpOrderState.CANCELLED
    if sales_order.ProofOfDeliveryStatusCode == "C":
        return ErpOrderState.DELIVERED
    if sales_order.InvoiceProcessingStatusCode == "C":
        return ErpOrderState.INVOICED
    if sales_order.DeliveryProcessingStatusCode == "C":
        return ErpOrderState.DISPATCHED
    return ErpOrderState.OPEN


def order_status(answer: Any) -> ErpOrderStatus:
    sales_order = required(answer, "SalesOrder")
    invoice = getattr(sales_order, "Invoice", None)
    state = order_state(sales_order)
    if state in (ErpOrderState.INVOICED, ErpOrderState.DELIVERED) and invoice is None:
        raise SapAnswerMalformed(f"sales order {sales_order.ID} is invoiced but the answer has no invoice")
    return ErpOrderStatus(
        erp_order_id=required(sales_order, "ID"),
        external_ref=getattr(sales_order, "ExternalReference", None),
        state=state,
        invoice_number=None if invoice is None else required(invoice, "ID"),
        invoiced_amount=None if invoice is None else money_of(required(invoice, "GrossAmount")),
        changed_at=instant(getattr(sales_order, "LastChangeDateTime", None)),
    )


def page_request(since: datetime | None, cursor: str | None, limit: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The selection and the processing conditions of a changed-since query."""
    conditions: dict[str, Any] = {"QueryHitsMaximumNumberValue": max(1, min(limit, MAX_HITS))}
    if cursor:
        conditions["LastReturnedObjectID"] = cursor
    return {"ChangedSinceDateTime": since} if since is not None else {}, conditions


def next_cursor(answer: Any) -> str | None:
    conditions = required(answer, "ProcessingConditions")
    if not conditions.MoreHitsAvailableIndicator:
        return None
    return str(required(conditions, "LastReturnedObjectID"))


def customer(node: Any) -> ErpCustomer:
    internal_id = str(required(node, "InternalID"))
    return ErpCustomer(
        customer_code=str(getattr(node, "ExternalID", None) or internal_id),
        erp_customer_id=internal_id,
        name=str(required(node, "Name")),
        mobile=getattr(node, "MobilePhoneNumber", None),
        territory=getattr(node, "SalesDistrictCode", None) or "",
        currency=str(required(node, "CurrencyCode")),
        active=not required(node, "BlockedIndicator"),
        changed_at=instant(required(node, "LastChangeDateTime")),
    )


def product(node: Any) -> ErpProduct:
    internal_id = str(required(node, "InternalID"))
    return ErpProduct(
        sku=str(getattr(node, "ExternalID", None) or internal_id),
        erp_material_id=internal_id,
        name=str(required(node, "Description")),
        uom=str(required(node, "BaseUnitOfMeasureCode")),
        unit_price=money_of(required(node, "PriceAmount")),
        tax_rate=Decimal(required(node, "TaxRatePercent")),
        active=not required(node, "DeletionIndicator"),
        changed_at=instant(required(node, "LastChangeDateTime")),
    )


def page_items(answer: Any, name: str) -> list[Any]:
    items = getattr(answer, name, None)
    return list(items) if items else []
