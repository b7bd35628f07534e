"""SPEC §2.3: a credit controller releases a hold (four eyes, reserved whatever the limit, override recorded)
or rejects it (nothing reserved); cancel and invoicing release reservations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_domain.errors import FourEyesViolation, InvalidTransition, PermissionDenied, ValidationFailed
from crm_domain.orders import OrderStatus
from tests.unit.world import World, inr

S = OrderStatus


def audit(world: World, order_id: str) -> list[tuple[str, str, dict[str, object]]]:
    with world.crm.ctx.uow(read_only=True) as uow:
        return [(e.action, e.actor_id, e.details) for e in uow.audit.list_for("order", order_id)]


class TestReleaseHold:
    def test_release_reserves_whatever_the_limit_and_records_the_override(self, world: World) -> None:
        world.order_of("7000.00")
        held = world.order_of("5000.00")
        world.clock.advance(timedelta(hours=2))

        released = world.crm.orders.release(world.controller, held.id, "MD approved on call")

        assert released.status is S.SUBMITTED
        assert released.submitted_at == world.clock.now()
        credit = released.credit
        assert credit is not None
        assert (credit.released_by, credit.released_at, credit.release_note, credit.released_shortfall) == (
            world.controller.id,
            world.clock.now(),
            "MD approved on call",
            inr("2000.00"),
        )
        assert credit.reason is not None  # the original verdict stays on record
        position = world.crm.credit.position(world.controller, world.customer.id)
        assert (position.exposure, position.available) == (inr("12000.00"), inr("-2000.00"))
        reservation = world.account().reservations[held.id]
        assert (reservation.amount, reservation.by_release) == (500000, True)
        assert audit(world, held.id) == [
            ("order.released", world.controller.id, {"note": "MD approved on call", "shortfall": "2000.00"})
        ]

    def test_the_shortfall_recorded_is_the_one_at_release_time(self, world: World) -> None:
        first = world.order_of("7000.00")
        held = world.order_of("5000.00")
        world.order_of("2000.00")  # fits: 9000 reserved
        released = world.crm.orders.release(world.controller, held.id, "ok")
        assert released.credit is not None
        assert released.credit.shortfall == inr("2000.00")  # at submit
        assert released.credit.released_shortfall == inr("4000.00")  # at release
        assert first.id in world.account().reservations

    def test_a_blocked_customers_order_can_be_released(self, world: World) -> None:
        world.crm.credit.block(world.controller, world.customer.id, "cheque bounced")
        held = world.order_of("100.00")
        assert world.crm.orders.release(world.controller, held.id, "paid in cash").status is S.SUBMITTED
        assert world.exposure() == inr("100.00")

    def test_the_creator_cannot_release_their_own_order(self, world: World) -> None:
        held = world.order(world.admin, world.customer, ("AMT", "20000"))
        assert held.status is S.ON_CREDIT_HOLD
        before = world.snapshot()

        with pytest.raises(FourEyesViolation) as raised:
            world.crm.orders.release(world.admin, held.id, "I trust them")

        assert raised.value.actor_id == world.admin.id
        assert world.snapshot() == before
        assert world.crm.orders.release(world.controller, held.id, "second pair of eyes").status is S.SUBMITTED

    def test_release_needs_a_note_and_the_permission(self, world: World) -> None:
        held = world.order_of("20000.00")
        before = world.snapshot()
        with pytest.raises(ValidationFailed):
            world.crm.orders.release(world.controller, held.id, "  ")
        with pytest.raises(PermissionDenied):
            world.crm.orders.release(world.manager, held.id, "my rep needs it")
        assert world.snapshot() == before

    def test_a_released_order_counts_for_its_rep(self, world: World) -> None:
        held = world.order_of("20000.00")
        world.crm.orders.release(world.controller, held.id, "ok")
        (row,) = world.crm.performance.figures(world.rep, "2026-11")
        assert (row.achieved, row.orders) == (inr("20000.00"), 1)


class TestRejectHold:
    def test_reject_reserves_nothing_and_records_the_reason(self, world: World) -> None:
        world.order_of("7000.00")
        held = world.order_of("5000.00")
        rejected = world.crm.orders.reject(world.controller, held.id, "over limit twice this month")
        assert rejected.status is S.REJECTED
        assert rejected.history[-1].note == "over limit twice this month"
        assert held.id not in world.account().reservations
        assert world.exposure() == inr("7000.00")
        assert audit(world, held.id) == [
            ("order.rejected", world.controller.id, {"reason": "over limit twice this month"})
        ]

    def test_a_rejected_order_cannot_be_released_or_cancelled(self, world: World) -> None:
        held = world.order_of("20000.00")
        world.crm.orders.reject(world.controller, held.id, "no")
        with pytest.raises(InvalidTransition):
            world.crm.orders.release(world.controller2, held.id, "changed my mind")
        with pytest.raises(InvalidTransition):
            world.crm.orders.cancel(world.rep, held.id, "x")


class TestCancelReleasesCredit:
    @pytest.mark.parametrize("confirmed", [False, True])
    def test_cancel_releases_the_reservation(self, world: World, confirmed: bool) -> None:
        order = world.order_of("4000.00")
        if confirmed:
            world.erp_reports(order, S.CONFIRMED, erp_order_id="4500000001")
        cancelled = world.crm.orders.cancel(world.dealer, order.id, "ordered twice")
        assert cancelled.status is S.CANCELLED
        assert order.id not in world.account().reservations
        assert world.available() == inr("10000.00")
        (message,) = [m for m in world.outbox() if m.event == "order.cancelled"]
        assert message.payload["erp_order_id"] == ("4500000001" if confirmed else None)  # the ERP cancels it too
        assert message.payload["previous_status"] == ("confirmed" if confirmed else "submitted")

    def test_cancelling_a_released_override_releases_it_too(self, world: World) -> None:
        held = world.order_of("20000.00")
        world.crm.orders.release(world.controller, held.id, "ok")
        world.crm.orders.cancel(world.controller, held.id, "dealer withdrew")
        assert world.exposure() == inr("0.00")

    def test_cancelling_a_held_order_leaves_credit_as_it_was(self, world: World) -> None:
        world.order_of("7000.00")
        held = world.order_of("5000.00")
        before = world.account().reservations
        world.crm.orders.cancel(world.rep, held.id, "too big")
        assert world.account().reservations == before

    def test_a_dispatched_order_cannot_be_cancelled(self, world: World) -> None:
        order = world.order_of("4000.00")
        world.erp_reports(order, S.DISPATCHED)
        with pytest.raises(InvalidTransition):
            world.crm.orders.cancel(world.rep, order.id, "too late")
        assert world.exposure() == inr("4000.00")


class TestInvoicing:
    def test_invoicing_releases_the_reservation_and_receivables_take_over(self, world: World) -> None:
        order = world.order_of("4000.00")
        other = world.order_of("1000.00")
        world.erp_reports(order, S.DISPATCHED)
        assert world.account().reservations[order.id].stage == "dispatched"

        world.erp_reports(order, S.INVOICED)
        assert set(world.account().reservations) == {other.id}
        assert world.account().receivables == 400000  # owed until the ERP's balance says otherwise
        world.crm.credit.update_balance(world.customer.id, inr("4000.00"), 0)

        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.receivables, position.open_orders, position.dispatched, position.exposure) == (
            inr("4000.00"),
            inr("1000.00"),
            inr("0.00"),
            inr("5000.00"),
        )

    def test_an_invoiced_order_still_counts_as_achieved(self, world: World) -> None:
        order = world.order_of("4000.00")
        world.erp_reports(order, S.DELIVERED)
        (row,) = world.crm.performance.figures(world.rep, "2026-11")
        assert row.achieved == inr("4000.00")
