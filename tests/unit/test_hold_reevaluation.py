"""SPEC §2.3: when a customer's limit rises, a temporary limit starts, a block ends or exposure falls, the held
orders that now fit are released automatically, in hold order, recorded as released by the system."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from crm_domain.orders import Order, OrderStatus
from crm_domain.services.credit import AUTO_RELEASE_NOTE
from tests.unit.world import World, inr

S = OrderStatus


def status(world: World, order: Order) -> OrderStatus:
    return world.crm.orders.get(world.admin, order.id).status


def raise_limit(world: World, new_limit: str) -> None:
    request = world.crm.credit.request_limit_change(world.manager, world.customer.id, inr(new_limit), "growing")
    world.crm.credit.approve_request(world.controller, request.id)


def invoice_short(world: World, order: Order) -> None:
    """The ERP invoices 2000 of the order: the reservation goes, 2000 is owed."""
    world.erp_reports(order, S.DISPATCHED)
    world.erp_reports(order, S.INVOICED, invoiced_amount=inr("2000.00"))


Trigger = Callable[[World, Order], object]
#: Each way exposure falls or the limit rises, given a submitted 6000 order `first` on the 10000 limit.
TRIGGERS: dict[str, Trigger] = {
    "limit raised by an approved request": lambda w, first: raise_limit(w, "13000.00"),
    "limit asked for by an admin": lambda w, first: w.raise_credit("limit", new_limit="13000.00", requested_by=w.admin),
    "temporary limit": lambda w, first: w.raise_credit(
        "temporary_limit", new_limit="13000.00", valid_until=date(2026, 11, 30)
    ),
    "tolerance raised": lambda w, first: w.raise_credit("tolerance", tolerance_pct="20"),
    "cancel": lambda w, first: w.crm.orders.cancel(w.rep, first.id, "not needed"),
    "cancel of a confirmed order": lambda w, first: (
        w.erp_reports(first, S.CONFIRMED),
        w.crm.orders.cancel(w.rep, first.id, "not needed"),
    ),
    "invoiced for less than the order": lambda w, first: invoice_short(w, first),
    "payment lowers receivables": lambda w, first: w.crm.credit.update_balance(w.customer.id, inr("-3000.00"), 0),
}


#: The triggers that are approved raises: the release is on the approver's behalf (SPEC §2.3 credit governance).
APPROVER = {
    "limit raised by an approved request": "controller",
    "limit asked for by an admin": "controller2",
    "temporary limit": "controller2",
    "tolerance raised": "controller2",
}


class TestHoldsAreReleasedWhenTheyFit:
    @pytest.mark.parametrize("trigger", sorted(TRIGGERS))
    def test_a_held_order_that_now_fits_is_released_by_the_system(self, world: World, trigger: str) -> None:
        """… on the approver's behalf when an approved raise made it fit."""
        if trigger == "payment lowers receivables":
            world.crm.credit.update_balance(world.customer.id, inr("3000.00"), 0)
            first = world.order_of("3000.00")
        else:
            first = world.order_of("6000.00")
        held = world.order_of("5000.00")
        assert held.status is S.ON_CREDIT_HOLD
        world.clock.advance(timedelta(minutes=10))

        TRIGGERS[trigger](world, first)

        released = world.crm.orders.get(world.admin, held.id)
        assert released.status is S.SUBMITTED
        by = getattr(world, APPROVER[trigger]).id if trigger in APPROVER else "system"
        last = released.history[-1]
        assert (last.from_status, last.to_status, last.actor_id, last.at, last.note) == (
            S.ON_CREDIT_HOLD,
            S.SUBMITTED,
            by,
            world.clock.now(),
            AUTO_RELEASE_NOTE,
        )
        assert released.credit is not None
        assert (released.credit.released_by, released.credit.released_shortfall) == (by, inr("0.00"))
        reservation = world.account().reservations[held.id]
        assert reservation.amount == 500000
        assert not reservation.by_release  # it fit: this is not an override
        assert "order.released" in world.events()

    def test_orders_are_released_in_hold_order(self, world: World) -> None:
        world.order_of("9000.00")
        a = world.order_of("3000.00")
        world.clock.advance(timedelta(minutes=1))
        b = world.order_of("3000.00")
        world.clock.advance(timedelta(minutes=1))
        c = world.order_of("3000.00")

        raise_limit(world, "15000.00")  # room for two of the three: the first two held

        assert [status(world, o) for o in (a, b, c)] == [S.SUBMITTED, S.SUBMITTED, S.ON_CREDIT_HOLD]
        released = [m.payload["order_id"] for m in world.outbox() if m.event == "order.released"]
        assert released == [a.id, b.id]

    def test_a_smaller_later_order_is_released_though_an_earlier_bigger_one_does_not_fit(self, world: World) -> None:
        world.order_of("9000.00")
        big = world.order_of("8000.00")
        small = world.order_of("2000.00")

        raise_limit(world, "12000.00")

        assert status(world, big) is S.ON_CREDIT_HOLD
        assert status(world, small) is S.SUBMITTED
        assert world.exposure() == inr("11000.00")

    def test_an_automatically_released_order_counts_for_its_rep(self, world: World) -> None:
        first = world.order_of("9000.00")
        world.order_of("5000.00")
        world.crm.orders.cancel(world.rep, first.id, "dup")
        (row,) = world.crm.performance.figures(world.rep, "2026-11")
        assert (row.achieved, row.orders) == (inr("5000.00"), 1)

    def test_orders_that_still_do_not_fit_stay_held(self, world: World) -> None:
        world.order_of("9000.00")
        held = world.order_of("5000.00")
        raise_limit(world, "13999.99")
        assert status(world, held) is S.ON_CREDIT_HOLD
        assert world.exposure() == inr("9000.00")

    def test_unblocking_releases_what_fits(self, world: World) -> None:
        world.crm.credit.block(world.controller, world.customer.id, "cheque bounced")
        fits = world.order_of("4000.00")
        too_big = world.order_of("12000.00")
        world.raise_credit("unblock", reason="cleared")
        assert (status(world, fits), status(world, too_big)) == (S.SUBMITTED, S.ON_CREDIT_HOLD)

    def test_clearing_the_overdue_releases_what_fits(self, world: World) -> None:
        customer = world.new_customer(world.rep, "10000.00", overdue_block_days=30)
        world.crm.credit.update_balance(customer.id, inr("2000.00"), 45)
        held = world.order_of("8000.00", customer)
        assert held.status is S.ON_CREDIT_HOLD
        world.crm.credit.update_balance(customer.id, inr("2000.00"), 0)
        assert status(world, held) is S.SUBMITTED

    def test_invoicing_in_full_keeps_the_hold(self, world: World) -> None:
        """The invoiced amount is still owed: the exposure moves from open orders to receivables, it does not fall."""
        first = world.order_of("6000.00")
        held = world.order_of("5000.00")
        world.erp_reports(first, S.INVOICED)
        assert status(world, held) is S.ON_CREDIT_HOLD
        assert (world.account().receivables, world.exposure()) == (600000, inr("6000.00"))

    def test_nothing_is_released_while_the_customer_is_blocked(self, world: World) -> None:
        world.order_of("9000.00")
        held = world.order_of("5000.00")
        world.crm.credit.block(world.controller, world.customer.id, "legal dispute")
        raise_limit(world, "50000.00")
        world.crm.credit.update_balance(world.customer.id, inr("0.00"), 0)
        assert status(world, held) is S.ON_CREDIT_HOLD

    def test_nothing_is_released_while_overdue_blocked(self, world: World) -> None:
        customer = world.new_customer(world.rep, "10000.00", overdue_block_days=30)
        world.crm.credit.update_balance(customer.id, inr("0.00"), 31)
        held = world.order_of("100.00", customer)
        world.raise_credit("limit", customer, new_limit="50000.00")
        assert status(world, held) is S.ON_CREDIT_HOLD

    def test_a_rejected_order_is_never_released(self, world: World) -> None:
        world.order_of("9000.00")
        held = world.order_of("5000.00")
        world.crm.orders.reject(world.controller, held.id, "no")
        raise_limit(world, "50000.00")
        assert status(world, held) is S.REJECTED
        assert held.id not in world.account().reservations

    def test_another_customers_holds_are_untouched(self, world: World) -> None:
        world.order_of("9000.00", world.customer2, world.rep2)
        other = world.order_of("5000.00", world.customer2, world.rep2)
        raise_limit(world, "50000.00")
        assert status(world, other) is S.ON_CREDIT_HOLD

    def test_a_sweep_releases_what_time_made_fit(self, world: World) -> None:
        """A lower temporary limit lapsing raises the limit with no event; `reevaluate` is the sweep for it."""
        world.crm.credit.set_temporary_limit(
            world.controller, world.customer.id, inr("1000.00"), date(2026, 11, 2), "trial"
        )
        held = world.order_of("5000.00")
        world.clock.advance(timedelta(days=1))

        released = world.crm.credit.reevaluate(world.customer.id)

        assert [o.id for o in released] == [held.id]
        assert status(world, held) is S.SUBMITTED
        assert world.exposure() == inr("5000.00")
        assert world.crm.credit.reevaluate(world.customer.id) == []
