"""A local GenNext for the GenNext adapter's tests: http.server speaking the JSON contract of
docs/integrations/gennext-api.md. It checks the API key, checks the shape of what it receives, keeps orders by
external_ref (a second POST of a known external_ref answers 200 with the first order), and pages the
changed-since lists by an opaque cursor."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.erp.peer import Peer, read_body, send

ORDER_FIELDS = {
    "external_ref": str,
    "number": str,
    "customer": dict,
    "currency": str,
    "submitted_at": str,
    "notes": str,
    "lines": list,
    "net": str,
    "tax": str,
    "total": str,
}
LINE_FIELDS = ("sku", "quantity", "uom", "unit_price", "discount_pct", "net", "tax", "total")
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def decimal(value: Any, field: str) -> Decimal:
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise Refusal(400, "invalid_request", f"{field} must be a decimal string") from exc


class GenNextPeer(Peer):
    def __init__(self, api_key: str = "gn-test-key-0123456789") -> None:
        super().__init__()
        self.api_key = api_key
        self.orders: dict[str, dict[str, Any]] = {}  # by id
        self.by_ref: dict[str, str] = {}
        self.customers: dict[str, dict[str, Any]] = {}  # by code
        self.products: dict[str, dict[str, Any]] = {}  # by sku
        self.balances: dict[str, dict[str, Any]] = {}
        self.received: list[str] = []
        self.order_bodies: list[dict[str, Any]] = []
        self._next_number = 0

    # --- test controls --------------------------------------------------------------------------------------

    def add_customer(self, code: str, *, changed: datetime, **fields: Any) -> None:
        self.customers[code] = {
            "code": code,
            "id": fields.pop("id", f"GC-{code}"),
            "name": fields.pop("name", f"Dealer {code}"),
            "currency": "INR",
            "active": True,
            "updated_at": changed.isoformat(),
            **fields,
        }

    def add_product(self, sku: str, *, changed: datetime, **fields: Any) -> None:
        self.products[sku] = {
            "sku": sku,
            "material_id": fields.pop("material_id", f"M-{sku}"),
            "name": fields.pop("name", f"Product {sku}"),
            "uom": "EA",
            "unit_price": "420.00",
            "currency": "INR",
            "tax_rate": "18.00",
            "active": True,
            "updated_at": changed.isoformat(),
            **fields,
        }

    def set_balance(self, code: str, receivables: str, overdue_days: int = 0, currency: str = "INR") -> None:
        self.balances[code] = {
            "customer_code": code,
            "currency": currency,
            "receivables": receivables,
            "overdue_days": overdue_days,
            "as_of": NOW.isoformat(),
        }

    def set_order_state(self, order_id: str, state: str, invoice: dict[str, str] | None = None) -> None:
        with self.lock:
            self.orders[order_id]["state"] = state
            if invoice is not None:
                self.orders[order_id]["invoice"] = invoice

    # --- HTTP -----------------------------------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        knob = self.knobs.pop()
        if knob and knob[0] == "delay":
            self.wait(knob[1])
        body = read_body(handler)
        if handler.headers.get("X-Api-Key") != self.api_key:
            self._json(handler, 401, {"error": {"code": "unauthorized", "message": "missing or unknown API key"}})
            return
        url = urlsplit(handler.path)
        with self.lock:
            self.received.append(f"{method} {url.path}")
        if knob and knob[0] == "fail":
            self._fail(handler, knob[1])
            return
        try:
            with self.lock:
                status, answer = self._route(method, url.path, parse_qs(url.query), body)
        except Refusal as refusal:
            self._json(handler, refusal.status, {"error": {"code": refusal.code, "message": refusal.message}})
            return
        if knob and knob[0] == "malformed":
            self._malformed(handler, knob[1], answer)
            return
        self._json(handler, status, answer)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if method == "POST" and parts == ["orders"]:
            return self._create(self._body(body))
        if method == "POST" and len(parts) == 3 and parts[0] == "orders" and parts[2] == "cancel":
            reason = self._body(body).get("reason")
            if not isinstance(reason, str):
                self.problems.append("cancel without a reason string")
            return 200, self._cancel(parts[1])
        if method == "GET" and len(parts) == 2 and parts[0] == "orders":
            return 200, self._order(parts[1])
        if method == "GET" and len(parts) == 3 and parts[0] == "customers" and parts[2] == "balance":
            if parts[1] not in self.balances:
                raise Refusal(404, "customer_not_found", f"no customer {parts[1]}")
            return 200, self.balances[parts[1]]
        if method == "GET" and parts == ["customers"]:
            return 200, self._page(self.customers, query)
        if method == "GET" and parts == ["products"]:
            return 200, self._page(self.products, query)
        self.problems.append(f"no such route: {method} {path}")
        raise Refusal(404, "not_found", f"no route {method} {path}")

    def _body(self, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw)
        except ValueError:
            self.problems.append("request body is not JSON")
            raise Refusal(400, "invalid_request", "body is not JSON") from None
        if not isinstance(body, dict):
            raise Refusal(400, "invalid_request", "body must be an object")
        return body

    def _create(self, body: dict[str, Any]) -> tuple[int, Any]:
        for field, kind in ORDER_FIELDS.items():
            if not isinstance(body.get(field), kind):
                self.problems.append(f"order body: {field} missing or not {kind.__name__}")
                raise Refusal(400, "invalid_request", f"{field} is required")
        if body["external_ref"] in self.by_ref:
            return 200, self.orders[self.by_ref[body["external_ref"]]]
        self.order_bodies.append(body)
        for line in body["lines"]:
            for field in LINE_FIELDS:
                if not isinstance(line.get(field), str):
                    self.problems.append(f"order line: {field} missing or not a string")
                    raise Refusal(400, "invalid_request", f"lines[].{field} is required")
            decimal(line["quantity"], "quantity")
            if line["sku"] not in self.products:
                raise Refusal(422, "unknown_product", f"product {line['sku']} does not exist")
        if body["customer"].get("code") not in self.customers:
            raise Refusal(422, "unknown_customer", f"customer {body['customer'].get('code')} does not exist")
        net, tax, total = (decimal(body[field], field) for field in ("net", "tax", "total"))
        if net + tax != total:
            self.problems.append("order totals do not add up")
            raise Refusal(422, "invalid_order", "net + tax != total")
        self._next_number += 1
        order = {
            "id": f"GN-{self._next_number:06d}",
            "external_ref": body["external_ref"],
            "state": "open",
            "invoice": None,
            "updated_at": NOW.isoformat(),
        }
        self.orders[order["id"]] = order
        self.by_ref[body["external_ref"]] = order["id"]
        return 201, order

    def _order(self, order_id: str) -> dict[str, Any]:
        if order_id not in self.orders:
            raise Refusal(404, "order_not_found", f"no order {order_id}")
        return self.orders[order_id]

    def _cancel(self, order_id: str) -> dict[str, Any]:
        order = self._order(order_id)
        if order["state"] in ("invoiced", "delivered"):
            raise Refusal(409, "order_not_cancellable", f"order {order_id} is {order['state']}")
        order["state"] = "cancelled"
        return order

    def _page(self, table: dict[str, dict[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
        limit = int(query.get("limit", ["50"])[0])
        if not 1 <= limit <= 500:
            self.problems.append(f"limit {limit} is out of 1..500")
        since = datetime.fromisoformat(query["changed_since"][0]) if "changed_since" in query else None
        after = base64.urlsafe_b64decode(query["cursor"][0]).decode() if "cursor" in query else ""
        keys = [
            key
            for key in sorted(table)
            if key > after and (since is None or datetime.fromisoformat(table[key]["updated_at"]) >= since)
        ]
        page = keys[:limit]
        cursor = base64.urlsafe_b64encode(page[-1].encode()).decode() if len(keys) > limit else None
        return {"items": [table[key] for key in page], "next_cursor": cursor}

    # --- failures -------------------------------------------------------------------------------------------

    def _json(self, handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        send(handler, status, json.dumps(body).encode(), "application/json")

    def _fail(self, handler: BaseHTTPRequestHandler, how: str) -> None:
        if how in ("default", "500"):
            self._json(handler, 500, {"error": {"code": "internal", "message": "database unavailable"}})
        elif how == "503":
            send(handler, 503, b"<html>Service Unavailable</html>", "text/html")
        elif how == "429":
            self._json(handler, 429, {"error": {"code": "rate_limited", "message": "slow down"}})
        elif how == "404_html":  # a proxy in front of GenNext, not GenNext itself
            send(handler, 404, b"<html>Not Found</html>", "text/html")
        else:
            raise ValueError(how)

    def _malformed(self, handler: BaseHTTPRequestHandler, how: str, answer: Any) -> None:
        if how == "not_json":
            send(handler, 200, b'{"id": "GN-1", "state": ', "application/json")
        elif how == "html":
            send(handler, 200, b"<html><body>Maintenance</body></html>", "text/html")
        elif how == "wrong_shape":
            self._json(handler, 200, {"result": answer})
        elif how == "wrong_ref":
            self._json(handler, 200, {**answer, "external_ref": "SOMEONE-ELSES"})
        elif how == "bad_state":
            self._json(handler, 200, {**answer, "state": "teleported"})
        else:
            raise ValueError(how)
