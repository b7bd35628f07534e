"""SPEC §2.7: every state change writes its domain event to the outbox in the same unit of work; a use case
that fails (or is retried) leaves no event of its failed attempt behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import TracebackType
from typing import Any, Self

import pytest

from adapters.memory import MemoryStore
from adapters.phones import PhonenumbersNormaliser
from adapters.system import FixedClock, SequentialIds
from crm_domain.app import Crm
from crm_domain.errors import ConcurrentUpdate, DomainError
from crm_domain.money import Money
from crm_domain.orders import ErpSync, LineRequest, Order, OrderStatus
from crm_domain.outbox import OutboxStatus
from crm_domain.services.context import ServiceContext
from crm_domain.services.orders import NewOrder
from crm_domain.services.users import UserChanges
from crm_domain.users import Role
from tests.unit.world import World, build_world, inr

S = OrderStatus


def new_messages(world: World, action: Callable[[], object]) -> list[tuple[str, dict[str, Any]]]:
    """The (event, payload) pairs `action` wrote to the outbox, in order."""
    seen = {m.id for m in world.outbox()}
    action()
    fresh = [m for m in world.outbox() if m.id not in seen]
    return [(m.event, m.payload) for m in sorted(fresh, key=lambda m: (m.occurred_at, m.id))]


def names(world: World, action: Callable[[], object]) -> list[str]:
    return [event for event, _ in new_messages(world, action)]


def confirmed(world: World, amount: str = "1000.00") -> Order:
    order = world.order_of(amount)
    return world.erp_reports(order, S.CONFIRMED, erp_order_id="E-1")


Case = Callable[[World], Callable[[], object]]
#: For each use case: a set-up that returns the change, and the events that change must write.
CASES: dict[str, tuple[Case, list[str]]] = {
    "create a draft": (
        lambda w: lambda: w.order(w.rep, w.customer, ("PUMP", "1"), submit=False),
        ["order.created"],
    ),
    "create and submit": (lambda w: lambda: w.order_of("100.00"), ["order.created", "order.submitted"]),
    "create and hold": (lambda w: lambda: w.order_of("20000.00"), ["order.created", "order.on_credit_hold"]),
    "submit a draft": (
        lambda w: (lambda o: lambda: w.crm.orders.submit(w.rep, o.id))(
            w.order(w.rep, w.customer, ("PUMP", "1"), submit=False)
        ),
        ["order.submitted"],
    ),
    "release": (
        lambda w: (lambda o: lambda: w.crm.orders.release(w.controller, o.id, "ok"))(w.order_of("20000.00")),
        ["order.released"],
    ),
    "reject": (
        lambda w: (lambda o: lambda: w.crm.orders.reject(w.controller, o.id, "no"))(w.order_of("20000.00")),
        ["order.rejected"],
    ),
    "cancel": (
        lambda w: (lambda o: lambda: w.crm.orders.cancel(w.rep, o.id, "dup"))(w.order_of("100.00")),
        ["order.cancelled"],
    ),
    "cancel that frees a hold": (
        lambda w: (lambda o, _held: lambda: w.crm.orders.cancel(w.rep, o.id, "dup"))(
            w.order_of("9000.00"), w.order_of("5000.00")
        ),
        ["order.cancelled", "order.released"],
    ),
    "confirm": (
        lambda w: (lambda o: lambda: w.erp_reports(o, S.CONFIRMED, erp_order_id="E-1"))(w.order_of("100.00")),
        ["order.confirmed"],
    ),
    "dispatch": (
        lambda w: (lambda o: lambda: w.erp_reports(o, S.DISPATCHED))(confirmed(w)),
        ["order.status_changed"],
    ),
    "erp sync failed": (
        lambda w: (lambda o: lambda: w.crm.orders.record_erp_sync(o.id, ErpSync.FAILED, "timeout"))(
            w.order_of("100.00")
        ),
        ["order.erp_sync_changed"],
    ),
    "request a limit": (
        lambda w: lambda: w.crm.credit.request_limit_change(w.manager, w.customer.id, inr("2.00"), "x"),
        ["credit_limit.requested"],
    ),
    "approve a limit": (
        lambda w: (lambda r: lambda: w.crm.credit.approve_request(w.controller, r.id))(
            w.crm.credit.request_limit_change(w.manager, w.customer.id, inr("2.00"), "x")
        ),
        ["credit_limit.changed", "credit_limit.request_decided"],
    ),
    "reject a limit": (
        lambda w: (lambda r: lambda: w.crm.credit.reject_request(w.controller, r.id))(
            w.crm.credit.request_limit_change(w.manager, w.customer.id, inr("2.00"), "x")
        ),
        ["credit_limit.request_decided"],
    ),
    "temporary limit": (
        lambda w: (
            lambda: w.crm.credit.set_temporary_limit(w.controller, w.customer.id, inr("2.00"), date(2026, 12, 1), "x")
        ),
        ["credit_limit.changed"],
    ),
    "block": (lambda w: lambda: w.crm.credit.block(w.controller, w.customer.id, "x"), ["credit_limit.changed"]),
    "tolerance": (
        lambda w: (  # lowered at once (raised first by an approved request)
            w.raise_credit("tolerance", tolerance_pct="10"),
            lambda: w.crm.credit.set_tolerance(w.controller, w.customer.id, "5", "x"),
        )[1],
        ["credit_limit.changed"],
    ),
    "balance update": (
        lambda w: lambda: w.crm.credit.update_balance(w.customer.id, inr("5.00"), 3),
        ["customer.balance_updated"],
    ),
    "deactivate a user": (
        lambda w: lambda: w.crm.users.update(w.admin, w.rep.id, UserChanges(active=False)),
        ["user.changed"],
    ),
}


class TestEveryChangeWritesItsEvent:
    @pytest.mark.parametrize("case", sorted(CASES))
    def test_the_change_writes_exactly_its_events(self, world: World, case: str) -> None:
        setup, expected = CASES[case]
        action = setup(world)
        assert names(world, action) == expected

    def test_invoice_and_delivery_write_status_changes(self, world: World) -> None:
        order = confirmed(world)
        world.erp_reports(order, S.DISPATCHED)
        messages = new_messages(world, lambda: world.erp_reports(order, S.INVOICED))
        assert [(e, p["previous_status"], p["status"]) for e, p in messages] == [
            ("order.status_changed", "dispatched", "invoiced")
        ]

    def test_a_message_carries_the_event_in_plain_json(self, world: World) -> None:
        messages = new_messages(world, lambda: world.order(world.rep, world.customer, ("PUMP", "10")))
        event, payload = messages[1]
        order = world.orders()[0]
        assert event == "order.submitted"
        assert payload == {
            "occurred_at": world.clock.now().isoformat(),
            "order_id": order.id,
            "order_number": "SO-2026-000001",
            "customer_id": world.customer.id,
            "actor_id": world.rep.id,
            "total": {"amount": "4956.00", "currency": "INR"},
            "rep_id": world.rep.id,
        }
        message = next(m for m in world.outbox() if m.event == "order.submitted")
        assert (message.aggregate_id, message.status, message.attempts) == (order.id, OutboxStatus.PENDING, 0)
        assert message.next_attempt_at == message.occurred_at == world.clock.now()

    def test_hold_and_release_events_carry_reason_shortfall_and_who(self, world: World) -> None:
        held_messages = new_messages(world, lambda: world.order_of("12000.00"))
        _, hold = held_messages[1]
        assert (hold["reason"], hold["shortfall"]) == ("limit_exceeded", {"amount": "2000.00", "currency": "INR"})
        held = world.orders()[0]
        ((_, release),) = new_messages(world, lambda: world.crm.orders.release(world.controller, held.id, "ok"))
        assert (release["by_system"], release["actor_id"], release["note"]) == (False, world.controller.id, "ok")

    def test_an_automatic_release_is_marked_as_the_systems(self, world: World) -> None:
        first = world.order_of("9000.00")
        world.order_of("5000.00")
        messages = new_messages(world, lambda: world.crm.orders.cancel(world.rep, first.id, "dup"))
        assert [(p.get("by_system"), p["actor_id"]) for _, p in messages] == [(None, world.rep.id), (True, "system")]

    def test_a_limit_change_event_says_old_new_who_and_why(self, world: World) -> None:
        messages = new_messages(
            world, lambda: world.crm.credit.set_limit(world.admin, world.customer.id, inr("5000.00"), "review")
        )
        ((event, payload),) = messages
        assert event == "credit_limit.changed"
        assert {k: payload[k] for k in ("customer_id", "kind", "old", "new", "changed_by", "reason")} == {
            "customer_id": world.customer.id,
            "kind": "limit",
            "old": "10000.00",
            "new": "5000.00",
            "changed_by": world.admin.id,
            "reason": "review",
        }


FAILURES: dict[str, Case] = {
    "release by the creator": lambda w: (lambda o: lambda: w.crm.orders.release(w.admin, o.id, "mine"))(
        w.order(w.admin, w.customer, ("AMT", "20000"))
    ),
    "forbidden transition": lambda w: (lambda o: lambda: w.erp_reports(o, S.INVOICED))(w.order_of("20000")),
    "an invoice in another currency, refused after the order was confirmed and dispatched": lambda w: (
        lambda o: lambda: w.erp_reports(o, S.INVOICED, invoiced_amount=Money.of("1.00", "USD"))
    )(w.order_of("1")),
    "self-approval": lambda w: (lambda r: lambda: w.crm.credit.approve_request(w.controller, r.id))(
        w.crm.credit.request_limit_change(w.controller, w.customer.id, inr("2.00"), "x")
    ),
    "an overlong idempotency key, refused after the order and its events were built": lambda w: (
        lambda: w.crm.orders.create(
            w.rep,
            NewOrder(customer_id=w.customer.id, lines=(LineRequest(sku="PUMP", quantity="1"),), submit=True),
            idempotency_key="k" * 300,
        )
    ),
}


class TestFailedUseCasesWriteNoEvents:
    @pytest.mark.parametrize("case", sorted(FAILURES))
    def test_nothing_reaches_the_outbox(self, world: World, case: str) -> None:
        action = FAILURES[case](world)
        before = world.snapshot()
        with pytest.raises(DomainError):
            action()
        assert world.snapshot() == before


class _FlakyCredit:
    """The in-memory credit repository, failing its next `failures` saves as a concurrent writer would."""

    def __init__(self, inner: Any, failures: list[int]) -> None:
        self._inner = inner
        self._failures = failures

    def save(self, account: Any) -> None:
        if self._failures[0] > 0:
            self._failures[0] -= 1
            raise ConcurrentUpdate("credit account", account.customer_id)
        self._inner.save(account)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _FlakyUnitOfWork:
    def __init__(self, inner: Any, failures: list[int]) -> None:
        self._inner = inner
        self.credit = _FlakyCredit(inner.credit, failures)

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def failures() -> list[int]:
    return [0]


@pytest.fixture
def flaky_world(failures: list[int]) -> World:
    clock, ids = FixedClock(), SequentialIds()
    store = MemoryStore(ids=ids)

    def unit_of_work(*, read_only: bool = False) -> Any:
        return _FlakyUnitOfWork(store(read_only=read_only), failures)

    ctx = ServiceContext(uow=unit_of_work, clock=clock, ids=ids, mobiles=PhonenumbersNormaliser())
    return build_world(Crm(ctx), clock)


class TestSameUnitOfWork:
    def test_a_retried_write_leaves_the_events_of_one_attempt(self, flaky_world: World, failures: list[int]) -> None:
        world = flaky_world
        order = world.order_of("4000.00")
        failures[0] = 1  # the first attempt's credit save loses a race, after the order event was written

        assert names(world, lambda: world.crm.orders.cancel(world.rep, order.id, "dup")) == ["order.cancelled"]
        assert world.crm.orders.get(world.rep, order.id).status is S.CANCELLED
        assert world.exposure() == inr("0.00")

    def test_a_write_that_keeps_failing_leaves_nothing(self, flaky_world: World, failures: list[int]) -> None:
        world = flaky_world
        order = world.order_of("4000.00")
        failures[0] = 1_000
        before = world.snapshot()
        with pytest.raises(ConcurrentUpdate):
            world.crm.orders.cancel(world.rep, order.id, "dup")
        assert world.snapshot() == before
        failures[0] = 0
        assert world.crm.orders.get(world.rep, order.id).status is S.SUBMITTED

    def test_user_events_are_written_with_the_user(self, world: World) -> None:
        messages = new_messages(world, lambda: world.user(Role.SALES_REP, name="Neel New"))
        ((event, payload),) = messages
        assert (event, payload["active"], payload["changed_by"]) == ("user.changed", True, world.admin.id)
