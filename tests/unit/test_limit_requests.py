"""SPEC §2.3: credit-limit change requests — asked with a reason, decided by a credit controller who did not
ask, every change kept in the limit history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_domain.credit_governance import LimitRequestStatus
from crm_domain.errors import (
    Conflict,
    EntityNotFound,
    FourEyesViolation,
    PermissionDenied,
    ValidationFailed,
)
from crm_domain.orders import OrderStatus
from crm_domain.records import PageRequest
from tests.unit.world import World, inr

PENDING, APPROVED, REJECTED = LimitRequestStatus.PENDING, LimitRequestStatus.APPROVED, LimitRequestStatus.REJECTED


def limit(world: World) -> str:
    return world.crm.credit.position(world.admin, world.customer.id).base_limit.decimal_string()


class TestRequestLimitChange:
    def test_a_request_is_pending_and_changes_no_limit(self, world: World) -> None:
        request = world.crm.credit.request_limit_change(
            world.manager, world.customer.id, inr("25000.00"), "new showroom"
        )
        assert (request.status, request.current_limit, request.new_limit, request.reason) == (
            PENDING,
            inr("10000.00"),
            inr("25000.00"),
            "new showroom",
        )
        assert (request.requested_by, request.requested_at) == (world.manager.id, world.clock.now())
        assert limit(world) == "10000.00"
        assert world.crm.credit.get_request(world.controller, request.id) == request

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_a_request_needs_a_reason(self, world: World, reason: str) -> None:
        before = world.snapshot()
        with pytest.raises(ValidationFailed) as raised:
            world.crm.credit.request_limit_change(world.manager, world.customer.id, inr("25000.00"), reason)
        assert raised.value.field == "reason"
        assert world.snapshot() == before

    def test_a_negative_limit_cannot_be_requested(self, world: World) -> None:
        before = world.snapshot()
        with pytest.raises(ValidationFailed):
            world.crm.credit.request_limit_change(world.manager, world.customer.id, inr("-1.00"), "x")
        assert world.snapshot() == before

    def test_reps_and_dealers_cannot_request(self, world: World) -> None:
        for actor in (world.rep, world.dealer):
            with pytest.raises(PermissionDenied):
                world.crm.credit.request_limit_change(actor, world.customer.id, inr("1.00"), "x")


class TestDecideLimitRequest:
    def test_approval_changes_the_limit_and_keeps_the_history(self, world: World) -> None:
        request = world.crm.credit.request_limit_change(
            world.manager, world.customer.id, inr("25000.00"), "new showroom"
        )
        world.clock.advance(timedelta(hours=4))

        decided = world.crm.credit.approve_request(world.controller, request.id, "checked the balance sheet")

        assert (decided.status, decided.decided_by, decided.decided_at, decided.decision_note) == (
            APPROVED,
            world.controller.id,
            world.clock.now(),
            "checked the balance sheet",
        )
        assert limit(world) == "25000.00"
        (change,) = world.crm.credit.limit_history(world.rep, world.customer.id)
        assert (
            change.kind,
            change.old,
            change.new,
            change.changed_by,
            change.at,
            change.reason,
            change.request_id,
        ) == (
            "limit",
            "10000.00",
            "25000.00",
            world.controller.id,
            world.clock.now(),
            "new showroom",
            request.id,
        )

    def test_rejection_leaves_the_limit(self, world: World) -> None:
        request = world.crm.credit.request_limit_change(world.manager, world.customer.id, inr("25000.00"), "x")
        decided = world.crm.credit.reject_request(world.controller, request.id, "pays late")
        assert (decided.status, decided.decided_by, decided.decision_note) == (
            REJECTED,
            world.controller.id,
            "pays late",
        )
        assert limit(world) == "10000.00"
        assert world.crm.credit.limit_history(world.rep, world.customer.id) == []

    @pytest.mark.parametrize("decision", ["approve_request", "reject_request"])
    def test_the_requester_cannot_decide_their_own_request(self, world: World, decision: str) -> None:
        request = world.crm.credit.request_limit_change(world.controller, world.customer.id, inr("25000.00"), "x")
        before = world.snapshot()
        with pytest.raises(FourEyesViolation) as raised:
            getattr(world.crm.credit, decision)(world.controller, request.id)
        assert raised.value.actor_id == world.controller.id
        assert world.snapshot() == before
        assert limit(world) == "10000.00"
        world.crm.credit.approve_request(world.controller2, request.id)  # another controller may
        assert limit(world) == "25000.00"

    def test_only_approvers_decide(self, world: World) -> None:
        request = world.crm.credit.request_limit_change(world.manager, world.customer.id, inr("25000.00"), "x")
        before = world.snapshot()
        for actor in (world.head, world.rep, world.agent):
            with pytest.raises(PermissionDenied):
                world.crm.credit.approve_request(actor, request.id)
        assert world.snapshot() == before

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("approve_request", "approve_request"),
            ("approve_request", "reject_request"),
            ("reject_request", "approve_request"),
            ("reject_request", "reject_request"),
        ],
    )
    def test_deciding_twice_is_a_conflict(self, world: World, first: str, second: str) -> None:
        request = world.crm.credit.request_limit_change(world.manager, world.customer.id, inr("25000.00"), "x")
        getattr(world.crm.credit, first)(world.controller, request.id)
        before = world.snapshot()
        with pytest.raises(Conflict):
            getattr(world.crm.credit, second)(world.controller2, request.id)
        assert world.snapshot() == before
        assert world.crm.credit.get_request(world.admin, request.id).decided_by == world.controller.id

    def test_an_unknown_request_is_not_found(self, world: World) -> None:
        with pytest.raises(EntityNotFound):
            world.crm.credit.approve_request(world.controller, "no-such-request")

    def test_lowering_below_exposure_is_allowed_and_leaves_available_negative(self, world: World) -> None:
        order = world.order_of("8000.00")
        request = world.crm.credit.request_limit_change(world.manager, world.customer.id, inr("5000.00"), "risk")
        world.crm.credit.approve_request(world.controller, request.id)

        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.limit, position.exposure, position.available) == (
            inr("5000.00"),
            inr("8000.00"),
            inr("-3000.00"),
        )
        assert world.crm.orders.get(world.rep, order.id).status is OrderStatus.SUBMITTED  # untouched
        held = world.order_of("0.01")
        assert held.credit is not None
        assert (held.status, held.credit.shortfall) == (OrderStatus.ON_CREDIT_HOLD, inr("3000.01"))

    def test_history_keeps_every_change_in_order(self, world: World) -> None:
        for new_limit in ("12000.00", "15000.00", "9000.00"):
            request = world.crm.credit.request_limit_change(world.manager, world.customer.id, inr(new_limit), new_limit)
            world.clock.advance(timedelta(minutes=1))
            world.crm.credit.approve_request(world.controller, request.id)
        changes = [(c.old, c.new, c.reason) for c in world.crm.credit.limit_history(world.dealer, world.customer.id)]
        assert changes == [
            ("10000.00", "12000.00", "12000.00"),
            ("12000.00", "15000.00", "15000.00"),
            ("15000.00", "9000.00", "9000.00"),
        ]


class TestListRequests:
    def test_lists_follow_scope_and_status(self, world: World) -> None:
        mine = world.crm.credit.request_limit_change(world.manager, world.customer.id, inr("20000.00"), "a")
        theirs = world.crm.credit.request_limit_change(world.other_manager, world.outsider.id, inr("20000.00"), "b")
        world.crm.credit.approve_request(world.controller, theirs.id)

        def ids(actor: object, status: LimitRequestStatus | None = None) -> set[str]:
            page = world.crm.credit.list_requests(actor, PageRequest(), status)  # type: ignore[arg-type]
            return {r.id for r in page.items}

        assert ids(world.controller) == {mine.id, theirs.id}
        assert ids(world.controller, PENDING) == {mine.id}
        assert ids(world.manager) == {mine.id}
        assert ids(world.other_manager) == {theirs.id}
        with pytest.raises(EntityNotFound):
            world.crm.credit.get_request(world.other_manager, mine.id)
        with pytest.raises(PermissionDenied):
            world.crm.credit.list_requests(world.rep, PageRequest())
