"""ERP events applied to the CRM (SPEC §2.3, §2.5, §8): order status changes walk the order through confirmed,
dispatched, invoiced and delivered, idempotently; invoicing moves the order's reservation into receivables;
balances replace receivables and overdue days and re-evaluate holds; cancellations in the ERP cancel here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.system import FixedClock
from crm_domain.erp import ErpOrderState, ErpOrderStatus
from crm_domain.errors import Conflict, EntityNotFound, InvalidTransition, ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import Order, OrderStatus
from crm_domain.services.credit import AUTO_RELEASE_NOTE
from crm_domain.services.customers import CustomerChanges
from crm_domain.services.erp_events import BalanceReport, ErpEventService, EventOutcome, OrderStatusReport
from tests.unit.world import World, build_world, inr, new_crm

S = OrderStatus
E = ErpOrderState
SBX = "sandbox"
HOUR = timedelta(hours=1)


def report(order: Order, state: ErpOrderState, **kw: object) -> OrderStatusReport:
    fields: dict[str, object] = {"external_ref": order.id, "erp_order_id": f"SBX-{order.number}", "state": state}
    fields.update(kw)
    return OrderStatusReport(**fields)  # type: ignore[arg-type]


def status(world: World, order: Order) -> Order:
    return world.crm.orders.get(world.admin, order.id)


def steps(order: Order) -> list[tuple[S | None, S]]:
    return [(h.from_status, h.to_status) for h in order.history]


class TestOrderProgress:
    def test_open_in_the_erp_confirms_a_submitted_order_with_the_erp_id(self, world: World) -> None:
        order = world.order_of("1000.00")
        result = world.crm.erp_events.apply_order_status(SBX, report(order, E.OPEN))
        assert (result.outcome, result.status, result.steps) == (EventOutcome.APPLIED, S.CONFIRMED, (S.CONFIRMED,))
        stored = status(world, order)
        assert (stored.status, stored.erp_order_id) == (S.CONFIRMED, f"SBX-{order.number}")
        assert world.account().reservations[order.id].amount == 100000

    def test_a_skipped_step_is_walked_through_and_invoicing_moves_the_reservation_into_receivables(
        self, world: World
    ) -> None:
        order = world.order_of("1000.00")
        world.crm.credit.update_balance(world.customer.id, inr("500.00"), 0)
        before = world.exposure()
        result = world.crm.erp_events.apply_order_status(
            SBX, report(order, E.INVOICED, invoice_number="INV-7", invoiced_amount=inr("1000.00"))
        )
        assert result.steps == (S.CONFIRMED, S.DISPATCHED, S.INVOICED)
        stored = status(world, order)
        assert steps(stored)[-3:] == [
            (S.SUBMITTED, S.CONFIRMED),
            (S.CONFIRMED, S.DISPATCHED),
            (S.DISPATCHED, S.INVOICED),
        ]
        assert "INV-7" in stored.history[-1].note
        account = world.account()
        assert order.id not in account.reservations
        assert account.receivables == 150000
        assert world.exposure() == before  # counted once: moved from open orders to receivables
        assert world.events().count("order.status_changed") == 2

    def test_without_an_invoiced_amount_the_order_total_joins_receivables(self, world: World) -> None:
        order = world.order(world.rep, world.customer, ("PUMP", "2"))  # 2 × 420.00 + 18% = 991.20
        world.crm.erp_events.apply_order_status(SBX, report(order, E.DELIVERED))
        assert status(world, order).status is S.DELIVERED
        assert world.account().receivables == 99120

    def test_a_repeated_or_older_event_changes_nothing(self, world: World) -> None:
        order = world.order_of("1000.00")
        world.crm.erp_events.apply_order_status(SBX, report(order, E.INVOICED))
        snapshot = world.snapshot()
        for state in (E.INVOICED, E.DISPATCHED, E.OPEN):
            result = world.crm.erp_events.apply_order_status(SBX, report(order, state))
            assert (result.outcome, result.status, result.steps) == (EventOutcome.UNCHANGED, S.INVOICED, ())
        assert world.snapshot() == snapshot

    def test_the_order_is_found_by_its_number_too(self, world: World) -> None:
        order = world.order_of("10.00")
        world.crm.erp_events.apply_order_status(SBX, report(order, E.DISPATCHED, external_ref=order.number))
        assert status(world, order).status is S.DISPATCHED
        assert world.account().dispatched == 1000

    def test_an_invoice_in_another_currency_is_refused_and_changes_nothing(self, world: World) -> None:
        order = world.order_of("10.00")
        snapshot = world.snapshot()
        with pytest.raises(ValidationFailed, match="USD"):
            world.crm.erp_events.apply_order_status(
                SBX, report(order, E.INVOICED, invoiced_amount=Money.of("10.00", "USD"))
            )
        assert world.snapshot() == snapshot

    def test_a_held_order_is_released_when_an_invoice_below_the_reservation_lowers_exposure(self, world: World) -> None:
        first = world.order_of("8000.00")
        held = world.order_of("3000.00")
        assert held.status is S.ON_CREDIT_HOLD
        world.clock.advance(timedelta(minutes=5))
        result = world.crm.erp_events.apply_order_status(SBX, report(first, E.INVOICED, invoiced_amount=inr("6000.00")))
        assert result.released == (held.id,)
        released = status(world, held)
        assert (released.status, released.history[-1].note) == (S.SUBMITTED, AUTO_RELEASE_NOTE)
        assert world.exposure() == inr("9000.00")


class TestRefusedStatusEvents:
    def test_unknown_orders_and_orders_of_another_erp_are_not_found(self, world: World) -> None:
        order = world.order_of("10.00")
        with pytest.raises(EntityNotFound):
            world.crm.erp_events.apply_order_status(SBX, OrderStatusReport(external_ref="nope", state=E.OPEN))
        with pytest.raises(EntityNotFound):
            world.crm.erp_events.apply_order_status("sap", report(order, E.OPEN))
        world.crm.customers.update(world.admin, world.customer.id, CustomerChanges(erp_system="gennext"))
        with pytest.raises(EntityNotFound):
            world.crm.erp_events.apply_order_status(SBX, report(order, E.OPEN))

    def test_another_erp_order_id_than_the_confirmed_one_is_refused(self, world: World) -> None:
        order = world.order_of("10.00")
        world.crm.erp_events.apply_order_status(SBX, report(order, E.OPEN))
        snapshot = world.snapshot()
        with pytest.raises(ValidationFailed, match="not SBX-OTHER"):
            world.crm.erp_events.apply_order_status(SBX, report(order, E.DISPATCHED, erp_order_id="SBX-OTHER"))
        assert world.snapshot() == snapshot

    def test_confirming_needs_the_erp_order_id(self, world: World) -> None:
        order = world.order_of("10.00")
        with pytest.raises(ValidationFailed, match="not confirmed yet"):
            world.crm.erp_events.apply_order_status(SBX, report(order, E.DISPATCHED, erp_order_id=None))

    @pytest.mark.parametrize("how", ["held", "draft", "cancelled"])
    def test_progress_of_an_order_the_erp_cannot_have_is_a_conflict(self, world: World, how: str) -> None:
        if how == "held":
            order = world.order_of("20000.00")
        else:
            order = world.order(world.rep, world.customer, ("AMT", "10"), submit=how == "cancelled")
            if how == "cancelled":
                world.crm.orders.cancel(world.rep, order.id, "changed plans")
        snapshot = world.snapshot()
        with pytest.raises(InvalidTransition):
            world.crm.erp_events.apply_order_status(SBX, report(order, E.DISPATCHED))
        assert world.snapshot() == snapshot

    def test_a_report_without_any_reference_is_invalid(self) -> None:
        with pytest.raises(ValidationFailed):
            OrderStatusReport(state=E.OPEN)


class TestCancelledInTheErp:
    def test_a_confirmed_order_is_cancelled_its_reservation_released_and_holds_reevaluated(self, world: World) -> None:
        first = world.order_of("8000.00")
        held = world.order_of("3000.00")
        world.crm.erp_events.apply_order_status(SBX, report(first, E.OPEN))
        result = world.crm.erp_events.apply_order_status(SBX, report(first, E.CANCELLED))
        assert (result.outcome, result.status, result.released) == (EventOutcome.APPLIED, S.CANCELLED, (held.id,))
        cancelled = status(world, first)
        assert cancelled.history[-1].actor_id == "system"
        assert "cancelled in the ERP" in cancelled.history[-1].note
        assert set(world.account().reservations) == {held.id}
        assert (
            world.crm.erp_events.apply_order_status(SBX, report(first, E.CANCELLED)).outcome is EventOutcome.UNCHANGED
        )

    def test_the_reps_achieved_figure_drops(self, world: World) -> None:
        order = world.order_of("700.00")
        world.crm.erp_events.apply_order_status(SBX, report(order, E.CANCELLED))
        with world.crm.ctx.uow(read_only=True) as uow:
            achieved = uow.performance.achieved("2026-11", frozenset({world.rep.id}))
        assert [(a.amount, a.orders) for a in achieved] in ([], [(0, 0)])

    def test_a_dispatched_order_cannot_be_cancelled(self, world: World) -> None:
        order = world.order_of("10.00")
        world.crm.erp_events.apply_order_status(SBX, report(order, E.DISPATCHED))
        snapshot = world.snapshot()
        with pytest.raises(InvalidTransition):
            world.crm.erp_events.apply_order_status(SBX, report(order, E.CANCELLED))
        assert world.snapshot() == snapshot


class TestEventIds:
    def test_a_replayed_event_id_is_a_duplicate_and_another_body_under_it_a_conflict(self, world: World) -> None:
        order = world.order_of("10.00")
        first = world.crm.erp_events.apply_order_status(SBX, report(order, E.OPEN), event_id="evt-1")
        assert first.outcome is EventOutcome.APPLIED
        snapshot = world.snapshot()
        again = world.crm.erp_events.apply_order_status(SBX, report(order, E.OPEN), event_id="evt-1")
        assert again.outcome is EventOutcome.DUPLICATE
        with pytest.raises(Conflict, match="evt-1"):
            world.crm.erp_events.apply_order_status(SBX, report(order, E.INVOICED), event_id="evt-1")
        with pytest.raises(Conflict):
            world.crm.erp_events.apply_balance(SBX, BalanceReport(customer_code="D-RAVI", receivables=inr(1)), "evt-1")
        assert world.snapshot() == snapshot

    def test_event_ids_are_per_erp(self, world: World) -> None:
        other = world.new_customer(world.rep)
        world.crm.customers.update(world.admin, other.id, CustomerChanges(erp_system="sap"))
        balance = BalanceReport(customer_code=other.code, receivables=inr("5.00"))
        world.crm.erp_events.apply_balance(SBX, BalanceReport(customer_code="D-RAVI", receivables=inr(5)), "e")
        assert world.crm.erp_events.apply_balance("sap", balance, "e").outcome is EventOutcome.APPLIED


class TestBalance:
    def test_receivables_and_overdue_days_are_replaced_and_an_event_published(self, world: World) -> None:
        result = world.crm.erp_events.apply_balance(
            SBX, BalanceReport(customer_code="D-RAVI", receivables=inr("2500.00"), overdue_days=12)
        )
        assert result.outcome is EventOutcome.APPLIED
        account = world.account()
        assert (account.receivables, account.overdue_days) == (250000, 12)
        assert world.events()[-1] == "customer.balance_updated"

    def test_the_same_figures_again_change_nothing(self, world: World) -> None:
        balance = BalanceReport(customer_code="D-RAVI", receivables=inr("2500.00"), overdue_days=3)
        world.crm.erp_events.apply_balance(SBX, balance)
        snapshot = world.snapshot()
        assert world.crm.erp_events.apply_balance(SBX, balance).outcome is EventOutcome.UNCHANGED
        assert world.snapshot() == snapshot

    def test_a_payment_releases_held_orders_that_fit_now(self, world: World) -> None:
        world.crm.erp_events.apply_balance(SBX, BalanceReport(customer_code="D-RAVI", receivables=inr("8000.00")))
        held = world.order_of("3000.00")
        assert held.status is S.ON_CREDIT_HOLD
        result = world.crm.erp_events.apply_balance(
            SBX, BalanceReport(customer_code="D-RAVI", receivables=inr("6000.00"))
        )
        assert result.released == (held.id,)
        assert status(world, held).status is S.SUBMITTED

    def test_overdue_past_the_block_keeps_holds_and_stops_submits(self, world: World) -> None:
        customer = world.new_customer(world.rep, "10000.00", overdue_block_days=30)
        world.crm.erp_events.apply_balance(SBX, BalanceReport(customer_code=customer.code, receivables=inr(0)))
        world.crm.erp_events.apply_balance(
            SBX, BalanceReport(customer_code=customer.code, receivables=inr("100.00"), overdue_days=45)
        )
        order = world.order_of("10.00", customer)
        assert order.status is S.ON_CREDIT_HOLD
        assert order.credit is not None and order.credit.reason is not None
        assert order.credit.reason.value == "overdue"
        result = world.crm.erp_events.apply_balance(
            SBX, BalanceReport(customer_code=customer.code, receivables=inr("0.00"), overdue_days=0)
        )
        assert result.released == (order.id,)

    def test_unknown_customer_other_erp_and_other_currency_are_refused(self, world: World) -> None:
        snapshot = world.snapshot()
        with pytest.raises(EntityNotFound):
            world.crm.erp_events.apply_balance(SBX, BalanceReport(customer_code="NOPE", receivables=inr(1)))
        with pytest.raises(EntityNotFound):
            world.crm.erp_events.apply_balance("sap", BalanceReport(customer_code="D-RAVI", receivables=inr(1)))
        with pytest.raises(ValidationFailed, match="USD"):
            world.crm.erp_events.apply_balance(
                SBX, BalanceReport(customer_code="D-RAVI", receivables=Money.of(1, "USD"))
            )
        assert world.snapshot() == snapshot

    def test_negative_overdue_days_are_invalid(self) -> None:
        with pytest.raises(ValidationFailed):
            BalanceReport(customer_code="D-RAVI", receivables=inr(1), overdue_days=-1)


class _OneOrderErp:
    """The little of an ERP gateway that `complete_reference` uses: the status of one ERP order."""

    name = "sandbox"

    def __init__(self, status: ErpOrderStatus) -> None:
        self.status = status
        self.asked: list[str] = []

    def order_status(self, erp_order_id: str) -> ErpOrderStatus:
        self.asked.append(erp_order_id)
        if erp_order_id != self.status.erp_order_id:
            raise EntityNotFound("ERP order", erp_order_id)
        return self.status


class TestCompleteReference:
    def test_an_erp_order_id_alone_is_resolved_through_the_erp(self, world: World) -> None:
        order = world.order_of("10.00")
        erp = _OneOrderErp(ErpOrderStatus(erp_order_id="SBX-9", external_ref=order.id, state=E.OPEN))
        bare = OrderStatusReport(erp_order_id="SBX-9", state=E.DISPATCHED)
        full = ErpEventService.complete_reference(erp, bare)  # type: ignore[arg-type]
        assert full.external_ref == order.id
        world.crm.erp_events.apply_order_status(SBX, full)
        assert status(world, order).status is S.DISPATCHED

    def test_a_report_with_our_reference_does_not_ask_the_erp(self, world: World) -> None:
        order = world.order_of("10.00")
        erp = _OneOrderErp(ErpOrderStatus(erp_order_id="SBX-9", external_ref=order.id, state=E.OPEN))
        given = report(order, E.OPEN)
        assert ErpEventService.complete_reference(erp, given) is given  # type: ignore[arg-type]
        assert erp.asked == []

    def test_a_report_with_nothing_to_resolve_is_invalid_for_apply(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="external_ref"):
            world.crm.erp_events.apply_order_status(SBX, OrderStatusReport(erp_order_id="SBX-1", state=E.OPEN))


class TestOlderThanApplied:
    """SPEC §5: a balance or status older than the one applied (by the ERP's own time) changes nothing, through
    every door; the library and the polling sync send no event id."""

    def test_an_older_balance_is_unchanged_without_an_event_id(self, world: World) -> None:
        now = world.clock.now()
        newer = BalanceReport(customer_code="D-RAVI", receivables=inr("100.00"), as_of=now)
        older = BalanceReport(customer_code="D-RAVI", receivables=inr("9000.00"), overdue_days=90, as_of=now - HOUR)
        assert world.crm.erp_events.apply_balance(SBX, newer).outcome is EventOutcome.APPLIED
        snapshot = world.snapshot()

        assert world.crm.erp_events.apply_balance(SBX, older).outcome is EventOutcome.UNCHANGED
        assert world.snapshot() == snapshot
        account = world.account()
        assert (account.receivables, account.overdue_days, account.balance_as_of) == (10000, 0, now)

    def test_a_balance_without_as_of_cannot_be_told_older_and_applies(self, world: World) -> None:
        now = world.clock.now()
        world.crm.erp_events.apply_balance(
            SBX, BalanceReport(customer_code="D-RAVI", receivables=inr("100.00"), as_of=now)
        )
        result = world.crm.erp_events.apply_balance(
            SBX, BalanceReport(customer_code="D-RAVI", receivables=inr("50.00"))
        )
        assert result.outcome is EventOutcome.APPLIED
        assert (world.account().receivables, world.account().balance_as_of) == (5000, now)

    def test_an_older_status_report_changes_nothing(self, world: World) -> None:
        order = world.order_of("100.00")
        now = world.clock.now()
        applied = world.crm.erp_events.apply_order_status(SBX, report(order, E.DISPATCHED, changed_at=now))
        assert applied.outcome is EventOutcome.APPLIED
        snapshot = world.snapshot()

        stale = world.crm.erp_events.apply_order_status(SBX, report(order, E.CANCELLED, changed_at=now - HOUR))
        assert stale.outcome is EventOutcome.UNCHANGED  # not even refused: it is history, not a transition
        assert world.snapshot() == snapshot
        assert status(world, order).erp_changed_at == now


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=5_000_000)),
        min_size=1,
        max_size=12,
        unique_by=lambda balance: balance[0],
    )
)
def test_whatever_the_arrival_order_the_latest_balance_wins(balances: list[tuple[int, int]]) -> None:
    """Balances with distinct ERP times, sent in any order (late, replayed without an id): the receivables end
    as the latest one's."""
    clock = FixedClock()
    world = build_world(new_crm(clock), clock)
    start = clock.now()
    for minutes, minor in balances:
        as_of = start + timedelta(minutes=minutes)
        balance = BalanceReport(customer_code="D-RAVI", receivables=Money(minor, "INR"), as_of=as_of)
        world.crm.erp_events.apply_balance(SBX, balance)
    latest_minutes, latest = max(balances)
    account = world.account()
    assert (account.receivables, account.balance_as_of) == (latest, start + timedelta(minutes=latest_minutes))
