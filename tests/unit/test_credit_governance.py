"""SPEC §2.3 credit governance, per kind of credit-term change request: asked with a reason, applied only when a
second person approves, refused when the asker approves, bounded; lowering applies at once; a direct raise is
refused and changes nothing (decision 0011)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.system import FixedClock
from crm_domain.config import DomainConfig
from crm_domain.credit import CreditAccount
from crm_domain.credit_governance import Approval, CreditBounds, LimitRequestStatus, TermKind
from crm_domain.errors import CreditRaiseNeedsApproval, FourEyesViolation, ValidationFailed
from crm_domain.orders import OrderStatus
from crm_domain.services.credit import CreditPosition, TermRequest
from tests.unit.world import FAR_FUTURE, World, build_world, inr, new_crm

TODAY = date(2026, 11, 2)  # the world's clock: 2026-11-02 15:00 in Kolkata


def terms(world: World) -> tuple[object, ...]:
    p = world.crm.credit.position(world.admin, world.customer.id)
    return (p.base_limit, p.temporary_limit, p.temporary_limit_until, p.tolerance_pct, p.blocked, p.overdue_block_days)


#: kind -> (payload, how the position shows it applied). The customer starts at limit 10000, no temporary limit,
#: tolerance 0, overdue block 30 days, blocked (so that unblocking raises).
KINDS: dict[str, tuple[dict[str, Any], Callable[[CreditPosition], bool]]] = {
    "limit": ({"new_limit": inr("25000.00")}, lambda p: p.base_limit == inr("25000.00")),
    "temporary_limit": (
        {"new_limit": inr("30000.00"), "valid_until": TODAY + timedelta(days=30)},
        lambda p: p.temporary_limit == inr("30000.00") and p.temporary_limit_until == TODAY + timedelta(days=30),
    ),
    "tolerance": ({"tolerance_pct": Decimal("12.5")}, lambda p: p.tolerance_pct == "12.5"),
    "unblock": ({}, lambda p: not p.blocked),
    "policy": ({"overdue_block_days": None}, lambda p: p.overdue_block_days is None),
}


@pytest.fixture
def governed(world: World) -> World:
    world.crm.credit.set_overdue_block(world.controller, world.customer.id, 30, "terms")
    world.crm.credit.block(world.controller, world.customer.id, "cheque bounced")
    return world


def ask(world: World, kind: str, by: Any = None) -> Any:
    payload, _ = KINDS[kind]
    change = TermRequest(kind=TermKind(kind), **payload)
    return world.crm.credit.request_term_change(by or world.manager, world.customer.id, change, "season")


class TestEveryKind:
    @pytest.mark.parametrize("kind", sorted(KINDS))
    def test_a_request_changes_nothing_until_another_person_approves_it(self, governed: World, kind: str) -> None:
        before = terms(governed)
        request = ask(governed, kind)
        assert (request.kind, request.status, request.requested_by) == (
            TermKind(kind),
            LimitRequestStatus.PENDING,
            governed.manager.id,
        )
        assert terms(governed) == before

        governed.crm.credit.approve_request(governed.controller, request.id)

        _, applied = KINDS[kind]
        assert applied(governed.crm.credit.position(governed.admin, governed.customer.id))
        change = governed.crm.credit.limit_history(governed.admin, governed.customer.id)[-1]
        assert (change.changed_by, change.request_id, change.reason) == (governed.controller.id, request.id, "season")

    @pytest.mark.parametrize("kind", sorted(KINDS))
    def test_the_asker_cannot_approve_their_own_request(self, governed: World, kind: str) -> None:
        request = ask(governed, kind, by=governed.controller)
        before = governed.snapshot()
        with pytest.raises(FourEyesViolation):
            governed.crm.credit.approve_request(governed.controller, request.id)
        assert governed.snapshot() == before

    @pytest.mark.parametrize("kind", sorted(KINDS))
    def test_a_rejected_request_changes_nothing(self, governed: World, kind: str) -> None:
        before = terms(governed)
        request = ask(governed, kind)
        assert governed.crm.credit.reject_request(governed.controller, request.id).status is LimitRequestStatus.REJECTED
        assert terms(governed) == before

    @pytest.mark.parametrize(
        ("kind", "payload", "field"),
        [
            ("limit", {}, "new_limit"),
            ("limit", {"new_limit": inr("1.00"), "tolerance_pct": Decimal(5)}, "tolerance_pct"),
            ("temporary_limit", {"new_limit": inr("1.00")}, "valid_until"),
            ("tolerance", {}, "tolerance_pct"),
            ("unblock", {"new_limit": inr("1.00")}, "new_limit"),
            ("policy", {"overdue_block_days": -1}, "overdue_block_days"),
        ],
    )
    def test_a_request_without_its_payload_or_with_another_kinds_is_refused(
        self, world: World, kind: str, payload: dict[str, Any], field: str
    ) -> None:
        before = world.snapshot()
        with pytest.raises(ValidationFailed) as refused:
            world.crm.credit.request_term_change(
                world.manager, world.customer.id, TermRequest(kind=TermKind(kind), **payload), "x"
            )
        assert refused.value.field == field
        assert world.snapshot() == before


class TestBounds:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            (
                TermRequest(kind=TermKind.TEMPORARY_LIMIT, new_limit=inr("1.00"), valid_until=TODAY + timedelta(91)),
                "valid_until",
            ),
            (
                TermRequest(kind=TermKind.TEMPORARY_LIMIT, new_limit=inr("1.00"), valid_until=TODAY - timedelta(1)),
                "valid_until",
            ),
            (TermRequest(kind=TermKind.TOLERANCE, tolerance_pct=Decimal("20.01")), "tolerance_pct"),
        ],
    )
    def test_beyond_the_default_bounds_is_refused(self, world: World, change: TermRequest, field: str) -> None:
        with pytest.raises(ValidationFailed) as refused:
            world.crm.credit.request_term_change(world.manager, world.customer.id, change, "x")
        assert refused.value.field == field

    def test_up_to_the_bounds_is_asked_for(self, world: World) -> None:
        until = TODAY + timedelta(days=90)
        world.raise_credit("temporary_limit", new_limit="20000.00", valid_until=until)
        world.raise_credit("tolerance", tolerance_pct="20")
        position = world.crm.credit.position(world.admin, world.customer.id)
        assert (position.temporary_limit_until, position.tolerance_pct) == (until, "20")

    def test_the_bounds_are_settings(self) -> None:
        world = world_with(CreditBounds(max_temp_limit_days=7, max_tolerance_pct=Decimal(5)))
        with pytest.raises(ValidationFailed):
            world.raise_credit("temporary_limit", new_limit="20000.00", valid_until=TODAY + timedelta(days=8))
        with pytest.raises(ValidationFailed):
            world.raise_credit("tolerance", tolerance_pct="5.01")
        world.raise_credit("temporary_limit", new_limit="20000.00", valid_until=TODAY + timedelta(days=7))

    def test_a_request_that_outlived_its_bounds_is_not_approved(self, world: World) -> None:
        change = TermRequest(kind=TermKind.TEMPORARY_LIMIT, new_limit=inr("20000.00"), valid_until=TODAY)
        request = world.crm.credit.request_term_change(world.manager, world.customer.id, change, "today only")
        world.clock.advance(timedelta(days=1))
        with pytest.raises(ValidationFailed):
            world.crm.credit.approve_request(world.controller, request.id)
        assert world.crm.credit.get_request(world.admin, request.id).status is LimitRequestStatus.PENDING


def world_with(bounds: CreditBounds) -> World:
    clock = FixedClock()
    return build_world(new_crm(clock, DomainConfig(credit_bounds=bounds)), clock)


#: Each direct change that raises, on the `governed` customer.
DIRECT_RAISES: dict[str, Callable[[World], object]] = {
    "limit up": lambda w: w.crm.credit.set_limit(w.admin, w.customer.id, inr("10000.01"), "x"),
    "a new temporary limit over the base": lambda w: w.crm.credit.set_temporary_limit(
        w.controller, w.customer.id, inr("10000.01"), TODAY, "x"
    ),
    "tolerance up": lambda w: w.crm.credit.set_tolerance(w.controller, w.customer.id, "0.01", "x"),
    "unblock": lambda w: w.crm.credit.unblock(w.controller, w.customer.id, "x"),
    "overdue block longer": lambda w: w.crm.credit.set_overdue_block(w.controller, w.customer.id, 31, "x"),
    "overdue block removed": lambda w: w.crm.credit.set_overdue_block(w.controller, w.customer.id, None, "x"),
}

#: Each direct change that lowers, on the `governed` customer: applied at once.
DIRECT_LOWERINGS: dict[str, Callable[[World], object]] = {
    "limit down": lambda w: w.crm.credit.set_limit(w.admin, w.customer.id, inr("9999.99"), "x"),
    "a temporary limit under the base": lambda w: w.crm.credit.set_temporary_limit(
        w.controller, w.customer.id, inr("5000.00"), TODAY + timedelta(days=400), "x"
    ),
    "tolerance unchanged": lambda w: w.crm.credit.set_tolerance(w.controller, w.customer.id, "0", "x"),
    "block again": lambda w: w.crm.credit.block(w.controller, w.customer.id, "still"),
    "overdue block shorter": lambda w: w.crm.credit.set_overdue_block(w.controller, w.customer.id, 10, "x"),
}


class TestDirectChanges:
    @pytest.mark.parametrize("how", sorted(DIRECT_RAISES))
    def test_a_direct_raise_is_refused_naming_the_request(self, governed: World, how: str) -> None:
        before = governed.snapshot()
        with pytest.raises(CreditRaiseNeedsApproval) as refused:
            DIRECT_RAISES[how](governed)
        assert f"/customers/{governed.customer.id}/credit-limit-requests" in str(refused.value)
        assert governed.snapshot() == before

    @pytest.mark.parametrize("how", sorted(DIRECT_LOWERINGS))
    def test_a_direct_lowering_applies_at_once(self, governed: World, how: str) -> None:
        history = len(governed.crm.credit.limit_history(governed.admin, governed.customer.id))
        DIRECT_LOWERINGS[how](governed)
        assert len(governed.crm.credit.limit_history(governed.admin, governed.customer.id)) == history + 1

    def test_ending_a_temporary_limit_over_the_base_early_applies_at_once(self, world: World) -> None:
        world.raise_credit("temporary_limit", new_limit="20000.00", valid_until=TODAY + timedelta(days=10))
        position = world.crm.credit.set_temporary_limit(world.controller, world.customer.id, None, None, "over")
        assert position.limit == inr("10000.00")

    def test_ending_a_temporary_limit_under_the_base_early_is_a_raise(self, world: World) -> None:
        world.crm.credit.set_temporary_limit(world.controller, world.customer.id, inr("5000.00"), TODAY, "trial")
        with pytest.raises(CreditRaiseNeedsApproval):
            world.crm.credit.set_temporary_limit(world.controller, world.customer.id, None, None, "over")
        world.raise_credit("temporary_limit", reason="trial over")
        assert world.crm.credit.position(world.admin, world.customer.id).limit == inr("10000.00")

    def test_a_longer_temporary_limit_is_a_raise_a_shorter_one_is_not(self, world: World) -> None:
        world.raise_credit("temporary_limit", new_limit="20000.00", valid_until=TODAY + timedelta(days=10))
        with pytest.raises(CreditRaiseNeedsApproval):
            world.crm.credit.set_temporary_limit(
                world.controller, world.customer.id, inr("20000.00"), TODAY + timedelta(days=11), "x"
            )
        world.crm.credit.set_temporary_limit(
            world.controller, world.customer.id, inr("15000.00"), TODAY + timedelta(days=5), "x"
        )


class TestTheAccountNeedsAnApproval:
    def test_an_approval_by_the_asker_cannot_be_made(self) -> None:
        with pytest.raises(FourEyesViolation):
            Approval(request_id="r", requested_by="u-1", approved_by="u-1")

    def test_with_an_approval_the_account_raises(self) -> None:
        account = CreditAccount(customer_id="c", currency="INR", limit=100)
        ok = Approval(request_id="r", requested_by="u-1", approved_by="u-2")
        account.set_limit(inr("2.00"), by="u-2", reason="x", at=FAR_FUTURE, approval=ok)
        assert account.limit == 200


class TestHeldOrdersOfTheRaisers:
    def test_the_approvers_own_order_waits_for_a_person_and_others_are_released_on_their_behalf(
        self, world: World
    ) -> None:
        mine = world.order_of("11000.00", actor=world.admin)
        theirs = world.order_of("11000.00")
        world.raise_credit("limit", new_limit="30000.00", requested_by=world.manager, approved_by=world.admin)
        assert world.crm.orders.get(world.admin, mine.id).status is OrderStatus.ON_CREDIT_HOLD
        released = world.crm.orders.get(world.admin, theirs.id)
        assert (released.status, released.history[-1].actor_id) == (OrderStatus.SUBMITTED, world.admin.id)
        held = world.crm.orders.get(world.admin, mine.id)
        assert held.credit is not None and held.credit.needs_person
        world.crm.credit.update_balance(world.customer.id, inr("-5000.00"), 0)  # a payment: still waits
        assert world.crm.orders.get(world.admin, mine.id).status is OrderStatus.ON_CREDIT_HOLD
