"""SPEC §2.3: the credit check at submit — reserve when the total fits the available credit, else hold with the
shortfall; blocked customers are held; reservations are keyed by order id."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm_domain.credit import CreditAccount, CreditPolicy, HoldReason, ReservationStage, Verdict
from crm_domain.errors import CurrencyMismatch, ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import OrderStatus
from tests.unit.world import World, inr

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 2)


class TestSubmitOrder:
    def test_reserves_the_total_when_it_fits(self, world: World) -> None:
        order = world.order(world.rep, world.customer, ("PUMP", "10"))
        assert order.status is OrderStatus.SUBMITTED
        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.open_orders, position.exposure, position.available) == (
            inr("4956.00"),
            inr("4956.00"),
            inr("5044.00"),
        )
        assert world.account().reservations[order.id].amount == 495600
        assert not world.account().reservations[order.id].by_release

    def test_records_the_decision_with_the_available_credit_at_the_time(self, world: World) -> None:
        world.order_of("3000.00")
        order = world.order_of("2000.00")
        assert order.credit is not None
        assert (order.credit.verdict, order.credit.reason, order.credit.available, order.credit.shortfall) == (
            Verdict.APPROVED,
            None,
            inr("7000.00"),
            inr("0.00"),
        )
        assert order.credit.decided_at == world.clock.now()

    def test_a_total_exactly_equal_to_the_available_credit_passes(self, world: World) -> None:
        world.order_of("2500.00")
        order = world.order_of("7500.00")
        assert order.status is OrderStatus.SUBMITTED
        assert world.available() == inr("0.00")

    def test_holds_when_limit_exceeded_by_one_paisa_with_the_exact_shortfall(self, world: World) -> None:
        world.order_of("2500.00")
        before = world.account().reservations
        order = world.order_of("7500.01")

        assert order.status is OrderStatus.ON_CREDIT_HOLD
        assert order.credit is not None
        assert order.credit.verdict is Verdict.HOLD
        assert order.credit.reason is HoldReason.LIMIT_EXCEEDED
        assert order.credit.shortfall == inr("0.01")
        assert order.credit.available == inr("7500.00")
        assert world.account().reservations == before  # nothing reserved for a held order
        assert world.available() == inr("7500.00")

    def test_the_shortfall_is_what_does_not_fit(self, world: World) -> None:
        world.order_of("6000.00")
        held = world.order_of("4500.00")
        assert held.credit is not None
        assert held.credit.shortfall == inr("500.00")

    def test_orders_fill_the_limit_one_after_another(self, world: World) -> None:
        statuses = [world.order_of("4000.00").status for _ in range(3)]
        assert statuses == [OrderStatus.SUBMITTED, OrderStatus.SUBMITTED, OrderStatus.ON_CREDIT_HOLD]
        assert world.exposure() == inr("8000.00")

    def test_holds_a_blocked_customers_order_however_small(self, world: World) -> None:
        world.crm.credit.block(world.controller, world.customer.id, "cheque bounced")
        order = world.order_of("1.00")
        assert order.status is OrderStatus.ON_CREDIT_HOLD
        assert order.credit is not None
        assert order.credit.reason is HoldReason.CUSTOMER_BLOCKED
        assert world.exposure() == inr("0.00")

    def test_receivables_count_towards_exposure(self, world: World) -> None:
        world.crm.credit.update_balance(world.customer.id, inr("8000.00"), 0)
        assert world.order_of("2000.00").status is OrderStatus.SUBMITTED
        held = world.order_of("0.01")
        assert held.status is OrderStatus.ON_CREDIT_HOLD
        assert held.credit is not None
        assert held.credit.shortfall == inr("0.01")

    def test_an_advance_payment_does_not_create_credit(self, world: World) -> None:
        world.crm.credit.update_balance(world.customer.id, inr("-5000.00"), 0)
        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.receivables, position.exposure, position.available) == (
            inr("-5000.00"),
            inr("0.00"),
            inr("10000.00"),
        )
        assert world.order_of("10000.01").status is OrderStatus.ON_CREDIT_HOLD

    def test_customers_have_separate_credit(self, world: World) -> None:
        world.order_of("9000.00", world.customer)
        assert world.order_of("9000.00", world.customer2, world.rep2).status is OrderStatus.SUBMITTED
        assert world.exposure(world.customer) == world.exposure(world.customer2) == inr("9000.00")

    def test_a_zero_total_order_is_approved_even_at_a_zero_limit(self, world: World) -> None:
        world.crm.credit.set_limit(world.admin, world.customer.id, inr("0"), "cash only")
        order = world.order(world.rep, world.customer, ("PUMP", "1", "100"))
        assert (order.status, order.total) == (OrderStatus.SUBMITTED, inr("0.00"))


def account(limit: int = 1_000_000, **kw: object) -> CreditAccount:
    return CreditAccount(customer_id="c1", currency="INR", limit=limit, **kw)  # type: ignore[arg-type]


class TestCreditAccountReservations:
    def test_reserving_twice_for_one_order_is_a_no_op(self) -> None:
        credit = account()
        assert credit.reserve("o1", Money(5000, "INR"), AT)
        assert not credit.reserve("o1", Money(5000, "INR"), AT)
        assert not credit.reserve("o1", Money(9999, "INR"), AT)  # even with another amount
        assert credit.reserved == 5000
        assert credit.reservations["o1"].amount == 5000

    def test_releasing_twice_is_a_no_op(self) -> None:
        credit = account()
        credit.reserve("o1", Money(5000, "INR"), AT)
        credit.reserve("o2", Money(700, "INR"), AT)
        assert credit.release("o1") == 5000
        assert credit.release("o1") == 0
        assert credit.release("never-reserved") == 0
        assert credit.reserved == 700

    def test_a_reservation_in_another_currency_or_negative_is_refused(self) -> None:
        credit = account()
        with pytest.raises(CurrencyMismatch):
            credit.reserve("o1", Money(100, "USD"), AT)
        with pytest.raises(ValidationFailed):
            credit.reserve("o1", Money(-1, "INR"), AT)
        assert credit.reservations == {}

    def test_dispatch_moves_a_reservation_between_the_exposure_parts(self) -> None:
        credit = account()
        credit.reserve("o1", Money(300, "INR"), AT)
        credit.reserve("o2", Money(200, "INR"), AT)
        credit.mark_dispatched("o1")
        credit.mark_dispatched("o1")  # again: no change
        credit.mark_dispatched("unknown")  # nothing to move
        assert (credit.open_orders, credit.dispatched, credit.reserved) == (200, 300, 500)
        assert credit.reservations["o1"].stage is ReservationStage.DISPATCHED
        assert credit.exposure(CreditPolicy()) == 500
        assert credit.exposure(CreditPolicy(count_dispatched=False)) == 200
        assert credit.exposure(CreditPolicy(count_open_orders=False)) == 300

    def test_the_check_is_pure(self) -> None:
        credit = account(limit=1000)
        check = credit.check(Money(1000, "INR"), CreditPolicy(), TODAY)
        assert check.approved
        assert credit.reservations == {}
        assert credit.check(Money(1001, "INR"), CreditPolicy(), TODAY).shortfall == Money(1, "INR")

    def test_the_check_refuses_another_currency(self) -> None:
        with pytest.raises(CurrencyMismatch):
            account().check(Money(1, "USD"), CreditPolicy(), TODAY)
