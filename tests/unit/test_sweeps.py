"""The worker's housekeeping: held orders are released when a (lower) temporary limit lapses and the base limit
fits them again (no event announces a date passing); expired idempotency records are purged."""

from __future__ import annotations

from datetime import date, timedelta

from crm_domain.orders import OrderStatus
from crm_domain.services.sweeps import run_sweeps
from tests.unit.world import World, inr


class TestSweeps:
    def test_a_lapsed_temporary_limit_releases_the_holds_the_base_limit_fits(self, world: World) -> None:
        world.crm.credit.set_temporary_limit(
            world.controller, world.customer.id, inr("1000.00"), date(2026, 11, 5), "dealer under review this week"
        )
        held = world.order_of("5000.00")
        assert held.status is OrderStatus.ON_CREDIT_HOLD
        assert run_sweeps(world.crm.ctx).holds_released == 0  # still valid: nothing changes

        world.clock.advance(timedelta(days=4))
        report = run_sweeps(world.crm.ctx)

        assert report.holds_released == 1
        assert world.crm.orders.get(world.admin, held.id).status is OrderStatus.SUBMITTED
        assert run_sweeps(world.crm.ctx).holds_released == 0

    def test_expired_idempotency_records_are_purged(self, world: World) -> None:
        world.order(world.rep, world.customer, ("PUMP", "1"), key="k-1")
        assert run_sweeps(world.crm.ctx).idempotency_purged == 0

        world.clock.advance(world.crm.ctx.config.idempotency_ttl + timedelta(seconds=1))

        assert run_sweeps(world.crm.ctx).idempotency_purged == 1
