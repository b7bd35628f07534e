"""SPEC §2.3, per-customer terms: tolerance, temporary limit and its expiry, overdue block, credit block, and
the company-wide choice of which exposure parts count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.system import FixedClock
from crm_domain.config import DomainConfig
from crm_domain.credit import CreditAccount, CreditPolicy, HoldReason
from crm_domain.credit_governance import Approval
from crm_domain.errors import CreditRaiseNeedsApproval, ValidationFailed
from crm_domain.events import CreditLimitChanged, CustomerBalanceUpdated
from crm_domain.orders import OrderStatus
from tests.unit.world import World, build_world, inr, new_crm


def hold_reason(world: World, amount: str) -> HoldReason | None:
    order = world.order_of(amount)
    assert order.credit is not None
    return order.credit.reason


class TestTolerance:
    def test_the_check_passes_up_to_limit_plus_tolerance(self, world: World) -> None:
        world.raise_credit("tolerance", tolerance_pct="10", reason="festive season")
        world.order_of("6000.00")
        assert world.order_of("5000.00").status is OrderStatus.SUBMITTED  # 11000 = 10000 × 1.10
        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.limit, position.exposure, position.available) == (
            inr("10000.00"),
            inr("11000.00"),
            inr("-1000.00"),  # available is against the limit itself
        )

    def test_one_paisa_past_the_tolerance_holds_with_that_shortfall(self, world: World) -> None:
        customer = world.new_customer(world.rep, "10000.00", tolerance_pct="2.5")
        order = world.order_of("10250.01", customer)
        assert order.status is OrderStatus.ON_CREDIT_HOLD
        assert order.credit is not None
        assert order.credit.shortfall == inr("0.01")
        assert world.order_of("10250.00", customer).status is OrderStatus.SUBMITTED

    def test_the_ceiling_rounds_half_up_to_the_paisa(self) -> None:
        account = CreditAccount(customer_id="c", currency="INR", limit=5, tolerance_pct=Decimal(10))
        assert account.ceiling(date(2026, 1, 1)) == 6  # 5.5 paise → 6

    @pytest.mark.parametrize("pct", ["-1", "100.01", "12.345", "abc"])
    def test_a_bad_tolerance_is_refused(self, world: World, pct: str) -> None:
        before = world.snapshot()
        with pytest.raises((ValidationFailed, ArithmeticError)):
            world.crm.credit.set_tolerance(world.controller, world.customer.id, pct, "x")
        assert world.snapshot() == before


class TestTemporaryLimit:
    def test_applies_through_its_valid_until_date_in_the_company_time_zone(self, world: World) -> None:
        until = date(2026, 11, 10)
        world.raise_credit("temporary_limit", new_limit="20000.00", valid_until=until, reason="Diwali")
        assert world.crm.credit.position(world.rep, world.customer.id).limit == inr("20000.00")

        world.clock.set(datetime(2026, 11, 10, 18, 29, tzinfo=UTC))  # 23:59 on the 10th in Kolkata
        assert world.order_of("15000.00").status is OrderStatus.SUBMITTED
        assert world.crm.credit.position(world.rep, world.customer.id).available == inr("5000.00")

        world.clock.set(datetime(2026, 11, 10, 18, 30, tzinfo=UTC))  # midnight: the 11th in Kolkata
        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.limit, position.base_limit, position.available) == (
            inr("10000.00"),
            inr("10000.00"),
            inr("-5000.00"),
        )
        assert world.order_of("0.01").status is OrderStatus.ON_CREDIT_HOLD

    def test_the_base_limit_applies_again_after_the_date(self, world: World) -> None:
        world.raise_credit("temporary_limit", new_limit="20000.00", valid_until=date(2026, 11, 2))
        assert world.order_of("12000.00").status is OrderStatus.SUBMITTED
        world.clock.advance(timedelta(days=1))
        held = world.order_of("1.00")
        assert held.status is OrderStatus.ON_CREDIT_HOLD
        assert held.credit is not None
        assert held.credit.available == inr("-2000.00")

    def test_tolerance_applies_on_top_of_the_temporary_limit(self, world: World) -> None:
        world.raise_credit("tolerance", tolerance_pct="10")
        world.raise_credit("temporary_limit", new_limit="20000.00", valid_until=date(2026, 12, 1))
        assert world.order_of("22000.00").status is OrderStatus.SUBMITTED
        assert world.order_of("0.01").status is OrderStatus.ON_CREDIT_HOLD

    def test_it_can_be_cleared(self, world: World) -> None:
        crm = world.crm
        world.raise_credit("temporary_limit", new_limit="20000.00", valid_until=date(2026, 12, 1))
        position = crm.credit.set_temporary_limit(world.controller, world.customer.id, None, None, "over")
        assert (position.limit, position.temporary_limit, position.temporary_limit_until) == (
            inr("10000.00"),
            None,
            None,
        )

    @pytest.mark.parametrize(("amount", "until"), [("20000.00", None), (None, date(2026, 12, 1))])
    def test_needs_both_an_amount_and_a_date(self, world: World, amount: str | None, until: date | None) -> None:
        before = world.snapshot()
        with pytest.raises(ValidationFailed):
            world.crm.credit.set_temporary_limit(
                world.controller, world.customer.id, inr(amount) if amount else None, until, "x"
            )
        assert world.snapshot() == before


class TestOverdueBlock:
    def test_receivables_overdue_longer_than_the_block_days_hold_new_orders(self, world: World) -> None:
        customer = world.new_customer(world.rep, "10000.00", overdue_block_days=30)
        world.crm.credit.update_balance(customer.id, inr("1000.00"), 30)
        assert world.order_of("100.00", customer).status is OrderStatus.SUBMITTED  # 30 days is not longer than 30

        world.crm.credit.update_balance(customer.id, inr("1000.00"), 31)
        held = world.order_of("100.00", customer)
        assert held.status is OrderStatus.ON_CREDIT_HOLD
        assert held.credit is not None
        assert held.credit.reason is HoldReason.OVERDUE
        position = world.crm.credit.position(world.rep, customer.id)
        assert (position.blocked, position.reason, position.overdue_days) == (True, "overdue", 31)

    def test_without_an_overdue_block_overdue_days_do_not_hold(self, world: World) -> None:
        world.crm.credit.update_balance(world.customer.id, inr("1000.00"), 400)
        assert world.order_of("100.00").status is OrderStatus.SUBMITTED

    def test_the_block_days_can_be_set_later(self, world: World) -> None:
        world.crm.credit.update_balance(world.customer.id, inr("0.00"), 10)
        world.crm.credit.set_overdue_block(world.controller, world.customer.id, 7, "tighter terms")
        assert hold_reason(world, "1.00") is HoldReason.OVERDUE

    def test_overdue_comes_before_the_limit(self, world: World) -> None:
        customer = world.new_customer(world.rep, "100.00", overdue_block_days=0)
        world.crm.credit.update_balance(customer.id, inr("0.00"), 1)
        order = world.order_of("500.00", customer)
        assert order.credit is not None
        assert order.credit.reason is HoldReason.OVERDUE

    def test_negative_overdue_days_are_refused(self, world: World) -> None:
        before = world.snapshot()
        with pytest.raises(ValidationFailed):
            world.crm.credit.update_balance(world.customer.id, inr("0.00"), -1)
        with pytest.raises(ValidationFailed):
            world.crm.credit.set_overdue_block(world.controller, world.customer.id, -1, "x")
        assert world.snapshot() == before


class TestBlockedCustomer:
    def test_block_holds_every_order_and_unblock_lets_them_through(self, world: World) -> None:
        position = world.crm.credit.block(world.controller, world.customer.id, "cheque bounced")
        assert (position.blocked, position.reason) == (True, "cheque bounced")
        assert hold_reason(world, "1.00") is HoldReason.CUSTOMER_BLOCKED

        with pytest.raises(CreditRaiseNeedsApproval):
            world.crm.credit.unblock(world.controller, world.customer.id, "cheque cleared")
        world.raise_credit("unblock", reason="cheque cleared")
        position = world.crm.credit.position(world.controller, world.customer.id)
        assert (position.blocked, position.reason) == (False, None)
        assert world.order_of("1.00").status is OrderStatus.SUBMITTED

    def test_blocked_comes_before_overdue_and_the_limit(self, world: World) -> None:
        customer = world.new_customer(world.rep, "100.00", overdue_block_days=0)
        world.crm.credit.update_balance(customer.id, inr("0.00"), 5)
        world.crm.credit.block(world.controller, customer.id, "legal dispute")
        order = world.order_of("500.00", customer)
        assert order.credit is not None
        assert order.credit.reason is HoldReason.CUSTOMER_BLOCKED

    def test_blocking_needs_a_reason(self, world: World) -> None:
        before = world.snapshot()
        with pytest.raises(ValidationFailed):
            world.crm.credit.block(world.controller, world.customer.id, "   ")
        assert world.snapshot() == before


class TestTermsHistory:
    def test_every_terms_change_is_kept_with_who_when_and_why(self, world: World) -> None:
        crm, c = world.crm, world.customer.id
        world.raise_credit(
            "tolerance", tolerance_pct="5", approved_by=world.controller, requested_by=world.admin, reason="good payer"
        )
        world.clock.advance(timedelta(hours=1))
        world.raise_credit("temporary_limit", new_limit="15000.00", valid_until=date(2026, 11, 30), reason="season")
        world.clock.advance(timedelta(hours=1))
        crm.credit.block(world.controller, c, "cheque bounced")
        world.raise_credit("unblock", approved_by=world.controller, requested_by=world.admin, reason="cleared")
        world.raise_credit("limit", new_limit="12000.00", approved_by=world.admin, reason="annual review")

        history = [(h.kind, h.old, h.new, h.changed_by, h.reason) for h in crm.credit.limit_history(world.rep, c)]
        assert history == [
            ("tolerance", "0", "5", world.controller.id, "good payer"),
            ("temporary_limit", None, "15000.00 until 2026-11-30", world.controller2.id, "season"),
            ("block", None, "cheque bounced", world.controller.id, "cheque bounced"),
            ("unblock", "cheque bounced", None, world.controller.id, "cleared"),
            ("limit", "10000.00", "12000.00", world.admin.id, "annual review"),
        ]
        times = [h.at for h in crm.credit.limit_history(world.rep, c)]
        start = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
        assert times == [start, start + timedelta(hours=1)] + [start + timedelta(hours=2)] * 3


def policy_world(**policy: bool) -> World:
    clock = FixedClock()
    crm = new_crm(clock, DomainConfig(credit_policy=CreditPolicy(**policy)))
    return build_world(crm, clock)


class TestExposurePolicy:
    def test_everything_counts_by_default(self) -> None:
        assert CreditPolicy() == CreditPolicy(count_receivables=True, count_open_orders=True, count_dispatched=True)
        assert DomainConfig().credit_policy == CreditPolicy()

    def test_receivables_can_be_left_out(self) -> None:
        world = policy_world(count_receivables=False)
        world.crm.credit.update_balance(world.customer.id, inr("9000.00"), 0)
        assert world.order_of("10000.00").status is OrderStatus.SUBMITTED
        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.receivables, position.exposure) == (inr("9000.00"), inr("10000.00"))

    def test_open_orders_can_be_left_out(self) -> None:
        world = policy_world(count_open_orders=False)
        world.crm.credit.update_balance(world.customer.id, inr("2000.00"), 0)
        assert world.order_of("8000.00").status is OrderStatus.SUBMITTED
        assert world.order_of("8000.00").status is OrderStatus.SUBMITTED  # the first no longer counts
        assert world.order_of("8000.01").status is OrderStatus.ON_CREDIT_HOLD  # receivables still do
        assert world.exposure() == inr("2000.00")

    def test_dispatched_not_invoiced_can_be_left_out(self) -> None:
        world = policy_world(count_dispatched=False)
        order = world.order_of("9000.00")
        held = world.order_of("1000.01")
        assert held.status is OrderStatus.ON_CREDIT_HOLD  # open orders count
        world.erp_reports(order, OrderStatus.DISPATCHED)

        # the dispatched 9000 no longer counts, so the held order fits and is released at once
        assert world.crm.orders.get(world.rep, held.id).status is OrderStatus.SUBMITTED
        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.open_orders, position.dispatched, position.exposure) == (
            inr("1000.01"),
            inr("9000.00"),
            inr("1000.01"),
        )
        assert world.order_of("8999.99").status is OrderStatus.SUBMITTED

    def test_with_everything_counted_dispatched_orders_still_count(self, world: World) -> None:
        order = world.order_of("9000.00")
        world.erp_reports(order, OrderStatus.DISPATCHED)
        assert world.exposure() == inr("9000.00")
        assert world.order_of("1000.01").status is OrderStatus.ON_CREDIT_HOLD


class TestTheAccountRecordsItsChanges:
    """The account records what changes its terms or balance (`pull_events`); its unit of work writes them."""

    AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def account(self) -> CreditAccount:
        return CreditAccount(customer_id="c-1", currency="INR", limit=10_000_00)

    def test_each_terms_change_records_what_it_was_and_became(self) -> None:
        account = self.account()
        by, why, at = "u-controller", "review", self.AT
        ok = Approval(request_id="r-1", requested_by="u-manager", approved_by=by)
        account.set_limit(inr("20000.00"), by=by, reason=why, at=at, approval=ok)
        account.set_temporary_limit(inr("30000.00"), date(2026, 12, 1), by=by, reason=why, at=at, approval=ok)
        account.set_tolerance("2.5", by=by, reason=why, at=at, approval=ok)
        account.set_overdue_block(30, by=by, reason=why, at=at)
        account.block("cheque bounced", by=by, at=at)
        account.unblock(by=by, reason=why, at=at, approval=ok)

        events = account.pull_events()

        assert [(e.kind, e.old, e.new) for e in events if isinstance(e, CreditLimitChanged)] == [
            ("limit", "10000.00", "20000.00"),
            ("temporary_limit", None, "30000.00 until 2026-12-01"),
            ("tolerance", "0", "2.5"),
            ("overdue_block_days", None, "30"),
            ("block", None, "cheque bounced"),
            ("unblock", "cheque bounced", None),
        ]
        assert {(e.customer_id, e.changed_by, e.occurred_at) for e in events if isinstance(e, CreditLimitChanged)} == {
            ("c-1", by, at)
        }
        assert [e.reason for e in events if isinstance(e, CreditLimitChanged)] == [why] * 4 + ["cheque bounced", why]
        assert account.updated_at == at
        assert account.pull_events() == []  # pulled once

    def test_a_balance_update_records_the_new_figures(self) -> None:
        account = self.account()
        account.update_balance(inr("2500.00"), 12, self.AT)

        assert account.pull_events() == [
            CustomerBalanceUpdated(occurred_at=self.AT, customer_id="c-1", receivables=inr("2500.00"), overdue_days=12)
        ]
        assert (account.receivables, account.overdue_days, account.updated_at) == (2500_00, 12, self.AT)

    def test_a_refused_change_records_nothing(self) -> None:
        account = self.account()
        with pytest.raises(ValidationFailed):
            account.set_overdue_block(-1, by="u", reason="r", at=self.AT)
        with pytest.raises(ValidationFailed):
            account.block(" ", by="u", at=self.AT)
        with pytest.raises(ValidationFailed):
            account.update_balance(inr("1.00"), -2, self.AT)
        assert account.pull_events() == []
        assert account.overdue_block_days is None

    def test_the_service_builds_no_event_of_its_own(self, world: World) -> None:
        before = len(world.outbox())
        world.crm.credit.set_overdue_block(world.controller, world.customer.id, 45, "policy")

        fresh = sorted(world.outbox(), key=lambda m: m.id)[before:]
        assert [(m.event, m.payload["kind"], m.payload["new"]) for m in fresh] == [
            ("credit_limit.changed", "overdue_block_days", "45")
        ]
