"""Applying what an ERP says (SPEC §2.3, §2.5, §8): order status changes and customer balances.

The same use cases serve the webhook (`POST /integrations/{erp}/events`), the polling sync
(`crm erp sync order-status|balances`) and the sandbox drivers (`crm erp sandbox …`).

Order status (`apply_order_status`):
- The order is found by our reference (`external_ref`: our order id, or its number). A report that names only
  the ERP's order id is completed first by asking that ERP (`complete_reference`), outside any unit of work.
- The ERP's states map to ours: open → confirmed, dispatched, invoiced, delivered, cancelled. A state the order
  has already reached or passed changes nothing (`unchanged`): repeated and late events are harmless. A state
  further on walks through the steps in between (a submitted order is confirmed first, with the ERP's id), each
  recorded in the history and published, all in one unit of work.
- Dispatch moves the reservation to the dispatched stage. Invoicing releases the reservation and adds the
  invoiced amount (the order total when the ERP gives none) to the receivables, so the exposure moves from the
  open-order part to the receivables instead of dropping until the ERP's next balance; that balance (an event
  or `crm erp sync balances`) then replaces the receivables figure. Holds are re-evaluated afterwards.
- Cancelled in the ERP: a submitted or confirmed order is cancelled here as well (by the system, reason
  "cancelled in ERP …"), its reservation released and holds re-evaluated. An order already dispatched or further
  cannot be cancelled (SPEC §2.5): the event is refused with `InvalidTransition` and nothing changes, so a
  person sees it; the same for progress reported on an order that is cancelled, rejected, on hold or a draft.
- An order of a customer served by another ERP is reported as not found.
- A report older than the last one applied (by the ERP's own `changed_at`, kept on the order) changes nothing
  (`unchanged`): a late or replayed cancel cannot undo what the ERP said since.

Customer balance (`apply_balance`): the ERP's receivables and overdue days replace ours; figures equal to the
stored ones change nothing. A balance older than the one applied (by the ERP's own `as_of`, kept on the credit
account) changes nothing (`unchanged`), so a replayed or late balance never rolls the receivables back (SPEC
§5); a balance without `as_of` cannot be told older and is applied. Holds that fit afterwards are released; an
overdue block that now applies stops nothing already submitted but keeps new submits and held orders on hold.

An event may carry an id (the webhook requires one; the polling sync and the drivers have none): it is
remembered (in the idempotency records, with the change, for the idempotency TTL) so a replay is answered
`duplicate` and changes nothing; the same id with another body is refused. The older-than-applied rule holds
for every door, with or without an id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Final

import attrs

from crm_domain.credit import CreditAccount
from crm_domain.customers import Customer
from crm_domain.erp import ErpBalance, ErpOrderState, ErpOrderStatus
from crm_domain.errors import Conflict, EntityNotFound, InvalidTransition, ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import ErpGateway, UnitOfWork
from crm_domain.reports import LedgerEntry, LedgerKind
from crm_domain.services.context import ServiceContext, Write, account_of
from crm_domain.services.credit import reevaluate_holds
from crm_domain.services.tally import count_order
from crm_domain.users import SYSTEM

S = OrderStatus
#: The ERP-driven progress of an order, in order.
PROGRESS: Final = (S.CONFIRMED, S.DISPATCHED, S.INVOICED, S.DELIVERED)
STATE_TO_STATUS: Final = {
    ErpOrderState.OPEN: S.CONFIRMED,
    ErpOrderState.DISPATCHED: S.DISPATCHED,
    ErpOrderState.INVOICED: S.INVOICED,
    ErpOrderState.DELIVERED: S.DELIVERED,
    ErpOrderState.CANCELLED: S.CANCELLED,
}
#: The ERP state that reports each of those statuses (for drivers that name the status they want).
STATUS_TO_STATE: Final = {status: state for state, status in STATE_TO_STATUS.items()}
#: Orders the ERP may cancel: those it has (or is about to have) and that have not left the warehouse.
ERP_CANCELLABLE: Final = frozenset({S.SUBMITTED, S.CONFIRMED})
EVENT_OPERATION: Final = "erp.event"


class EventOutcome(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # the CRM already knew (a repeated, late or no-change event)
    DUPLICATE = "duplicate"  # an event id seen before


@attrs.frozen(kw_only=True)
class OrderStatusReport:
    """What an ERP says about one order. `external_ref` is our order id (or number); at least one of it and
    `erp_order_id` is given."""

    erp_order_id: str | None = None
    external_ref: str | None = None
    state: ErpOrderState
    invoice_number: str | None = None
    invoiced_amount: Money | None = None
    changed_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.erp_order_id or self.external_ref):
            raise ValidationFailed("an order status needs erp_order_id or external_ref", field="external_ref")
        if self.invoiced_amount is not None and self.invoiced_amount.is_negative():
            raise ValidationFailed("invoiced_amount must not be negative", field="invoiced_amount")

    @classmethod
    def of(cls, status: ErpOrderStatus) -> OrderStatusReport:
        return cls(
            erp_order_id=status.erp_order_id,
            external_ref=status.external_ref,
            state=status.state,
            invoice_number=status.invoice_number,
            invoiced_amount=status.invoiced_amount,
            changed_at=status.changed_at,
        )

    def fingerprint(self) -> str:
        return _digest(
            "order.status",
            self.erp_order_id,
            self.external_ref,
            self.state.value,
            self.invoice_number,
            None if self.invoiced_amount is None else str(self.invoiced_amount),
        )


@attrs.frozen(kw_only=True)
class BalanceReport:
    """The ERP's receivables and overdue days of a customer (by code)."""

    customer_code: str
    receivables: Money
    overdue_days: int = 0
    as_of: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if self.overdue_days < 0:
            raise ValidationFailed("overdue_days must not be negative", field="overdue_days")

    @classmethod
    def of(cls, balance: ErpBalance) -> BalanceReport:
        return cls(
            customer_code=balance.customer_code,
            receivables=balance.receivables,
            overdue_days=balance.overdue_days,
            as_of=balance.as_of,
        )

    def fingerprint(self) -> str:
        return _digest("customer.balance", self.customer_code, str(self.receivables), str(self.overdue_days))


@attrs.frozen(kw_only=True)
class EventResult:
    """What applying one ERP event did. `steps` are the statuses an order went through; `released` the ids of
    held orders the change released."""

    outcome: EventOutcome
    order_id: str | None = None
    order_number: str | None = None
    customer_id: str | None = None
    status: OrderStatus | None = None
    steps: tuple[OrderStatus, ...] = ()
    released: tuple[str, ...] = ()


def _unchanged(order: Order) -> EventResult:
    return EventResult(
        outcome=EventOutcome.UNCHANGED,
        order_id=order.id,
        order_number=order.number,
        customer_id=order.customer_id,
        status=order.status,
    )


def _digest(*parts: str | None) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class ErpEventService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # --- order status -----------------------------------------------------------------------------------

    @staticmethod
    def complete_reference(gateway: ErpGateway, report: OrderStatusReport) -> OrderStatusReport:
        """A report naming only the ERP's order id, completed with our reference as that ERP knows it. Call it
        before `apply_order_status` (it asks the ERP; never inside a unit of work)."""
        if report.external_ref or report.erp_order_id is None:
            return report
        known = gateway.order_status(report.erp_order_id)
        if not known.external_ref:
            raise EntityNotFound("order", report.erp_order_id)
        return attrs.evolve(report, external_ref=known.external_ref)

    def apply_order_status(self, erp: str, report: OrderStatusReport, event_id: str | None = None) -> EventResult:
        """Move the order as the ERP reports (see the module docstring); idempotent."""
        if not report.external_ref:
            raise ValidationFailed("the order's external_ref is needed (complete_reference)", field="external_ref")
        ref = report.external_ref

        def step(uow: UnitOfWork) -> EventResult:
            seen = self._seen(uow, erp=erp, event_id=event_id, fingerprint=report.fingerprint())
            if seen is not None:
                return seen
            order = uow.orders.get(ref) or uow.orders.get_by_number(ref)
            customer = None if order is None else uow.customers.get(order.customer_id)
            if order is None or customer is None or customer.erp_system.value != erp:
                raise EntityNotFound("order", ref)
            if report.erp_order_id and order.erp_order_id and report.erp_order_id != order.erp_order_id:
                raise ValidationFailed(
                    f"order {order.number} is ERP order {order.erp_order_id}, not {report.erp_order_id}",
                    field="erp_order_id",
                )
            now = self._ctx.now()
            if order.is_older_erp_change(report.changed_at):
                self._remember(
                    uow, erp=erp, event_id=event_id, fingerprint=report.fingerprint(), result_id=order.id, now=now
                )
                return _unchanged(order)
            target = STATE_TO_STATUS[report.state]
            account = account_of(uow, order.customer_id)
            if target is S.CANCELLED:
                steps = self._cancel(uow, order, account, report, now)
            else:
                steps = self._progress(order, account, target, report, now)
            if S.INVOICED in steps:
                invoiced = report.invoiced_amount if report.invoiced_amount is not None else order.total
                self._ledger(
                    uow, order.customer_id, LedgerKind.INVOICE, report.invoice_number or order.number, invoiced
                )
            released: list[Order] = []
            if order.note_erp_change(report.changed_at) or steps:
                uow.orders.save(order)
            if S.CANCELLED in steps or S.INVOICED in steps or S.DISPATCHED in steps:
                account.updated_at = now
                released = reevaluate_holds(self._ctx, uow, account, now)
                uow.credit.save(account)
            result = EventResult(
                outcome=EventOutcome.APPLIED if steps else EventOutcome.UNCHANGED,
                order_id=order.id,
                order_number=order.number,
                customer_id=order.customer_id,
                status=order.status,
                steps=tuple(steps),
                released=tuple(o.id for o in released),
            )
            self._remember(
                uow, erp=erp, event_id=event_id, fingerprint=report.fingerprint(), result_id=order.id, now=now
            )
            return result

        return self._write_once(step)

    def _progress(
        self, order: Order, account: CreditAccount, target: OrderStatus, report: OrderStatusReport, now: datetime
    ) -> list[OrderStatus]:
        if order.status in PROGRESS and PROGRESS.index(order.status) >= PROGRESS.index(target):
            return []  # already there or further on: a repeated or late event
        if order.status not in (S.SUBMITTED, *PROGRESS):
            raise InvalidTransition(order.id, order.status.value, target.value)
        steps: list[OrderStatus] = []
        if order.status is S.SUBMITTED:
            if not report.erp_order_id:
                raise ValidationFailed(
                    f"order {order.number} is not confirmed yet: the ERP's order id is needed", field="erp_order_id"
                )
            order.confirm(report.erp_order_id, SYSTEM, now)
            steps.append(S.CONFIRMED)
        for status in PROGRESS[PROGRESS.index(order.status) + 1 : PROGRESS.index(target) + 1]:
            if status is S.DISPATCHED:
                order.advance(status, SYSTEM, now, "dispatched in the ERP")
                account.mark_dispatched(order.id)
            elif status is S.INVOICED:
                amount = report.invoiced_amount if report.invoiced_amount is not None else order.total
                if amount.currency != account.currency:
                    raise ValidationFailed(
                        f"order {order.number} is in {account.currency}, the invoice in {amount.currency}",
                        field="invoiced_amount",
                    )
                number = f"invoice {report.invoice_number}" if report.invoice_number else "invoiced"
                order.advance(status, SYSTEM, now, f"{number} in the ERP, {amount.decimal_string()}")
                account.release(order.id)
                account.receivables += amount.minor
            else:
                order.advance(status, SYSTEM, now, "delivered (ERP)")
            steps.append(status)
        return steps

    def _cancel(
        self, uow: UnitOfWork, order: Order, account: CreditAccount, report: OrderStatusReport, now: datetime
    ) -> list[OrderStatus]:
        if order.status is S.CANCELLED:
            return []
        if order.status not in ERP_CANCELLABLE:
            raise InvalidTransition(order.id, order.status.value, S.CANCELLED.value)
        if order.erp_order_id is None and report.erp_order_id:
            order.erp_order_id = report.erp_order_id
        erp_id = order.erp_order_id or "?"
        order.cancel(SYSTEM, f"cancelled in the ERP (order {erp_id})", now)
        count_order(self._ctx, uow, order, sign=-1)
        account.release(order.id)
        return [S.CANCELLED]

    def order_by_reference(self, ref: str) -> tuple[Order, Customer]:
        """The order with that id or number and its customer (for drivers that name orders by hand)."""

        def step(uow: UnitOfWork) -> tuple[Order, Customer]:
            order = uow.orders.get(ref) or uow.orders.get_by_number(ref)
            customer = None if order is None else uow.customers.get(order.customer_id)
            if order is None or customer is None:
                raise EntityNotFound("order", ref)
            return order, customer

        return self._ctx.read(step)

    # --- balances ----------------------------------------------------------------------------------------

    def apply_balance(self, erp: str, report: BalanceReport, event_id: str | None = None) -> EventResult:
        """The ERP's receivables and overdue days of a customer replace ours; holds that fit now are released."""

        def step(uow: UnitOfWork) -> EventResult:
            seen = self._seen(uow, erp=erp, event_id=event_id, fingerprint=report.fingerprint())
            if seen is not None:
                return seen
            customer = self.customer_of(uow, erp, report.customer_code)
            account = account_of(uow, customer.id)
            if report.receivables.currency != account.currency:
                raise ValidationFailed(
                    f"customer {customer.code} buys in {account.currency}, the balance is in "
                    f"{report.receivables.currency}",
                    field="currency",
                )
            now = self._ctx.now()
            same = (account.receivables, account.overdue_days) == (report.receivables.minor, report.overdue_days)
            if same or account.is_older_balance(report.as_of):
                if same and account.note_balance_as_of(report.as_of):
                    uow.credit.save(account)  # the same figures, now known as of a later time
                self._remember(
                    uow, erp=erp, event_id=event_id, fingerprint=report.fingerprint(), result_id=customer.id, now=now
                )
                return EventResult(outcome=EventOutcome.UNCHANGED, customer_id=customer.id)
            moved = report.receivables.minor - account.receivables
            account.update_balance(report.receivables, report.overdue_days, now, report.as_of)
            if moved:
                kind = LedgerKind.PAYMENT if moved < 0 else LedgerKind.ADJUSTMENT
                reference = f"balance {report.as_of.date().isoformat()}" if report.as_of else "balance"
                self._ledger(uow, customer.id, kind, reference, Money(moved, account.currency))
            released = reevaluate_holds(self._ctx, uow, account, now)
            uow.credit.save(account)
            self._remember(
                uow, erp=erp, event_id=event_id, fingerprint=report.fingerprint(), result_id=customer.id, now=now
            )
            return EventResult(
                outcome=EventOutcome.APPLIED, customer_id=customer.id, released=tuple(o.id for o in released)
            )

        return self._write_once(step)

    def _ledger(self, uow: UnitOfWork, customer_id: str, kind: LedgerKind, reference: str, amount: Money) -> None:
        """Note a change of what the customer owes, as the ERP reported it, for its statement (SPEC §2.8)."""
        uow.reports.add_entry(
            LedgerEntry(
                id=self._ctx.ids.new_id(),
                customer_id=customer_id,
                at=self._ctx.now(),
                kind=kind,
                reference=reference,
                amount=amount,
            )
        )

    @staticmethod
    def customer_of(uow: UnitOfWork, erp: str, code: str) -> Customer:
        """The customer with that code served by `erp`; `EntityNotFound` otherwise."""
        customer = uow.customers.get_by_code(code)
        if customer is None or customer.erp_system.value != erp:
            raise EntityNotFound("customer", code)
        return customer

    # --- replay protection -----------------------------------------------------------------------------

    def _write_once(self, step: Callable[[UnitOfWork], EventResult]) -> EventResult:
        """A concurrent delivery of the same event id loses the insert of its record: run again, it is a
        duplicate then."""
        return self._ctx.finish(Write(step))

    def _seen(self, uow: UnitOfWork, *, erp: str, event_id: str | None, fingerprint: str) -> EventResult | None:
        if event_id is None:
            return None
        record = uow.idempotency.get(actor_id=f"erp:{erp}", operation=EVENT_OPERATION, key=event_id)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise Conflict(f"event id {event_id!r} was already used for a different event")
        return EventResult(outcome=EventOutcome.DUPLICATE)

    def _remember(
        self, uow: UnitOfWork, *, erp: str, event_id: str | None, fingerprint: str, result_id: str, now: datetime
    ) -> None:
        self._ctx.remember(
            uow,
            actor_id=f"erp:{erp}",
            operation=EVENT_OPERATION,
            key=event_id,
            fingerprint=fingerprint,
            result_id=result_id,
            field="id",
            now=now,
        )
