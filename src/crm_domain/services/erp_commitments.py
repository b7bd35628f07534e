"""Our open orders reported to the ERP's credit management as commitments (SAP's
`CreditCommitmentNotification_In`), so the ERP's credit exposure of a customer includes the orders it has not
invoiced yet — among them those it has not even received (SPEC §8).

The worker reports each change of an order's commitment — submitted or released (its total), cancelled or invoiced
(zero, which ends it) — once, through the outbox; the ERP replaces an earlier report of the same external reference
(our order id), so a delivery repeated after a crash changes nothing there. `report_all` sends every open order of
the ERP's customers in batches: the first load, or a reconciliation after the setting was off.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import ClassVar, Final

from crm_domain.credit import CreditAccount
from crm_domain.customers import Customer
from crm_domain.erp import ErpCommitment
from crm_domain.events import Event, OrderCancelled, OrderReleased, OrderStatusChanged, OrderSubmitted
from crm_domain.money import Money
from crm_domain.orders import RESERVING, Order, OrderStatus
from crm_domain.outbox import OutboxMessage
from crm_domain.ports import ErpCreditManagement, UnitOfWork
from crm_domain.records import Page, PageRequest
from crm_domain.scope import Scope
from crm_domain.services.context import ServiceContext

BATCH: Final = 100  # commitments per notification in `report_all`


class CommitmentHandler:
    """`OutboxHandler` `erp-commitments`: reports the commitment of an order of the ERP's customers when it changes."""

    events: ClassVar[tuple[type[Event], ...]] = (OrderSubmitted, OrderReleased, OrderCancelled, OrderStatusChanged)

    def __init__(self, ctx: ServiceContext, erp: str, credit: ErpCreditManagement) -> None:
        self._ctx = ctx
        self._erp = erp
        self._credit = credit

    @property
    def name(self) -> str:
        return "erp-commitments"

    def circuit(self, message: OutboxMessage) -> str:
        return self._erp

    def handle(self, message: OutboxMessage) -> None:
        if message.is_one_of((OrderStatusChanged,)) and message.payload.get("status") != OrderStatus.INVOICED.value:
            return  # dispatch and delivery leave the commitment as it is; the invoice ends it
        order_id = str(message.payload.get("order_id") or message.aggregate_id)

        def read(uow: UnitOfWork) -> tuple[Order, Customer] | None:
            order = uow.orders.get(order_id)
            customer = None if order is None else uow.customers.get(order.customer_id)
            if order is None or customer is None or customer.erp_system.value != self._erp:
                return None
            return order, customer

        found = self._ctx.read(read)
        if found is not None:
            order, customer = found
            self._credit.report_commitments([commitment(order, customer)])

    def report_all(self) -> int:
        """Report every open order of the ERP's customers, `BATCH` to a call; answers how many were reported."""
        sent = 0
        batch: list[ErpCommitment] = []
        for item in self._open_commitments():
            batch.append(item)
            if len(batch) == BATCH:
                self._credit.report_commitments(batch)
                sent, batch = sent + len(batch), []
        if batch:
            self._credit.report_commitments(batch)
            sent += len(batch)
        return sent

    def _open_commitments(self) -> Iterator[ErpCommitment]:
        cursor: str | None = None
        while True:
            page = self._ctx.read(partial(_customers, cursor=cursor))
            for customer in page.items:
                if customer.erp_system.value != self._erp:
                    continue
                account = self._ctx.read(partial(_account, customer_id=customer.id))
                if account is None:
                    continue
                for order_id, reservation in sorted(account.reservations.items()):
                    amount = Money(reservation.amount, account.currency)
                    yield ErpCommitment(customer_code=customer.code, external_ref=order_id, amount=amount)
            cursor = page.next_cursor
            if cursor is None:
                return


def _customers(uow: UnitOfWork, *, cursor: str | None) -> Page[Customer]:
    return uow.customers.page(PageRequest(limit=PageRequest.MAX_LIMIT, cursor=cursor), Scope(all_customers=True))


def _account(uow: UnitOfWork, *, customer_id: str) -> CreditAccount | None:
    return uow.credit.get(customer_id)


def commitment(order: Order, customer: Customer) -> ErpCommitment:
    """The order's commitment now: its total while it holds a reservation, else zero (which ends it)."""
    amount = order.total if order.status in RESERVING else Money.zero(order.currency)
    return ErpCommitment(customer_code=customer.code, external_ref=order.id, amount=amount)
