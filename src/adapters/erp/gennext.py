"""GenNext ERP over REST/JSON with httpx: the `ErpGateway` for customers whose ERP is `gennext` (SPEC §8).

The contract is docs/integrations/gennext-api.md. Failures: a 4xx that carries a GenNext error code (422
unknown customer or product, 404 unknown order, 409 order not cancellable, 400 invalid request) is
`ErpRejected`; 5xx, 408, 429, a 4xx without an error code (a proxy's page), a timeout, a connection error or a
body that is not the promised JSON is `UpstreamUnavailable`; 401/403 is `ErpCredentialsRefused` (an
`UpstreamUnavailable`, see its docstring). The API key travels in the `X-Api-Key` header and is never logged.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from adapters.erp.errors import ErpCredentialsRefused
from crm_domain.erp import (
    ErpBalance,
    ErpChanges,
    ErpCustomer,
    ErpOrderAck,
    ErpOrderRequest,
    ErpOrderState,
    ErpOrderStatus,
    ErpProduct,
    ErpRejected,
)
from crm_domain.errors import UpstreamUnavailable
from crm_domain.money import Money

log = logging.getLogger("crm.erp.gennext")
M = TypeVar("M", bound=BaseModel)

API_KEY_HEADER: Final = "X-Api-Key"
MAX_PAGE: Final = 500
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Invoice(_Answer):
    number: str
    amount: Decimal
    currency: Currency


class _Order(_Answer):
    id: str
    external_ref: str | None = None
    state: ErpOrderState
    invoice: _Invoice | None = None
    updated_at: datetime | None = None


class _Balance(_Answer):
    customer_code: str
    currency: Currency
    receivables: Decimal
    overdue_days: int = 0
    as_of: datetime | None = None


class _Customer(_Answer):
    code: str
    id: str
    name: str
    mobile: str | None = None
    territory: str | None = None
    currency: Currency
    active: bool
    updated_at: datetime | None = None


class _Product(_Answer):
    sku: str
    material_id: str
    name: str
    uom: str
    unit_price: Decimal
    currency: Currency
    tax_rate: Decimal
    active: bool
    updated_at: datetime | None = None


class _CustomerPage(_Answer):
    items: list[_Customer]
    next_cursor: str | None = None


class _ProductPage(_Answer):
    items: list[_Product]
    next_cursor: str | None = None


class GenNextErpGateway:
    """`ErpGateway` for GenNext. `base_url` is the API root (e.g. `https://erp.example.com/api/v1`); every call
    is bounded by `timeout` seconds for connecting and for each read and write. `transport` is httpx's, for
    mounting a proxy or TLS settings; tests run against a real local server instead."""

    def __init__(
        self, base_url: str, api_key: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._timeout = timeout
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={API_KEY_HEADER: api_key, "Accept": "application/json", "User-Agent": "crm-erp-gateway"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    @property
    def name(self) -> str:
        return "gennext"

    def close(self) -> None:
        self._client.close()

    # --- ErpGateway ---------------------------------------------------------------------------------------

    def create_order(self, order: ErpOrderRequest) -> ErpOrderAck:
        response = self._send("POST", "/orders", json=_order_body(order))
        answer = self._parse(response, _Order)
        if answer.external_ref != order.external_ref:
            raise UpstreamUnavailable(
                f"GenNext POST /orders answered malformed: the order of {answer.external_ref!r}, "
                f"not of {order.external_ref!r}"
            )
        return ErpOrderAck(erp_order_id=answer.id, duplicate=response.status_code == httpx.codes.OK)

    def cancel_order(self, erp_order_id: str, reason: str) -> None:
        response = self._send("POST", f"/orders/{_segment(erp_order_id)}/cancel", json={"reason": reason})
        answer = self._parse(response, _Order)
        if answer.state is not ErpOrderState.CANCELLED:
            raise UpstreamUnavailable(f"GenNext confirmed the cancel of {erp_order_id} but it is {answer.state}")

    def order_status(self, erp_order_id: str) -> ErpOrderStatus:
        answer = self._parse(self._send("GET", f"/orders/{_segment(erp_order_id)}"), _Order)
        invoice = answer.invoice
        return ErpOrderStatus(
            erp_order_id=answer.id,
            external_ref=answer.external_ref,
            state=answer.state,
            invoice_number=invoice.number if invoice else None,
            invoiced_amount=self._money(invoice.amount, invoice.currency) if invoice else None,
            changed_at=answer.updated_at,
        )

    def customer_balance(self, customer_code: str) -> ErpBalance:
        answer = self._parse(self._send("GET", f"/customers/{_segment(customer_code)}/balance"), _Balance)
        return ErpBalance(
            customer_code=customer_code,
            receivables=self._money(answer.receivables, answer.currency),
            overdue_days=answer.overdue_days,
            as_of=answer.as_of,
        )

    def customers_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpCustomer]:
        page = self._parse(self._send("GET", "/customers", params=_page_params(since, cursor, limit)), _CustomerPage)
        return ErpChanges(
            items=tuple(
                ErpCustomer(
                    customer_code=item.code,
                    erp_customer_id=item.id,
                    name=item.name,
                    mobile=item.mobile,
                    territory=item.territory or "",
                    currency=item.currency,
                    active=item.active,
                    changed_at=item.updated_at,
                )
                for item in page.items
            ),
            next_cursor=page.next_cursor,
        )

    def products_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpProduct]:
        page = self._parse(self._send("GET", "/products", params=_page_params(since, cursor, limit)), _ProductPage)
        return ErpChanges(
            items=tuple(
                ErpProduct(
                    sku=item.sku,
                    erp_material_id=item.material_id,
                    name=item.name,
                    uom=item.uom,
                    unit_price=self._money(item.unit_price, item.currency),
                    tax_rate=item.tax_rate,
                    active=item.active,
                    changed_at=item.updated_at,
                )
                for item in page.items
            ),
            next_cursor=page.next_cursor,
        )

    # --- transport and failures ---------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        what = f"{method} {path}"
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            log.warning("GenNext %s timed out after %ss", what, self._timeout)
            raise UpstreamUnavailable(f"GenNext {what} timed out after {self._timeout}s") from None
        except httpx.HTTPError as exc:
            log.warning("GenNext %s: %s", what, type(exc).__name__)
            raise UpstreamUnavailable(f"GenNext cannot be reached ({what}): {type(exc).__name__}") from None
        status = response.status_code
        if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            log.error("GenNext refused the API key (HTTP %s)", status)
            raise ErpCredentialsRefused("GenNext", f"HTTP {status}", "CRM_GENNEXT_API_KEY")
        if status in (httpx.codes.OK, httpx.codes.CREATED):
            return response
        code, message = _error_of(response)
        transient = status >= 500 or status in (httpx.codes.REQUEST_TIMEOUT, httpx.codes.TOO_MANY_REQUESTS)
        if transient or code is None or not 400 <= status < 500:
            retry_after = response.headers.get("Retry-After")
            hint = f", retry after {retry_after}s" if retry_after else ""
            log.warning("GenNext %s answered HTTP %s%s", what, status, hint)
            raise UpstreamUnavailable(f"GenNext {what} answered HTTP {status}{hint}")
        raise ErpRejected(f"GenNext refused {what}: {code}: {message}")

    def _parse(self, response: httpx.Response, model: type[M]) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            log.warning("GenNext %s answered malformed: %s", response.request.url.path, exc.error_count())
            problem = exc.errors()[0]
            raise UpstreamUnavailable(
                f"GenNext {response.request.method} {response.request.url.path} answered malformed: "
                f"{problem['msg']} at {'.'.join(str(part) for part in problem['loc']) or 'the body'}"
            ) from None

    def _money(self, amount: Decimal, currency: str) -> Money:
        try:
            return Money.rounded(amount, currency)
        except ArithmeticError as exc:
            raise UpstreamUnavailable(f"GenNext answered an impossible amount {amount}") from exc


def _segment(value: str) -> str:
    return quote(value, safe="")


def _page_params(since: datetime | None, cursor: str | None, limit: int) -> dict[str, str | int]:
    params: dict[str, str | int] = {"limit": max(1, min(limit, MAX_PAGE))}
    if since is not None:
        params["changed_since"] = since.isoformat()
    if cursor:
        params["cursor"] = cursor
    return params


def _error_of(response: httpx.Response) -> tuple[str | None, str]:
    """The GenNext error code and message of `{"error": {"code": …, "message": …}}`, or None for another body."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return None, ""
    return error["code"], str(error.get("message", ""))


def _order_body(order: ErpOrderRequest) -> dict[str, Any]:
    return {
        "external_ref": order.external_ref,
        "number": order.number,
        "customer": {"code": order.customer_code, "erp_id": order.erp_customer_id},
        "currency": order.currency,
        "submitted_at": order.submitted_at.isoformat(),
        "notes": order.notes,
        "lines": [
            {
                "sku": line.sku,
                "material_id": line.erp_material_id,
                "quantity": str(line.quantity),
                "uom": line.uom,
                "unit_price": line.unit_price.decimal_string(),
                "discount_pct": str(line.discount_pct),
                "net": line.net.decimal_string(),
                "tax": line.tax.decimal_string(),
                "total": line.total.decimal_string(),
            }
            for line in order.lines
        ],
        "net": order.net.decimal_string(),
        "tax": order.tax.decimal_string(),
        "total": order.total.decimal_string(),
    }
