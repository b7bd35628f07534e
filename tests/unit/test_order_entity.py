"""SPEC §2.5 on the order itself: which states hold credit and count for a rep, the hold time, the ERP sync
state through release, confirm and failures, attachments and `updated_at`. Written to kill the survivors of
`scripts/mutation.py orders`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from crm_domain.credit import CreditCheck, HoldReason, Verdict
from crm_domain.errors import FourEyesViolation, InvalidTransition, ValidationFailed
from crm_domain.events import OrderErpSyncChanged, OrderStatusChanged
from crm_domain.money import Money
from crm_domain.orders import (
    Attachment,
    Channel,
    ErpSync,
    LineRequest,
    Order,
    OrderLine,
    OrderStatus,
)
from crm_domain.products import Product
from crm_domain.users import Actor, Role

S = OrderStatus
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
REP = Actor(id="rep", roles=frozenset({Role.SALES_REP}))
CONTROLLER = Actor(id="controller", roles=frozenset({Role.CREDIT_CONTROLLER}))
SYSTEM = Actor(id="system", roles=frozenset({Role.ADMIN}))


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def inr(minor: int) -> Money:
    return Money(minor, "INR")


def draft() -> Order:
    product = Product(sku="PUMP", name="Pump", unit_price=inr(10_000), tax_rate=Decimal(18), updated_at=T0)
    line = OrderLine.priced(LineRequest(sku="PUMP", quantity="2"), product)
    return Order.draft(
        id="o1",
        number="SO-1",
        customer_id="c1",
        currency="INR",
        lines=[line],
        actor=REP,
        channel=Channel.FIELD_APP,
        notes="",
        at=T0,
    )


def check(approved: bool) -> CreditCheck:
    return CreditCheck(
        verdict=Verdict.APPROVED if approved else Verdict.HOLD,
        reason=None if approved else HoldReason.LIMIT_EXCEEDED,
        available=inr(5_000),
        shortfall=inr(0 if approved else 18_600),
        exposure=inr(0),
        limit=inr(5_000),
    )


def event_names(order: Order) -> list[str]:
    return [type(event).__name__ for event in order.pull_events()]


def submitted() -> Order:
    order = draft()
    order.submit(check(True), "rep", REP, at(1))
    return order


def held() -> Order:
    order = draft()
    order.submit(check(False), "rep", REP, at(1))
    return order


def in_status(status: OrderStatus) -> Order:
    order = draft()
    order.status = status
    return order


class TestAchievedAndReservingStates:
    """SPEC §2.6: submitted through delivered count for the rep; submitted, confirmed, dispatched hold credit."""

    @pytest.mark.parametrize("status", list(OrderStatus))
    def test_counts_for_the_rep_from_submitted_to_delivered(self, status: OrderStatus) -> None:
        expected = status in {S.SUBMITTED, S.CONFIRMED, S.DISPATCHED, S.INVOICED, S.DELIVERED}
        assert in_status(status).counts_for_performance is expected

    @pytest.mark.parametrize("status", list(OrderStatus))
    def test_holds_a_reservation_from_submitted_to_dispatched(self, status: OrderStatus) -> None:
        expected = status in {S.SUBMITTED, S.CONFIRMED, S.DISPATCHED}
        assert in_status(status).holds_reservation is expected


class TestTransitions:
    """SPEC §2.5's state machine, pair by pair."""

    ALLOWED = frozenset(
        {
            (S.DRAFT, S.SUBMITTED),
            (S.DRAFT, S.ON_CREDIT_HOLD),
            (S.DRAFT, S.CANCELLED),
            (S.ON_CREDIT_HOLD, S.SUBMITTED),
            (S.ON_CREDIT_HOLD, S.REJECTED),
            (S.ON_CREDIT_HOLD, S.CANCELLED),
            (S.SUBMITTED, S.CONFIRMED),
            (S.SUBMITTED, S.CANCELLED),
            (S.CONFIRMED, S.DISPATCHED),
            (S.CONFIRMED, S.CANCELLED),
            (S.DISPATCHED, S.INVOICED),
            (S.INVOICED, S.DELIVERED),
        }
    )

    @pytest.mark.parametrize("source", list(OrderStatus))
    def test_only_the_allowed_moves_pass(self, source: OrderStatus) -> None:
        order = in_status(source)
        for target in OrderStatus:
            if (source, target) in self.ALLOWED:
                order.ensure_can(target)
            else:
                with pytest.raises(InvalidTransition):
                    order.ensure_can(target)


class TestPutOnHold:
    def test_records_hold_time(self) -> None:
        order = held()
        assert (order.status, order.held_at, order.submitted_at) == (S.ON_CREDIT_HOLD, at(1), None)
        assert order.erp_sync is ErpSync.NOT_SENT  # nothing goes to the ERP while held
        assert order.history[-1].note == HoldReason.LIMIT_EXCEEDED.value

    def test_an_approved_submit_sets_no_hold_time(self) -> None:
        order = submitted()
        assert (order.status, order.held_at, order.submitted_at, order.erp_sync) == (
            S.SUBMITTED,
            None,
            at(1),
            ErpSync.PENDING,
        )

    def test_only_a_draft_is_submitted(self) -> None:
        order = held()
        with pytest.raises(InvalidTransition):
            order.submit(check(True), "rep", REP, at(2))


class TestRelease:
    def test_a_released_order_is_submitted_and_waits_for_the_erp(self) -> None:
        order = held()
        order.release(CONTROLLER, "paid by cheque", inr(18_600), at(5))
        assert (order.status, order.submitted_at, order.updated_at, order.held_at) == (S.SUBMITTED, at(5), at(5), at(1))
        assert order.erp_sync is ErpSync.PENDING
        assert order.credit is not None
        assert (order.credit.released_by, order.credit.released_at, order.credit.release_note) == (
            CONTROLLER.id,
            at(5),
            "paid by cheque",
        )

    def test_the_creator_may_not_release_but_the_system_may(self) -> None:
        order = held()
        with pytest.raises(FourEyesViolation):
            order.release(REP, "mine", inr(0), at(5))
        order.release(REP, "re-evaluated", inr(0), at(6), by_system=True)
        assert order.status is S.SUBMITTED

    def test_only_a_held_order_is_released(self) -> None:
        order = draft()
        with pytest.raises(InvalidTransition):
            order.release(CONTROLLER, "nothing to release", inr(0), at(5))


class TestConfirm:
    def test_confirm_clears_an_earlier_erp_error(self) -> None:
        order = submitted()
        order.set_erp_sync(ErpSync.FAILED, at(2), error="SAP timed out")
        order.confirm("4500001", SYSTEM, at(3))
        assert (order.status, order.erp_order_id, order.erp_sync, order.erp_error) == (
            S.CONFIRMED,
            "4500001",
            ErpSync.SYNCED,
            None,
        )

    def test_confirm_needs_the_erp_order_id(self) -> None:
        order = submitted()
        with pytest.raises(ValidationFailed):
            order.confirm("", SYSTEM, at(3))
        assert order.status is S.SUBMITTED


class TestAdvance:
    """The ERP's progress of a confirmed order (the rule that walks it is `ErpEventService.apply_order_status`)."""

    def test_each_step_records_a_status_change_from_the_previous_state(self) -> None:
        order = in_status(S.CONFIRMED)
        order.pull_events()  # the draft's own
        steps = [(S.DISPATCHED, at(2)), (S.INVOICED, at(3)), (S.DELIVERED, at(4))]
        previous = [order.advance(target, SYSTEM, when, note=f"{target.value} in the ERP") for target, when in steps]

        assert previous == [S.CONFIRMED, S.DISPATCHED, S.INVOICED]
        changes = [e for e in order.pull_events() if isinstance(e, OrderStatusChanged)]
        assert [(c.previous_status, c.status, c.actor_id, c.occurred_at) for c in changes] == [
            ("confirmed", "dispatched", "system", at(2)),
            ("dispatched", "invoiced", "system", at(3)),
            ("invoiced", "delivered", "system", at(4)),
        ]
        assert (order.status, order.updated_at, order.history[-1].note) == (S.DELIVERED, at(4), "delivered in the ERP")

    @pytest.mark.parametrize("target", [S.CONFIRMED, S.SUBMITTED, S.CANCELLED, S.REJECTED])
    def test_only_dispatch_invoice_and_delivery_are_progress(self, target: OrderStatus) -> None:
        order = in_status(S.CONFIRMED)
        order.pull_events()  # the draft's own
        with pytest.raises(InvalidTransition):
            order.advance(target, SYSTEM, at(2))
        assert (order.status, order.pull_events()) == (S.CONFIRMED, [])


class TestErpSyncState:
    def test_a_new_error_in_the_same_failed_state_is_recorded(self) -> None:
        order = submitted()
        order.pull_events()
        order.set_erp_sync(ErpSync.FAILED, at(2), error="SAP timed out")
        order.set_erp_sync(ErpSync.FAILED, at(3), error="SAP refused the material")
        assert (order.erp_sync, order.erp_error, order.updated_at) == (
            ErpSync.FAILED,
            "SAP refused the material",
            at(3),
        )
        events = order.pull_events()
        assert [e.error for e in events if isinstance(e, OrderErpSyncChanged)] == [
            "SAP timed out",
            "SAP refused the material",
        ]

    def test_the_same_state_and_error_again_changes_nothing(self) -> None:
        order = submitted()
        order.set_erp_sync(ErpSync.FAILED, at(2), error="SAP timed out")
        order.pull_events()
        order.set_erp_sync(ErpSync.FAILED, at(3), error="SAP timed out")
        assert (order.updated_at, order.pull_events()) == (at(2), [])

    def test_a_new_state_without_an_error_clears_the_error(self) -> None:
        order = submitted()
        order.set_erp_sync(ErpSync.FAILED, at(2), error="SAP timed out")
        order.set_erp_sync(ErpSync.PENDING, at(3))
        assert (order.erp_sync, order.erp_error, order.updated_at) == (ErpSync.PENDING, None, at(3))


class TestAttachments:
    def test_an_attachment_is_kept_and_touches_the_order(self) -> None:
        order = draft()
        attachment = Attachment(
            id="a1", filename="po.pdf", content_type="application/pdf", size=1234, uploaded_by="rep", uploaded_at=at(4)
        )
        order.add_attachment(attachment)
        assert (order.attachments, order.updated_at) == ([attachment], at(4))


class TestUpdatedAt:
    def test_every_state_change_moves_updated_at(self) -> None:
        order = submitted()
        assert order.updated_at == at(1)
        order.confirm("4500001", SYSTEM, at(2))
        assert order.updated_at == at(2)
        order.cancel(CONTROLLER, "dealer withdrew", at(3))
        assert (order.status, order.updated_at) == (S.CANCELLED, at(3))

    def test_reject_moves_updated_at(self) -> None:
        order = held()
        order.reject(CONTROLLER, "over limit for months", at(7))
        assert (order.status, order.updated_at) == (S.REJECTED, at(7))


class TestDraft:
    def test_a_new_draft_has_totals_version_zero_and_a_created_event(self) -> None:
        order = draft()
        assert (order.subtotal, order.tax_total, order.total) == (inr(20_000), inr(3_600), inr(23_600))
        assert (order.status, order.version, order.erp_sync) == (S.DRAFT, 0, ErpSync.NOT_SENT)
        assert event_names(order) == ["OrderCreated"]

    def test_a_line_priced_in_another_currency_is_refused(self) -> None:
        product = Product(sku="PUMP", name="Pump", unit_price=Money(10_000, "USD"), updated_at=T0)
        line = OrderLine.priced(LineRequest(sku="PUMP", quantity="1"), product)
        with pytest.raises(ValidationFailed) as raised:
            Order.draft(
                id="o1",
                number="SO-1",
                customer_id="c1",
                currency="INR",
                lines=[line],
                actor=REP,
                channel=Channel.FIELD_APP,
                notes="",
                at=T0,
            )
        assert raised.value.field == "lines"


class TestEvents:
    """Each change of state records its event for the outbox."""

    def test_hold_then_reject(self) -> None:
        order = draft()
        order.pull_events()
        order.submit(check(False), "rep", REP, at(1))
        order.reject(CONTROLLER, "no", at(2))
        assert event_names(order) == ["OrderPutOnCreditHold", "OrderRejected"]

    def test_submit_then_confirm_then_sync_change_then_cancel(self) -> None:
        order = submitted()
        order.pull_events()
        order.confirm("4500001", SYSTEM, at(2))
        order.set_erp_sync(ErpSync.FAILED, at(3), error="cancel not acknowledged")
        assert order.cancel(CONTROLLER, "dealer withdrew", at(4)) is S.CONFIRMED
        assert event_names(order) == ["OrderConfirmed", "OrderErpSyncChanged", "OrderCancelled"]
