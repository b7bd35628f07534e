"""SPEC §2.6 completed: leaderboard ranks with ties, month ranges, the six-month trend, roll-ups down the tree."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crm_domain.errors import EntityNotFound, PermissionDenied, ValidationFailed
from crm_domain.money import Money
from crm_domain.performance import PerformanceRow, last_periods, periods_between, ranked
from tests.unit.world import World, inr


def _row(name: str, achieved: int, target: int | None) -> PerformanceRow:
    money = Money(achieved, "INR")
    goal = None if target is None else Money(target, "INR")
    pct = None if goal is None else (Decimal(achieved) * 100 / Decimal(target or 1)).quantize(Decimal("0.01"))
    return PerformanceRow(
        user_id=name, name=name, period="2026-11", target=goal, achieved=money, achievement_pct=pct, orders=1
    )


class TestLeaderboardRanks:
    def test_ties_share_a_rank_and_the_next_rank_skips(self) -> None:
        rows = [
            _row("d", 50, 100),
            _row("a", 100, 100),
            _row("b", 200, 200),  # 100 % like a, but more achieved: ahead of a
            _row("c", 100, 100),  # the same as a: tied
            _row("e", 900, None),  # no target: last, however much achieved
        ]

        board = ranked(rows)

        assert [(r.name, r.rank) for r in board] == [("b", 1), ("a", 2), ("c", 2), ("d", 4), ("e", 5)]

    def test_the_service_leaderboard_is_ranked(self, world: World) -> None:
        for rep in (world.rep, world.rep2):
            world.crm.performance.set_target(world.admin, rep.id, "2026-11", inr("1000.00"))
        world.order_of("100.00")
        world.order_of("100.00", customer=world.customer2, actor=world.rep2)

        board = world.crm.performance.leaderboard(world.manager, "2026-11")

        assert {r.user_id: r.rank for r in board} == {world.rep.id: 1, world.rep2.id: 1}  # tied


class TestPeriods:
    def test_periods_between_cross_a_year(self) -> None:
        assert periods_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]

    def test_the_last_six(self) -> None:
        assert last_periods("2026-02", 6) == ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]

    @pytest.mark.parametrize(("start", "end"), [("2026-03", "2026-02"), ("2000-01", "2026-01"), ("2026-13", "2026-12")])
    def test_bad_ranges_are_refused(self, start: str, end: str) -> None:
        with pytest.raises(ValidationFailed):
            periods_between(start, end)


class TestTrendAndRange:
    def test_a_managers_trend_rolls_up_the_whole_tree_month_by_month(self, world: World) -> None:
        world.clock.set(datetime(2026, 10, 10, 6, tzinfo=UTC))
        world.order_of("100.00")
        world.clock.set(datetime(2026, 11, 10, 6, tzinfo=UTC))
        world.order_of("250.00", customer=world.customer2, actor=world.rep2)
        world.crm.performance.set_target(world.admin, world.head.id, "2026-11", inr("500.00"))

        trend = world.crm.performance.trend(world.head, "2026-11")

        assert [r.period for r in trend] == last_periods("2026-11", 6)
        assert [r.achieved for r in trend[-2:]] == [inr("100.00"), inr("250.00")]
        assert trend[-1].achievement_pct == Decimal("50.00")
        assert all(r.achieved == inr("0.00") for r in trend[:-2])

    def test_a_range_sums_achieved_and_targets(self, world: World) -> None:
        world.clock.set(datetime(2026, 10, 10, 6, tzinfo=UTC))
        world.order_of("100.00")
        world.clock.set(datetime(2026, 11, 10, 6, tzinfo=UTC))
        world.order_of("300.00")
        for period in ("2026-10", "2026-11"):
            world.crm.performance.set_target(world.admin, world.rep.id, period, inr("400.00"))

        (row,) = world.crm.performance.over_range(world.admin, "2026-10", "2026-11", world.rep.id)

        assert (row.period, row.achieved, row.target, row.achievement_pct, row.orders) == (
            "2026-10..2026-11",
            inr("400.00"),
            inr("800.00"),
            Decimal("50.00"),
            2,
        )

    def test_outside_the_tree_is_not_found_and_dealers_are_refused(self, world: World) -> None:
        with pytest.raises(EntityNotFound):
            world.crm.performance.trend(world.manager, "2026-11", user_id=world.other_rep.id)
        with pytest.raises(PermissionDenied):
            world.crm.performance.trend(world.dealer, "2026-11")
