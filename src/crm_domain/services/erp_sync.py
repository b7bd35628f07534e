"""ERP sync through the outbox (SPEC §2.5, §2.7, §8): an order that enters `submitted` is created in its
customer's ERP and confirmed with the ERP's order number; a cancelled order is cancelled there too.

`ErpSyncHandler` is the `erp` handler of `crm worker`. Delivery is at least once, so every step is idempotent:
the ERP de-duplicates creates by our order id (`external_ref`), confirming again with the same ERP id is a
no-op, and cancelling an already cancelled ERP order is not an error. The confirm is the ERP reporting the order
`open`, applied by the one ERP-progress rule (`ErpEventService.apply_order_status`) as a webhook event would be.

Before each create the handler writes an audit entry (`order.erp_create_sent`) in the same unit of work that
checks the order is still `submitted`. That entry is how a later cancel knows whether the ERP may hold the
order although the CRM never recorded its number (a worker killed between the ERP's answer and the confirm):
then the cancel asks the ERP for that order again (an idempotent create returns it) and cancels it. An order
cancelled before any create was sent is never created in the ERP.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar, Final

import attrs

from crm_domain.customers import Customer
from crm_domain.erp import ErpOrderLine, ErpOrderRequest, ErpOrderState, ErpRejected
from crm_domain.errors import InvalidTransition, ValidationFailed
from crm_domain.events import Event, OrderCancelled, OrderReleased, OrderSubmitted
from crm_domain.orders import ErpSync, Order, OrderStatus
from crm_domain.outbox import OutboxMessage
from crm_domain.ports import ErpGateway, ErpGateways, UnitOfWork
from crm_domain.products import Product
from crm_domain.services.context import ServiceContext
from crm_domain.services.erp_events import ErpEventService, OrderStatusReport
from crm_domain.services.orders import OrderService

log = logging.getLogger("crm.erp_sync")

#: The events that make an order `submitted` (a released credit hold, by a person or the system, does too).
_CREATES: Final[tuple[type[Event], ...]] = (OrderSubmitted, OrderReleased)
CREATE_SENT: Final = "order.erp_create_sent"  # the audit action written before each create
_MAX_ERROR: Final = 500


@attrs.frozen
class _Outbound:
    """What one create needs: the order as read, the customer's ERP (its name and gateway), and the request."""

    order: Order
    erp: str
    gateway: ErpGateway
    request: ErpOrderRequest


class ErpSyncHandler:
    """`OutboxHandler` `erp`: creates submitted orders in the customer's ERP, confirms them, cancels cancelled ones.

    Transient failures (`UpstreamUnavailable`) set the order's `erp_sync` to `failed` with the error and propagate,
    so the worker retries with backoff; a refusal (`ErpRejected`) sets it to `dead` and propagates, so the worker
    dead-letters the message at once. When the worker gives up after its last attempt it calls `gave_up`.
    """

    events: ClassVar[tuple[type[Event], ...]] = (*_CREATES, OrderCancelled)

    def __init__(self, ctx: ServiceContext, gateways: ErpGateways) -> None:
        self._ctx = ctx
        self._gateways = gateways
        self._orders = OrderService(ctx)
        self._events = ErpEventService(ctx)
        self._erp_of_customer: dict[str, str] = {}

    @property
    def name(self) -> str:
        return "erp"

    def circuit(self, message: OutboxMessage) -> str:
        """The ERP the message goes to (the worker keeps one circuit breaker per ERP). Cached per customer: a stale
        answer only picks the wrong breaker, never the wrong ERP (`handle` reads the customer afresh)."""
        customer_id = str(message.payload.get("customer_id") or "")
        system = self._erp_of_customer.get(customer_id)
        if system is None:
            customer = self._ctx.read(lambda uow: uow.customers.get(customer_id))
            system = customer.erp_system.value if customer is not None else "unknown"
            if len(self._erp_of_customer) > 10_000:
                self._erp_of_customer.clear()
            self._erp_of_customer[customer_id] = system
        return system

    def handle(self, message: OutboxMessage) -> None:
        if message.is_one_of(_CREATES):
            self._create(message)
        elif message.is_one_of((OrderCancelled,)):
            self._cancel(message)

    def gave_up(self, message: OutboxMessage, error: str) -> None:
        """The worker stopped retrying: the order's `erp_sync` becomes `dead` (shown, alerted, `retry-dead`)."""
        if message.is_one_of(self.events):
            self._record(_order_id(message), ErpSync.DEAD, error)

    @contextmanager
    def _erp_call(self, order_id: str) -> Iterator[None]:
        """Calls to the ERP for an order: a refusal marks the order's sync `dead` (retrying cannot help), any other
        failure `failed` (the outbox retries); the error goes on to the dispatcher either way."""
        try:
            yield
        except ErpRejected as exc:
            self._record(order_id, ErpSync.DEAD, str(exc))
            raise
        except Exception as exc:
            self._record(order_id, ErpSync.FAILED, str(exc))
            raise

    # --- create and confirm -------------------------------------------------------------------------------

    def _create(self, message: OutboxMessage) -> None:
        order_id = _order_id(message)
        try:
            outbound = self._ctx.write(lambda uow: self._prepare(uow, order_id))
        except ValidationFailed as exc:  # the customer names an ERP this installation has no gateway for
            self._record(order_id, ErpSync.FAILED, str(exc))
            raise
        if outbound is None:
            return
        gateway = outbound.gateway
        with self._erp_call(order_id):
            ack = gateway.create_order(outbound.request)
        report = OrderStatusReport(erp_order_id=ack.erp_order_id, external_ref=order_id, state=ErpOrderState.OPEN)
        try:
            self._events.apply_order_status(outbound.erp, report)
        except (InvalidTransition, ValidationFailed):
            if not self._settle_race(order_id, ack.erp_order_id, gateway):
                raise
            return
        log.debug("erp: order %s is %s in %s%s", order_id, ack.erp_order_id, gateway.name, _dup(ack.duplicate))

    def _prepare(self, uow: UnitOfWork, order_id: str) -> _Outbound | None:
        """Still to be sent? Then note the send (audit) in this unit of work and return the request; else None."""
        order = uow.orders.get(order_id)
        if order is None or order.status is not OrderStatus.SUBMITTED:
            return None  # gone, cancelled before the ERP got it, or confirmed already by an earlier delivery
        customer = uow.customers.get(order.customer_id)
        if customer is None:
            return None
        gateway = self._gateways.for_system(customer.erp_system.value)
        if order.erp_sync in (ErpSync.NOT_SENT, ErpSync.DEAD):  # first time, or an operator's retry-dead
            order.set_erp_sync(ErpSync.PENDING, self._ctx.now())
            uow.orders.save(order)
        self._ctx.audit(
            uow,
            actor_id="system",
            action=CREATE_SENT,
            entity="order",
            entity_id=order.id,
            erp=customer.erp_system.value,
        )
        request = erp_order_request(order, customer, uow.products.get_many([line.sku for line in order.lines]))
        return _Outbound(order=order, erp=customer.erp_system.value, gateway=gateway, request=request)

    def _settle_race(self, order_id: str, erp_order_id: str, gateway: ErpGateway) -> bool:
        """The confirm was refused. If the order moved on while the ERP answered, settle it and say True: a
        cancelled order is cancelled in the ERP too (the cancel did not know the ERP number); one confirmed
        already (with this ERP id or another) needs nothing. An order still `submitted` was refused for itself
        (False: the caller raises)."""
        order = self._ctx.read(lambda uow: uow.orders.get(order_id))
        if order is not None and order.status is OrderStatus.SUBMITTED:
            return False
        if order is not None and order.status is OrderStatus.CANCELLED:
            gateway.cancel_order(erp_order_id, "cancelled in the CRM")
            log.info("erp: order %s was cancelled while the ERP created it; cancelled %s", order_id, erp_order_id)
        return True

    # --- cancel -------------------------------------------------------------------------------------------

    def _cancel(self, message: OutboxMessage) -> None:
        order_id = _order_id(message)
        loaded = self._ctx.read(lambda uow: self._load_cancelled(uow, order_id))
        if loaded is None:
            return
        order, customer, products, sent = loaded
        erp_order_id = order.erp_order_id or message.payload.get("erp_order_id")
        if not erp_order_id and not sent:
            if order.erp_sync is not ErpSync.NOT_SENT:
                self._record(order_id, ErpSync.NOT_SENT, None)  # never reached the ERP, and never will
            return
        reason = str(message.payload.get("reason") or "cancelled in the CRM")
        with self._erp_call(order_id):
            gateway = self._gateways.for_system(customer.erp_system.value)
            if not erp_order_id:
                # A create was sent but its answer never recorded: the idempotent create returns the ERP's order.
                erp_order_id = gateway.create_order(erp_order_request(order, customer, products)).erp_order_id
            gateway.cancel_order(str(erp_order_id), reason)
        if order.erp_sync is not ErpSync.SYNCED:
            self._record(order_id, ErpSync.SYNCED, None)
        log.debug("erp: order %s cancelled in %s as %s", order_id, gateway.name, erp_order_id)

    @staticmethod
    def _load_cancelled(uow: UnitOfWork, order_id: str) -> tuple[Order, Customer, dict[str, Product], bool] | None:
        order = uow.orders.get(order_id)
        if order is None or order.status is not OrderStatus.CANCELLED:
            return None
        customer = uow.customers.get(order.customer_id)
        if customer is None:
            return None
        sent = any(entry.action == CREATE_SENT for entry in uow.audit.list_for("order", order_id))
        products = uow.products.get_many([line.sku for line in order.lines]) if sent else {}
        return order, customer, products, sent

    def _record(self, order_id: str, state: ErpSync, error: str | None) -> None:
        self._orders.record_erp_sync(order_id, state, None if error is None else error[:_MAX_ERROR])


def erp_order_request(order: Order, customer: Customer, products: dict[str, Product]) -> ErpOrderRequest:
    """The order as the ERP gets it: our id as the external reference, the products' ERP material ids."""
    lines = tuple(
        ErpOrderLine(
            sku=line.sku,
            erp_material_id=products[line.sku].erp_material_id if line.sku in products else None,
            quantity=line.quantity,
            uom=line.uom,
            unit_price=line.unit_price,
            discount_pct=line.discount_pct,
            net=line.net,
            tax=line.tax,
            total=line.total,
        )
        for line in order.lines
    )
    return ErpOrderRequest(
        external_ref=order.id,
        number=order.number,
        customer_code=customer.code,
        erp_customer_id=customer.erp_customer_id,
        currency=order.currency,
        lines=lines,
        net=order.subtotal,
        tax=order.tax_total,
        total=order.total,
        notes=order.notes,
        submitted_at=order.submitted_at or order.updated_at,
    )


def _order_id(message: OutboxMessage) -> str:
    return str(message.payload.get("order_id") or message.aggregate_id)


def _dup(duplicate: bool) -> str:
    return " (the ERP had it already)" if duplicate else ""
