"""SPEC §2.6: targets per user and month; achieved = the rep's orders that entered `submitted` in the month (in
the company time zone) and are not cancelled or rejected; achievement %; manager roll-ups; the leaderboard."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crm_domain.errors import EntityNotFound, PermissionDenied, ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import OrderStatus
from crm_domain.performance import PerformanceRow
from crm_domain.services.customers import CustomerChanges
from crm_domain.users import Actor, Role
from tests.unit.world import World, inr

NOV = "2026-11"


def row(world: World, user: Actor, period: str = NOV, actor: Actor | None = None) -> PerformanceRow:
    (found,) = world.crm.performance.figures(actor or world.admin, period, user.id)
    return found


def achieved(world: World, user: Actor, period: str = NOV) -> Money:
    return row(world, user, period).achieved


class TestTargets:
    def test_a_manager_sets_targets_for_their_team(self, world: World) -> None:
        target = world.crm.performance.set_target(world.manager, world.rep.id, NOV, inr("100000.00"))
        assert (target.user_id, target.period, target.amount, target.set_by) == (
            world.rep.id,
            NOV,
            inr("100000.00"),
            world.manager.id,
        )
        world.crm.performance.set_target(world.manager, world.rep.id, NOV, inr("120000.00"))  # replaces
        assert [t.amount for t in world.crm.performance.targets(world.rep, NOV)] == [inr("120000.00")]

    def test_a_user_outside_the_team_is_not_found(self, world: World) -> None:
        with pytest.raises(EntityNotFound):
            world.crm.performance.set_target(world.manager, world.other_rep.id, NOV, inr("1.00"))
        assert world.crm.performance.targets(world.admin, NOV) == []

    def test_reps_cannot_set_targets(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            world.crm.performance.set_target(world.rep, world.rep.id, NOV, inr("1.00"))

    @pytest.mark.parametrize(
        ("period", "amount"),
        [("2026-13", "1.00"), ("2026-1", "1.00"), ("11-2026", "1.00"), (NOV, "-1.00")],
    )
    def test_bad_periods_and_amounts_are_refused(self, world: World, period: str, amount: str) -> None:
        with pytest.raises(ValidationFailed):
            world.crm.performance.set_target(world.admin, world.rep.id, period, inr(amount))
        assert world.crm.performance.targets(world.admin, NOV) == []

    def test_targets_are_in_the_company_currency(self, world: World) -> None:
        with pytest.raises(ValidationFailed):
            world.crm.performance.set_target(world.admin, world.rep.id, NOV, Money.of("1.00", "USD"))


class TestAchieved:
    @pytest.mark.parametrize(
        "steps",
        [
            [],
            ["confirm"],
            ["confirm", "dispatch"],
            ["confirm", "dispatch", "invoice"],
            ["confirm", "dispatch", "invoice", "deliver"],
        ],
    )
    def test_submitted_and_later_states_count(self, world: World, steps: list[str]) -> None:
        order = world.order_of("4000.00")
        for step in steps:
            target = {"confirm": "confirmed", "dispatch": "dispatched", "invoice": "invoiced", "deliver": "delivered"}
            world.erp_reports(order, OrderStatus(target[step]))
        found = row(world, world.rep)
        assert (found.achieved, found.orders) == (inr("4000.00"), 1)

    def test_drafts_holds_cancelled_and_rejected_orders_do_not_count(self, world: World) -> None:
        world.order(world.rep, world.customer, ("AMT", "100"), submit=False)  # draft
        world.order_of("20000.00")  # on hold
        rejected = world.order_of("30000.00")
        world.crm.orders.reject(world.controller, rejected.id, "no")
        cancelled = world.order_of("1000.00")
        world.crm.orders.cancel(world.rep, cancelled.id, "dup")
        counted = world.order_of("2000.00")

        found = row(world, world.rep)
        assert (found.achieved, found.orders) == (inr("2000.00"), 1)
        world.crm.orders.cancel(world.rep, counted.id, "also dup")
        assert (row(world, world.rep).achieved, row(world, world.rep).orders) == (inr("0.00"), 0)

    def test_orders_count_for_the_customers_rep_whoever_placed_them(self, world: World) -> None:
        world.order_of("1000.00", actor=world.agent)
        world.order_of("2000.00", actor=world.dealer)
        world.order_of("500.00", world.customer2, world.agent)
        assert achieved(world, world.rep) == inr("3000.00")
        assert achieved(world, world.rep2) == inr("500.00")
        assert achieved(world, world.agent) == inr("0.00")

    def test_the_month_is_the_company_time_zones(self, world: World) -> None:
        world.clock.set(datetime(2026, 10, 31, 18, 29, tzinfo=UTC))  # 23:59 on 31 October in Kolkata
        world.order_of("100.00")
        world.clock.set(datetime(2026, 10, 31, 20, 0, tzinfo=UTC))  # 01:30 on 1 November in Kolkata
        world.order_of("200.00")
        assert achieved(world, world.rep, "2026-10") == inr("100.00")
        assert achieved(world, world.rep, "2026-11") == inr("200.00")

    def test_a_released_order_counts_in_the_month_it_was_released(self, world: World) -> None:
        world.clock.set(datetime(2026, 10, 31, 12, 0, tzinfo=UTC))
        held = world.order_of("20000.00")
        world.clock.set(datetime(2026, 11, 1, 5, 0, tzinfo=UTC))
        world.crm.orders.release(world.controller, held.id, "ok")
        assert achieved(world, world.rep, "2026-10") == inr("0.00")
        assert achieved(world, world.rep, "2026-11") == inr("20000.00")

    def test_a_later_cancel_comes_off_the_month_of_submission(self, world: World) -> None:
        world.clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
        order = world.order_of("700.00")
        world.clock.set(datetime(2026, 11, 3, 12, 0, tzinfo=UTC))
        world.crm.orders.cancel(world.rep, order.id, "late")
        assert achieved(world, world.rep, "2026-10") == inr("0.00")
        assert achieved(world, world.rep, "2026-11") == inr("0.00")

    def test_the_rep_is_the_one_assigned_at_submit(self, world: World) -> None:
        world.order_of("100.00")
        world.crm.customers.update(world.admin, world.customer.id, CustomerChanges(assigned_rep_id=world.rep2.id))
        world.order_of("200.00", actor=world.admin)
        assert (achieved(world, world.rep), achieved(world, world.rep2)) == (inr("100.00"), inr("200.00"))


class TestAchievementPct:
    @pytest.mark.parametrize(
        ("target", "done", "pct"),
        [
            ("10000.00", "5000.00", Decimal("50.00")),
            ("3.00", "1.00", Decimal("33.33")),
            ("3.00", "2.00", Decimal("66.67")),  # half-up
            ("1000.00", "1500.00", Decimal("150.00")),
            ("8000.00", "0.01", Decimal("0.00")),
        ],
    )
    def test_achieved_over_target_times_100_to_two_places(
        self, world: World, target: str, done: str, pct: Decimal
    ) -> None:
        world.crm.performance.set_target(world.manager, world.rep.id, NOV, inr(target))
        world.order_of(done)
        found = row(world, world.rep)
        assert (found.target, found.achievement_pct) == (inr(target), pct)

    def test_no_target_means_no_percentage(self, world: World) -> None:
        world.order_of("100.00")
        found = row(world, world.rep)
        assert (found.target, found.achieved, found.achievement_pct) == (None, inr("100.00"), None)

    def test_a_target_of_another_month_does_not_apply(self, world: World) -> None:
        world.crm.performance.set_target(world.manager, world.rep.id, "2026-10", inr("100.00"))
        world.order_of("100.00")
        assert row(world, world.rep).achievement_pct is None


class TestManagerRollUp:
    def test_a_manager_rolls_up_every_rep_under_them(self, world: World) -> None:
        lead = world.user(Role.SALES_MANAGER, name="Tara Teamlead", manager=world.manager)
        deep = world.user(Role.SALES_REP, name="Dinesh Deep", manager=lead)
        deep_customer = world.new_customer(deep, "50000.00")
        world.order_of("1000.00")
        world.order_of("2000.00", world.customer2, world.rep2)
        world.order_of("4000.00", deep_customer, deep)
        world.order_of("8000.00", world.outsider, world.other_rep)

        head, manager, team_lead = row(world, world.head), row(world, world.manager), row(world, lead)
        assert (head.achieved, head.orders, head.team_size) == (inr("7000.00"), 3, 5)
        assert (manager.achieved, manager.orders) == (inr("7000.00"), 3)
        assert (team_lead.achieved, team_lead.orders) == (inr("4000.00"), 1)
        assert row(world, world.other_manager).achieved == inr("8000.00")

    def test_a_managers_target_is_their_own_or_else_their_teams(self, world: World) -> None:
        world.crm.performance.set_target(world.manager, world.rep.id, NOV, inr("6000.00"))
        world.crm.performance.set_target(world.manager, world.rep2.id, NOV, inr("4000.00"))
        world.order_of("5000.00")
        assert (row(world, world.manager).target, row(world, world.manager).achievement_pct) == (
            inr("10000.00"),
            Decimal("50.00"),
        )
        world.crm.performance.set_target(world.head, world.manager.id, NOV, inr("20000.00"))
        assert (row(world, world.manager).target, row(world, world.manager).achievement_pct) == (
            inr("20000.00"),
            Decimal("25.00"),
        )

    def test_each_sees_their_own_scope(self, world: World) -> None:
        world.order_of("1000.00")
        assert [r.user_id for r in world.crm.performance.figures(world.rep, NOV)] == [world.rep.id]
        by_manager = {r.user_id for r in world.crm.performance.figures(world.manager, NOV)}
        assert by_manager == {world.manager.id, world.rep.id, world.rep2.id}
        with pytest.raises(EntityNotFound):
            world.crm.performance.figures(world.rep, NOV, world.rep2.id)
        with pytest.raises(EntityNotFound):
            world.crm.performance.figures(world.manager, NOV, world.other_rep.id)


class TestLeaderboard:
    def test_ranks_by_percentage_then_achieved_with_no_target_last(self, world: World) -> None:
        lead = world.user(Role.SALES_REP, name="Zoya Zeal", manager=world.manager)
        zoya_customer = world.new_customer(lead, "50000.00")
        set_target = world.crm.performance.set_target
        set_target(world.manager, world.rep.id, NOV, inr("10000.00"))
        set_target(world.manager, world.rep2.id, NOV, inr("2000.00"))
        set_target(world.manager, lead.id, NOV, inr("1000.00"))
        world.order_of("5000.00")  # Ravi: 50 %, 5000
        world.order_of("1000.00", world.customer2, world.rep2)  # Rekha: 50 %, 1000
        world.order_of("800.00", zoya_customer, lead)  # Zoya: 80 %
        world.order_of("9000.00", world.outsider, world.other_rep)  # Omar: no target

        board = world.crm.performance.leaderboard(world.admin, NOV)
        assert [(r.name, r.achievement_pct) for r in board] == [
            ("Zoya Zeal", Decimal("80.00")),
            ("Ravi Rep", Decimal("50.00")),
            ("Rekha Rep", Decimal("50.00")),
            ("Omar Rep", None),
        ]
        assert [r.name for r in world.crm.performance.leaderboard(world.manager, NOV)] == [
            "Zoya Zeal",
            "Ravi Rep",
            "Rekha Rep",
        ]

    def test_only_reps_are_ranked(self, world: World) -> None:
        board = world.crm.performance.leaderboard(world.admin, NOV)
        assert {r.user_id for r in board} == {world.rep.id, world.rep2.id, world.other_rep.id}
