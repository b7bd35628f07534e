"""Fakes of the ERP port and of outbox handlers for the delivery unit tests: plain objects that do what the port
promises (creates de-duplicated by external reference, cancels idempotent) and can be made to fail on demand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

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
from crm_domain.errors import UpstreamUnavailable, ValidationFailed
from crm_domain.events import Event, OrderSubmitted
from crm_domain.money import Money
from crm_domain.outbox import OutboxMessage


@attrs.define
class FakeErp:
    """An ERP in a dict. `down`: every call fails transiently; `lost_answers`: that many creates are done but answer
    with a timeout (the ERP has the order, the caller does not know); `reject`: creates are refused for good;
    `during_create`: called inside a create, after the ERP stored the order (to play a concurrent change)."""

    name: str = "sandbox"
    down: bool = False
    lost_answers: int = 0
    reject: str | None = None
    during_create: Callable[[ErpOrderRequest], object] | None = None
    orders: dict[str, ErpOrderRequest] = attrs.field(factory=dict)  # by ERP order id
    ids: dict[str, str] = attrs.field(factory=dict)  # external ref -> ERP order id
    states: dict[str, ErpOrderState] = attrs.field(factory=dict)
    calls: list[tuple[str, str]] = attrs.field(factory=list)

    def _reach(self, call: str, key: str) -> None:
        self.calls.append((call, key))
        if self.down:
            raise UpstreamUnavailable(f"{self.name} ERP: connection refused")

    def create_order(self, order: ErpOrderRequest) -> ErpOrderAck:
        self._reach("create", order.external_ref)
        if self.reject is not None:
            raise ErpRejected(self.reject)
        if order.external_ref in self.ids:
            return ErpOrderAck(erp_order_id=self.ids[order.external_ref], duplicate=True)
        erp_order_id = f"{self.name.upper()}-{len(self.orders) + 1:04d}"
        self.orders[erp_order_id] = order
        self.ids[order.external_ref] = erp_order_id
        self.states[erp_order_id] = ErpOrderState.OPEN
        if self.during_create is not None:
            self.during_create(order)
        if self.lost_answers > 0:
            self.lost_answers -= 1
            raise UpstreamUnavailable(f"{self.name} ERP: read timed out")
        return ErpOrderAck(erp_order_id=erp_order_id)

    def cancel_order(self, erp_order_id: str, reason: str) -> None:
        self._reach("cancel", erp_order_id)
        if erp_order_id not in self.states:
            raise ErpRejected(f"no ERP order {erp_order_id}")
        self.states[erp_order_id] = ErpOrderState.CANCELLED

    def count(self, external_ref: str) -> int:
        return sum(1 for order in self.orders.values() if order.external_ref == external_ref)

    def creates(self) -> list[str]:
        return [key for call, key in self.calls if call == "create"]

    def order_status(self, erp_order_id: str) -> ErpOrderStatus:
        order = self.orders[erp_order_id]
        return ErpOrderStatus(
            erp_order_id=erp_order_id, external_ref=order.external_ref, state=self.states[erp_order_id]
        )

    def customer_balance(self, customer_code: str) -> ErpBalance:
        return ErpBalance(customer_code=customer_code, receivables=Money(0, "INR"))

    def customers_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpCustomer]:
        return ErpChanges(items=(), next_cursor=None)

    def products_changed(self, since: datetime | None, cursor: str | None, limit: int) -> ErpChanges[ErpProduct]:
        return ErpChanges(items=(), next_cursor=None)


@attrs.define
class FakeErps:
    """`ErpGateways` over fakes by name."""

    gateways: dict[str, FakeErp]

    def for_system(self, system: str) -> FakeErp:
        if system not in self.gateways:
            raise ValidationFailed(f"no ERP gateway {system!r} is configured", field="erp")
        return self.gateways[system]


@attrs.define
class ScriptedHandler:
    """An outbox handler for `events` whose answers are scripted per call: "ok", "down" (`UpstreamUnavailable`),
    "refuse" (`ErpRejected`) or "bug" (a `RuntimeError`); after the script it answers "ok". It records each
    delivery, and the `done` list it was handed, so tests can check nothing is delivered twice."""

    name: str
    events: tuple[type[Event], ...] = (OrderSubmitted,)
    script: list[str] = attrs.field(factory=list)
    destination: Callable[[OutboxMessage], str] | None = None
    received: list[str] = attrs.field(factory=list)  # message ids, every call
    delivered: list[str] = attrs.field(factory=list)  # message ids, successful calls
    done_seen: list[tuple[str, ...]] = attrs.field(factory=list)

    def handle(self, message: OutboxMessage) -> None:
        self.received.append(message.id)
        self.done_seen.append(message.done)
        answer = self.script.pop(0) if self.script else "ok"
        if answer == "down":
            raise UpstreamUnavailable(f"{self.name} is down")
        if answer == "refuse":
            raise ErpRejected(f"{self.name} refuses")
        if answer == "bug":
            raise RuntimeError(f"{self.name} broke")
        self.delivered.append(message.id)


@attrs.define
class RoutedHandler(ScriptedHandler):
    """A scripted handler with one destination per message (a breaker each), taken from the payload."""

    def circuit(self, message: OutboxMessage) -> str:
        return str(message.payload.get("erp", "default"))
