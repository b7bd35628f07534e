"""SPEC §2.4–§2.5: order creation and its validation, the state machine, history, numbers, channels,
idempotency keys, quotes, and the ERP's progress reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from types import SimpleNamespace

import pytest

from adapters.system import FixedClock
from crm_domain.credit import HoldReason, ReservationStage, Verdict
from crm_domain.erp import ErpOrderState
from crm_domain.errors import (
    EntityNotFound,
    IdempotencyKeyReused,
    InactiveSku,
    InvalidTransition,
    PermissionDenied,
    UnknownSku,
    ValidationFailed,
)
from crm_domain.orders import Channel, ErpSync, LineRequest, Order, OrderStatus
from crm_domain.products import Product
from crm_domain.services.customers import CustomerChanges
from crm_domain.services.erp_events import PROGRESS, OrderStatusReport
from crm_domain.services.orders import NewOrder
from crm_domain.users import Actor
from tests.unit.world import AMOUNT_SKU, World, build_world, inr, new_crm

S = OrderStatus


def new_order(world: World, *lines: LineRequest, submit: bool = False, **kw: object) -> NewOrder:
    return NewOrder(customer_id=world.customer.id, lines=lines, submit=submit, **kw)  # type: ignore[arg-type]


def line(sku: str = "PUMP", quantity: str = "1", discount: str = "0") -> LineRequest:
    return LineRequest(sku=sku, quantity=quantity, discount_pct=discount)


def next_number(world: World) -> str:
    """The number the next order gets (creating one to find out)."""
    return world.order(world.admin, world.customer2, ("PUMP", "1"), submit=False).number


class TestCreateOrder:
    def test_a_draft_copies_prices_and_records_who_and_when(self, world: World) -> None:
        order = world.order(world.rep, world.customer, ("PUMP", "10"), submit=False)

        assert order.status is S.DRAFT
        assert order.customer_id == world.customer.id
        assert order.created_by == world.rep.id
        assert order.currency == "INR"
        assert order.created_at == world.clock.now()
        assert order.credit is None
        assert order.erp_sync is ErpSync.NOT_SENT
        assert world.crm.orders.get(world.rep, order.id).total == inr("4956.00")
        assert world.exposure() == inr("0.00")  # a draft reserves nothing

    def test_submit_true_creates_and_submits_in_one_step(self, world: World) -> None:
        order = world.order(world.rep, world.customer, ("PUMP", "10"))
        assert order.status is S.SUBMITTED
        assert order.rep_id == world.rep.id
        assert order.erp_sync is ErpSync.PENDING
        assert [(h.from_status, h.to_status) for h in order.history] == [(None, S.DRAFT), (S.DRAFT, S.SUBMITTED)]

    def test_rep_id_is_the_customers_rep_whoever_places_the_order(self, world: World) -> None:
        by_agent = world.order(world.agent, world.customer, ("PUMP", "1"))
        by_dealer = world.order(world.dealer, world.customer, ("PUMP", "1"))
        assert by_agent.rep_id == by_dealer.rep_id == world.rep.id
        assert by_agent.created_by == world.agent.id

    def test_rep_id_is_taken_at_submit_time(self, world: World) -> None:
        draft = world.order(world.rep, world.customer, ("PUMP", "1"), submit=False)
        world.crm.customers.update(world.admin, world.customer.id, CustomerChanges(assigned_rep_id=world.rep2.id))
        assert world.crm.orders.submit(world.admin, draft.id).rep_id == world.rep2.id

    def test_notes_are_kept(self, world: World) -> None:
        order = world.crm.orders.create(world.rep, new_order(world, line(), notes="deliver before Diwali"))
        assert world.crm.orders.get(world.rep, order.id).notes == "deliver before Diwali"


class TestOrderNumbers:
    def test_numbers_follow_so_year_sequence_and_increase(self, world: World) -> None:
        numbers = [world.order(world.rep, world.customer, ("PUMP", "1"), submit=False).number for _ in range(3)]
        assert numbers == ["SO-2026-000001", "SO-2026-000002", "SO-2026-000003"]

    def test_the_year_is_the_company_time_zones_and_each_year_starts_again(self, world: World) -> None:
        world.clock.set(datetime(2026, 12, 31, 18, 0, tzinfo=UTC))  # 23:30 in Kolkata
        assert next_number(world) == "SO-2026-000001"
        world.clock.set(datetime(2026, 12, 31, 18, 31, tzinfo=UTC))  # 00:01 on 1 January in Kolkata
        assert next_number(world) == "SO-2027-000001"
        assert next_number(world) == "SO-2027-000002"

    def test_numbers_are_unique(self, world: World) -> None:
        for _ in range(20):
            world.order(world.rep, world.customer, ("PUMP", "1"), submit=False)
        numbers = [o.number for o in world.orders()]
        assert len(set(numbers)) == 20


class TestChannel:
    @pytest.mark.parametrize(
        ("who", "channel"),
        [
            ("rep", Channel.FIELD_APP),
            ("dealer", Channel.DEALER_APP),
            ("agent", Channel.CALL_CENTER),
            ("manager", Channel.WEB),
            ("admin", Channel.WEB),
        ],
    )
    def test_defaults_by_role(self, world: World, who: str, channel: Channel) -> None:
        actor: Actor = getattr(world, who)
        assert world.order(actor, world.customer, ("PUMP", "1"), submit=False).channel is channel

    def test_an_explicit_channel_wins_where_it_cannot_lie(self, world: World) -> None:
        order = world.crm.orders.create(world.admin, new_order(world, line(), channel=Channel.IMPORT))
        assert order.channel is Channel.IMPORT
        assert world.crm.orders.create(world.rep, new_order(world, line(), channel=Channel.FIELD_APP)).channel is (
            Channel.FIELD_APP
        )


# --- validation that changes nothing -------------------------------------------------------------------------


class TestCreateValidation:
    @pytest.mark.parametrize(
        ("lines", "error"),
        [
            ((line("NOPE"),), UnknownSku),
            ((line("PUMP"), line("NOPE")), UnknownSku),
            ((line("OLD"),), InactiveSku),
            ((), ValidationFailed),
            ((line("PUMP"), line("PIPE"), line("PUMP", "2")), ValidationFailed),  # duplicate SKU
            ((line("CEMENT", "9.999"),), ValidationFailed),  # below the minimum order quantity of 10
            ((line("USD-PUMP"),), ValidationFailed),  # priced in USD, the customer buys in INR
        ],
    )
    @pytest.mark.parametrize("submit", [False, True])
    def test_invalid_lines_store_nothing(
        self, world: World, lines: tuple[LineRequest, ...], error: type[Exception], submit: bool
    ) -> None:
        before = world.snapshot()
        with pytest.raises(error):
            world.crm.orders.create(world.rep, new_order(world, *lines, submit=submit))
        assert world.snapshot() == before
        assert world.orders() == []
        assert next_number(world) == "SO-2026-000001"  # the sequence was not consumed either

    def test_unknown_and_inactive_skus_name_the_sku(self, world: World) -> None:
        with pytest.raises(UnknownSku) as unknown:
            world.crm.orders.create(world.rep, new_order(world, line("NOPE")))
        with pytest.raises(InactiveSku) as inactive:
            world.crm.orders.create(world.rep, new_order(world, line("OLD")))
        assert (unknown.value.sku, inactive.value.sku) == ("NOPE", "OLD")
        assert isinstance(unknown.value, ValidationFailed)
        assert isinstance(inactive.value, ValidationFailed)

    def test_the_minimum_order_quantity_itself_is_accepted(self, world: World) -> None:
        assert world.order(world.rep, world.customer, ("CEMENT", "10"), submit=False).lines[0].quantity == 10

    @pytest.mark.parametrize("quantity", ["-1", "0", "0.000", "1.0001", "1000000.001", "2000000", "abc", "NaN"])
    def test_bad_quantities_are_refused(self, quantity: str) -> None:
        with pytest.raises(ValidationFailed) as raised:
            line("PUMP", quantity)
        assert raised.value.field == "quantity"

    @pytest.mark.parametrize("quantity", ["0.001", "1.5", "12.345", "1000000", "1000000.000", "7.2500"])
    def test_good_quantities_are_kept_exactly(self, quantity: str) -> None:
        assert line("PUMP", quantity).quantity == Decimal(quantity)

    @pytest.mark.parametrize("discount", ["-0.01", "100.01", "12.345", "101", "x"])
    def test_bad_discounts_are_refused(self, discount: str) -> None:
        with pytest.raises(ValidationFailed) as raised:
            line("PUMP", "1", discount)
        assert raised.value.field == "discount_pct"

    @pytest.mark.parametrize("discount", ["0", "0.01", "12.5", "99.99", "100"])
    def test_discounts_from_0_to_100_with_two_places_are_accepted(self, discount: str) -> None:
        assert line("PUMP", "1", discount).discount_pct == Decimal(discount)

    def test_500_lines_are_accepted_and_501_refused(self, world: World) -> None:
        now = world.clock.now()
        products = [
            Product(sku=f"BULK-{i:03d}", name="Bulk", unit_price=inr("1.00"), updated_at=now) for i in range(501)
        ]
        world.crm.catalogue.upsert_many(world.admin, products)
        many = [line(f"BULK-{i:03d}") for i in range(501)]

        before = world.snapshot()
        with pytest.raises(ValidationFailed) as raised:
            world.crm.orders.create(world.rep, new_order(world, *many))
        assert raised.value.field == "lines"
        assert world.snapshot() == before

        order = world.crm.orders.create(world.rep, new_order(world, *many[:500]))
        assert len(order.lines) == 500
        assert order.total == inr("500.00")

    def test_an_inactive_customer_takes_no_orders(self, world: World) -> None:
        world.crm.customers.update(world.admin, world.customer.id, CustomerChanges(active=False))
        before = world.snapshot()
        with pytest.raises(ValidationFailed):
            world.crm.orders.create(world.rep, new_order(world, line(), submit=True))
        assert world.snapshot() == before

    def test_a_customer_outside_scope_is_not_found(self, world: World) -> None:
        before = world.snapshot()
        with pytest.raises(EntityNotFound):
            world.crm.orders.create(world.rep2, new_order(world, line(), submit=True))
        with pytest.raises(EntityNotFound):
            world.crm.orders.create(world.rep, NewOrder(customer_id="nope", lines=(line(),)))
        assert world.snapshot() == before

    @pytest.mark.parametrize("submit", [False, True])
    def test_without_order_create_permission_nothing_is_stored(self, world: World, submit: bool) -> None:
        before = world.snapshot()
        with pytest.raises(PermissionDenied) as raised:
            world.crm.orders.create(world.controller, new_order(world, line(), submit=submit))
        assert raised.value.permission == "order:create"
        assert world.snapshot() == before


# --- the state machine ---------------------------------------------------------------------------------------


def order_in(world: World, status: OrderStatus) -> Order:
    """An order of the world's customer in `status`, reached through the use cases."""
    crm, rep = world.crm, world.rep
    if status is S.DRAFT:
        return world.order(rep, world.customer, (AMOUNT_SKU, "100"), submit=False)
    if status in {S.ON_CREDIT_HOLD, S.REJECTED}:
        held = world.order_of("20000.00")
        assert held.status is S.ON_CREDIT_HOLD
        return held if status is S.ON_CREDIT_HOLD else crm.orders.reject(world.controller, held.id, "too big")
    if status is S.CANCELLED:
        return crm.orders.cancel(rep, order_in(world, S.DRAFT).id, "not needed")
    order = world.order_of("100.00")
    if status in PROGRESS:
        order = world.erp_reports(order, status)
    assert order.status is status
    return order


Action = Callable[[World, Order], object]
ACTIONS: dict[str, Action] = {
    "submit": lambda w, o: w.crm.orders.submit(w.rep, o.id),
    "release": lambda w, o: w.crm.orders.release(w.controller, o.id, "known dealer"),
    "reject": lambda w, o: w.crm.orders.reject(w.controller, o.id, "too risky"),
    "cancel": lambda w, o: w.crm.orders.cancel(w.rep, o.id, "dealer changed their mind"),
    # what the ERP reports, through the one ERP-progress rule (`ErpEventService.apply_order_status`)
    "confirm": lambda w, o: w.erp_reports(o, S.CONFIRMED),
    "dispatch": lambda w, o: w.erp_reports(o, S.DISPATCHED),
    "invoice": lambda w, o: w.erp_reports(o, S.INVOICED),
    "deliver": lambda w, o: w.erp_reports(o, S.DELIVERED),
}
ERP_ACTIONS = {"confirm": S.CONFIRMED, "dispatch": S.DISPATCHED, "invoice": S.INVOICED, "deliver": S.DELIVERED}
ALLOWED: dict[str, OrderStatus] = {
    "submit": S.DRAFT,
    "release": S.ON_CREDIT_HOLD,
    "reject": S.ON_CREDIT_HOLD,
    "confirm": S.SUBMITTED,
    "dispatch": S.CONFIRMED,
    "invoice": S.DISPATCHED,
    "deliver": S.INVOICED,
}
CANCELLABLE = {S.DRAFT, S.SUBMITTED, S.ON_CREDIT_HOLD, S.CONFIRMED}
#: ERP reports of a state already reached or passed are replays, answered without change (not forbidden).
REPLAYS = {
    (action, status)
    for action, target in ERP_ACTIONS.items()
    for status in PROGRESS
    if PROGRESS.index(status) >= PROGRESS.index(target)
}
#: ERP reports of a state further on than the next walk through the steps in between.
WALKS = {
    (action, status)
    for action, target in ERP_ACTIONS.items()
    for status in (S.SUBMITTED, *PROGRESS)
    if status is not ALLOWED[action] and (status is S.SUBMITTED or PROGRESS.index(status) < PROGRESS.index(target))
}
RESULT = {
    "submit": S.SUBMITTED,
    "release": S.SUBMITTED,
    "reject": S.REJECTED,
    "cancel": S.CANCELLED,
    "confirm": S.CONFIRMED,
    "dispatch": S.DISPATCHED,
    "invoice": S.INVOICED,
    "deliver": S.DELIVERED,
}


def allowed(action: str, status: OrderStatus) -> bool:
    return status in CANCELLABLE if action == "cancel" else ALLOWED[action] is status


FORBIDDEN = [
    (action, status)
    for action in ACTIONS
    for status in OrderStatus
    if not allowed(action, status) and (action, status) not in REPLAYS | WALKS
]
PERMITTED = [(action, status) for action in ACTIONS for status in OrderStatus if allowed(action, status)]


class TestStateMachine:
    @pytest.mark.parametrize(("action", "status"), FORBIDDEN, ids=[f"{a}-from-{s}" for a, s in FORBIDDEN])
    def test_every_forbidden_transition_is_invalid_and_changes_nothing(
        self, world: World, action: str, status: OrderStatus
    ) -> None:
        order = order_in(world, status)
        before = world.snapshot()

        with pytest.raises(InvalidTransition) as raised:
            ACTIONS[action](world, order)

        assert raised.value.order_id == order.id
        assert raised.value.current == status.value
        assert world.snapshot() == before
        assert world.crm.orders.get(world.admin, order.id).history == order.history

    @pytest.mark.parametrize(("action", "status"), PERMITTED, ids=[f"{a}-from-{s}" for a, s in PERMITTED])
    def test_every_permitted_transition_moves_the_order(self, world: World, action: str, status: OrderStatus) -> None:
        order = order_in(world, status)
        ACTIONS[action](world, order)
        stored = world.crm.orders.get(world.admin, order.id)
        assert stored.status is RESULT[action]
        assert (stored.history[-1].from_status, stored.history[-1].to_status) == (status, RESULT[action])

    @pytest.mark.parametrize(("action", "status"), sorted(REPLAYS))
    def test_erp_replays_of_a_passed_state_change_nothing(self, world: World, action: str, status: OrderStatus) -> None:
        order = order_in(world, status)
        before = world.snapshot()
        assert ACTIONS[action](world, order).status is status  # type: ignore[attr-defined]
        assert world.snapshot() == before

    @pytest.mark.parametrize(("action", "status"), sorted(WALKS), ids=[f"{a}-from-{s}" for a, s in sorted(WALKS)])
    def test_an_erp_report_further_on_walks_through_the_steps_between(
        self, world: World, action: str, status: OrderStatus
    ) -> None:
        order = order_in(world, status)
        ACTIONS[action](world, order)
        stored = world.crm.orders.get(world.admin, order.id)
        walked = [(h.from_status, h.to_status) for h in stored.history[len(order.history) :]]
        path = [status, *PROGRESS[PROGRESS.index(status) + 1 if status in PROGRESS else 0 :]]
        path = path[: path.index(RESULT[action]) + 1]
        assert walked == list(pairwise(path))

    def test_confirming_again_with_the_same_erp_id_is_a_no_op(self, world: World) -> None:
        order = order_in(world, S.CONFIRMED)
        before = world.snapshot()
        assert world.erp_reports(order, S.CONFIRMED, erp_order_id=f"ERP-{order.number}").status is S.CONFIRMED
        assert world.snapshot() == before

    def test_a_held_order_is_not_resubmitted_even_when_it_fits_now(self, world: World) -> None:
        """Leaving a hold is a release (recorded) or a reject, never a second submit."""
        today = world.clock.now().date()
        world.crm.credit.set_temporary_limit(world.controller, world.customer.id, inr("1000.00"), today, "trial")
        held = world.order_of("5000.00")
        assert held.status is S.ON_CREDIT_HOLD
        world.clock.advance(timedelta(days=1))  # the lower temporary limit has lapsed: 5000 fits the base limit

        before = world.snapshot()
        with pytest.raises(InvalidTransition):
            world.crm.orders.submit(world.rep, held.id)
        assert world.snapshot() == before

    @pytest.mark.parametrize("action", sorted(ACTIONS))
    def test_an_unknown_order_is_not_found(self, world: World, action: str) -> None:
        ghost = SimpleNamespace(id="no-such-order")
        with pytest.raises(EntityNotFound):
            ACTIONS[action](world, ghost)  # type: ignore[arg-type]


class TestHistory:
    def test_every_change_records_from_to_actor_time_and_note(self, world: World) -> None:
        crm, clock = world.crm, world.clock
        t0 = clock.now()
        order = world.order(world.rep, world.customer, ("PUMP", "1"), submit=False)
        clock.advance(timedelta(minutes=5))
        crm.orders.submit(world.dealer, order.id)
        clock.advance(timedelta(hours=1))
        world.erp_reports(order, S.CONFIRMED, erp_order_id="4500012345")
        clock.advance(timedelta(days=1))
        world.erp_reports(order, S.DISPATCHED)
        clock.advance(timedelta(days=1))
        world.erp_reports(order, S.INVOICED)
        clock.advance(timedelta(days=2))
        world.erp_reports(order, S.DELIVERED)

        history = [
            (h.from_status, h.to_status, h.actor_id, h.at, h.note) for h in crm.orders.get(world.rep, order.id).history
        ]
        day = timedelta(days=1)
        t1, t2 = t0 + timedelta(minutes=5), t0 + timedelta(minutes=65)
        assert history == [
            (None, S.DRAFT, world.rep.id, t0, ""),
            (S.DRAFT, S.SUBMITTED, world.dealer.id, t1, ""),
            (S.SUBMITTED, S.CONFIRMED, "system", t2, "ERP order 4500012345"),
            (S.CONFIRMED, S.DISPATCHED, "system", t2 + day, "dispatched in the ERP"),
            (S.DISPATCHED, S.INVOICED, "system", t2 + 2 * day, "invoiced in the ERP, 495.60"),
            (S.INVOICED, S.DELIVERED, "system", t2 + 4 * day, "delivered (ERP)"),
        ]

    def test_hold_release_reject_and_cancel_are_recorded_with_their_notes(self, world: World) -> None:
        crm = world.crm
        released = world.order_of("20000.00")
        rejected = world.order_of("30000.00")
        crm.orders.release(world.controller, released.id, "MD approved on call")
        crm.orders.reject(world.controller, rejected.id, "dealer over limit")
        crm.orders.cancel(world.rep, released.id, "duplicate")

        assert [
            (h.from_status, h.to_status, h.actor_id, h.note) for h in crm.orders.get(world.rep, released.id).history
        ][1:] == [
            (S.DRAFT, S.ON_CREDIT_HOLD, world.rep.id, "limit_exceeded"),
            (S.ON_CREDIT_HOLD, S.SUBMITTED, world.controller.id, "MD approved on call"),
            (S.SUBMITTED, S.CANCELLED, world.rep.id, "duplicate"),
        ]
        assert crm.orders.get(world.rep, rejected.id).history[-1].note == "dealer over limit"

    def test_reject_and_cancel_need_a_reason(self, world: World) -> None:
        held = world.order_of("20000.00")
        before = world.snapshot()
        with pytest.raises(ValidationFailed):
            world.crm.orders.reject(world.controller, held.id, "  ")
        with pytest.raises(ValidationFailed):
            world.crm.orders.cancel(world.rep, held.id, "")
        assert world.snapshot() == before


class TestIdempotencyKey:
    def test_a_retry_with_the_same_key_and_body_returns_the_first_order_and_stores_nothing(self, world: World) -> None:
        body = new_order(world, line("PUMP", "10"), submit=True)
        first = world.crm.orders.create(world.rep, body, idempotency_key="k-1")
        after_first = world.snapshot()

        again = world.crm.orders.create(world.rep, body, idempotency_key="k-1")

        assert again.id == first.id
        assert again.number == first.number
        assert again.status is S.SUBMITTED
        assert world.snapshot() == after_first
        assert world.exposure() == inr("4956.00")  # reserved once

    def test_a_retry_with_an_equal_body_written_differently_is_the_same_request(self, world: World) -> None:
        first = world.crm.orders.create(world.rep, new_order(world, line("PUMP", "10")), idempotency_key="k-1")
        same = NewOrder(customer_id=world.customer.id, lines=(LineRequest(sku="PUMP", quantity="10.000"),))
        assert world.crm.orders.create(world.rep, same, idempotency_key="k-1").id == first.id
        assert len(world.orders()) == 1

    @pytest.mark.parametrize(
        "other",
        [
            {"lines": (line("PUMP", "11"),)},
            {"lines": (line("PUMP", "10", "5"),)},
            {"lines": (line("PIPE", "10"),)},
            {"notes": "urgent"},
            {"submit": False},
            {"channel": Channel.FIELD_APP},
        ],
    )
    def test_the_same_key_with_another_body_is_refused(self, world: World, other: dict[str, object]) -> None:
        base: dict[str, object] = {"customer_id": world.customer.id, "lines": (line("PUMP", "10"),), "submit": True}
        world.crm.orders.create(world.rep, NewOrder(**{**base, **other}), idempotency_key="k-1")  # type: ignore[arg-type]
        before = world.snapshot()
        with pytest.raises(IdempotencyKeyReused) as raised:
            world.crm.orders.create(world.rep, NewOrder(**base), idempotency_key="k-1")  # type: ignore[arg-type]
        assert raised.value.key == "k-1"
        assert world.snapshot() == before

    def test_another_key_is_another_order(self, world: World) -> None:
        body = new_order(world, line("PUMP", "1"))
        a = world.crm.orders.create(world.rep, body, idempotency_key="k-1")
        b = world.crm.orders.create(world.rep, body, idempotency_key="k-2")
        assert a.id != b.id
        assert len(world.orders()) == 2

    def test_keys_belong_to_the_user_who_sent_them(self, world: World) -> None:
        body = new_order(world, line("PUMP", "1"))
        a = world.crm.orders.create(world.rep, body, idempotency_key="k-1")
        b = world.crm.orders.create(world.dealer, body, idempotency_key="k-1")
        assert a.id != b.id

    def test_submit_with_a_key_is_retried_safely(self, world: World) -> None:
        draft = world.order(world.rep, world.customer, ("PUMP", "10"), submit=False)
        first = world.crm.orders.submit(world.rep, draft.id, idempotency_key="s-1")
        after_first = world.snapshot()
        again = world.crm.orders.submit(world.rep, draft.id, idempotency_key="s-1")
        assert (again.id, again.status) == (first.id, S.SUBMITTED)
        assert world.snapshot() == after_first
        with pytest.raises(InvalidTransition):  # without the key a second submit is a forbidden transition
            world.crm.orders.submit(world.rep, draft.id)

    def test_a_key_can_be_used_again_once_its_record_has_expired(self) -> None:
        clock = FixedClock()
        world = build_world(new_crm(clock), clock)
        body = new_order(world, line("PUMP", "1"))
        first = world.crm.orders.create(world.rep, body, idempotency_key="k-1")
        clock.advance(timedelta(hours=23, minutes=59))
        assert world.crm.orders.create(world.rep, body, idempotency_key="k-1").id == first.id
        clock.advance(timedelta(minutes=1))  # 24 hours: the record has expired
        assert world.crm.orders.create(world.rep, body, idempotency_key="k-1").id != first.id
        assert len(world.orders()) == 2

    def test_an_overlong_key_is_refused_and_nothing_is_stored(self, world: World) -> None:
        before = world.snapshot()
        with pytest.raises(ValidationFailed):
            world.crm.orders.create(world.rep, new_order(world, line(), submit=True), idempotency_key="k" * 256)
        assert world.snapshot() == before


class TestQuote:
    def test_a_quote_gives_totals_and_the_verdict_and_changes_nothing(self, world: World) -> None:
        world.order_of("6000.00")
        before = world.snapshot()

        fits = world.crm.orders.quote(world.rep, new_order(world, line(AMOUNT_SKU, "4000")))
        too_big = world.crm.orders.quote(world.rep, new_order(world, line(AMOUNT_SKU, "4000.01")))

        assert fits.total == inr("4000.00")
        assert (fits.credit.verdict, fits.credit.reason, fits.credit.available) == (
            Verdict.APPROVED,
            None,
            inr("4000.00"),
        )
        assert (too_big.credit.verdict, too_big.credit.reason, too_big.credit.shortfall) == (
            Verdict.HOLD,
            HoldReason.LIMIT_EXCEEDED,
            inr("0.01"),
        )
        assert world.snapshot() == before
        assert next_number(world) == "SO-2026-000002"

    def test_a_quote_for_a_blocked_customer_says_so(self, world: World) -> None:
        world.crm.credit.block(world.controller, world.customer.id, "cheque bounced")
        quote = world.crm.orders.quote(world.rep, new_order(world, line()))
        assert quote.credit.reason is HoldReason.CUSTOMER_BLOCKED

    def test_a_quote_validates_like_create(self, world: World) -> None:
        with pytest.raises(UnknownSku):
            world.crm.orders.quote(world.rep, new_order(world, line("NOPE")))
        with pytest.raises(EntityNotFound):
            world.crm.orders.quote(world.other_rep, new_order(world, line()))
        with pytest.raises(PermissionDenied):
            world.crm.orders.quote(world.controller, new_order(world, line()))


class TestErpProgress:
    def test_confirm_sets_the_erp_order_id_and_sync_state(self, world: World) -> None:
        order = world.order_of("100.00")
        confirmed = world.erp_reports(order, S.CONFIRMED, erp_order_id="4500012345")
        assert (confirmed.status, confirmed.erp_order_id, confirmed.erp_sync) == (
            S.CONFIRMED,
            "4500012345",
            ErpSync.SYNCED,
        )
        assert world.exposure() == inr("100.00")  # still reserved

    def test_dispatch_moves_the_reservation_to_the_dispatched_stage(self, world: World) -> None:
        order = order_in(world, S.DISPATCHED)
        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.open_orders, position.dispatched, position.exposure) == (
            inr("0.00"),
            inr("100.00"),
            inr("100.00"),
        )
        assert world.account().reservations[order.id].stage is ReservationStage.DISPATCHED

    def test_invoice_moves_the_reservation_to_receivables_until_the_erp_balance_takes_over(self, world: World) -> None:
        order = order_in(world, S.DISPATCHED)
        world.erp_reports(order, S.INVOICED)
        assert order.id not in world.account().reservations
        assert (world.account().receivables, world.exposure()) == (10000, inr("100.00"))  # still owed

        world.crm.credit.update_balance(world.customer.id, inr("100.00"), 0)
        position = world.crm.credit.position(world.rep, world.customer.id)
        assert (position.receivables, position.open_orders, position.exposure) == (
            inr("100.00"),
            inr("0.00"),
            inr("100.00"),
        )

    def test_delivery_changes_no_credit(self, world: World) -> None:
        order = order_in(world, S.INVOICED)
        before = world.account()
        world.erp_reports(order, S.DELIVERED)
        assert (world.account().reservations, world.account().receivables) == (before.reservations, before.receivables)
        assert world.crm.orders.get(world.rep, order.id).status is S.DELIVERED

    def test_confirm_needs_an_erp_order_id(self, world: World) -> None:
        order = world.order_of("100.00")
        before = world.snapshot()
        with pytest.raises(ValidationFailed):
            world.crm.erp_events.apply_order_status(
                "sandbox", OrderStatusReport(erp_order_id="", external_ref=order.id, state=ErpOrderState.OPEN)
            )
        assert world.snapshot() == before

    def test_erp_sync_state_is_recorded(self, world: World) -> None:
        order = world.order_of("100.00")
        world.crm.orders.record_erp_sync(order.id, ErpSync.FAILED, "SAP timed out")
        stored = world.crm.orders.get(world.rep, order.id)
        assert (stored.erp_sync, stored.erp_error, stored.status) == (ErpSync.FAILED, "SAP timed out", S.SUBMITTED)
