"""OrderRepository: whole-document round trips, unique numbers, optimistic saves, the newest-first list with
every `OrderQuery` filter, held orders in hold order, and the order-number sequence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from crm_domain.credit import HoldReason
from crm_domain.erp import BalanceSource
from crm_domain.errors import ConcurrentUpdate, DuplicateKey, ValidationFailed
from crm_domain.events import OrderCreated
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import OrderQuery, UnitOfWorkFactory
from crm_domain.records import PageRequest
from tests.contract.builders import an_order, at, forged_cursors, inr, read, walk, write

S = OrderStatus


def _stored(store: UnitOfWorkFactory, order_id: str = "o-1") -> Order:
    order = read(store, lambda uow: uow.orders.get(order_id))
    assert order is not None
    return order


class TestOrderRoundTrip:
    def test_get_returns_the_whole_order_as_added(self, store: UnitOfWorkFactory) -> None:
        order = an_order(status=S.ON_CREDIT_HOLD, held_at=at(2))
        write(store, lambda uow: uow.orders.add(order))

        stored = _stored(store)

        assert stored == order
        assert stored.lines == order.lines  # a tuple of lines, Decimals as written
        assert str(stored.lines[0].quantity) == "2.500"

    def test_a_fresh_draft_round_trips(self, store: UnitOfWorkFactory) -> None:
        order = attrs.evolve(an_order(status=S.DRAFT), credit=None, attachments=[], erp_order_id=None, rep_id=None)
        order = attrs.evolve(order, erp_error=None, submitted_at=None, history=order.history[:1])
        write(store, lambda uow: uow.orders.add(order))

        assert _stored(store) == order

    def test_a_hold_that_waits_for_a_person_round_trips(self, store: UnitOfWorkFactory) -> None:
        """SPEC §2.3 credit governance: the mark that keeps the automatic release off an order is stored."""
        order = an_order(status=S.ON_CREDIT_HOLD)
        assert order.credit is not None
        order = attrs.evolve(order, credit=attrs.evolve(order.credit, needs_person=True))
        write(store, lambda uow: uow.orders.add(order))

        stored = _stored(store)

        assert stored == order
        assert stored.credit is not None and stored.credit.needs_person

    def test_a_decision_on_a_live_balance_round_trips(self, store: UnitOfWorkFactory) -> None:
        """SPEC §8 request-reply: the decision records that the ERP's balance was read live, and as of when."""
        order = an_order(status=S.ON_CREDIT_HOLD)
        assert order.credit is not None
        as_of = datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=UTC)
        credit = attrs.evolve(
            order.credit, reason=HoldReason.ERP_CREDIT_CHECK, balance_source=BalanceSource.LIVE, balance_as_of=as_of
        )
        order = attrs.evolve(order, credit=credit)
        write(store, lambda uow: uow.orders.add(order))

        stored = _stored(store)

        assert stored == order
        assert stored.credit is not None and stored.credit.balance_source is BalanceSource.LIVE
        assert stored.credit.balance_as_of == as_of

    def test_pending_events_are_not_stored(self, store: UnitOfWorkFactory) -> None:
        order = an_order()
        order.events.append(
            OrderCreated(
                occurred_at=at(), order_id="o-1", order_number="n", customer_id="c", actor_id="a", total=inr(1)
            )
        )
        write(store, lambda uow: uow.orders.add(order))

        assert _stored(store).events == []

    def test_get_by_number_finds_the_order(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.orders.add(an_order(number="SO-2026-000042")))

        assert read(store, lambda uow: uow.orders.get_by_number("SO-2026-000042")) == an_order(number="SO-2026-000042")
        assert read(store, lambda uow: uow.orders.get_by_number("SO-2026-000043")) is None
        assert read(store, lambda uow: uow.orders.get("o-unknown")) is None

    def test_a_taken_number_is_a_duplicate(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.orders.add(an_order("o-1", number="SO-1")))

        with pytest.raises(DuplicateKey) as raised, store() as uow:
            uow.orders.add(an_order("o-2", number="SO-1"))

        assert (raised.value.kind, raised.value.field, raised.value.value) == ("order", "number", "SO-1")
        assert read(store, lambda uow: uow.orders.get("o-2")) is None

    def test_a_taken_id_is_a_duplicate(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.orders.add(an_order("o-1", number="SO-1")))

        with pytest.raises(DuplicateKey) as raised, store() as uow:
            uow.orders.add(an_order("o-1", number="SO-2"))

        assert (raised.value.kind, raised.value.field) == ("order", "id")


class TestOptimisticSave:
    def test_save_keeps_the_changes_and_bumps_the_version(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.orders.add(an_order()))
        order = _stored(store)
        order.status = S.CONFIRMED
        order.held_at = at(9)
        order.notes = "changed"

        write(store, lambda uow: uow.orders.save(order))

        assert order.version == 1
        assert _stored(store) == order

    def test_saving_a_stale_copy_is_a_concurrent_update(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.orders.add(an_order()))
        mine, theirs = _stored(store), _stored(store)
        theirs.notes = "theirs"
        write(store, lambda uow: uow.orders.save(theirs))

        mine.notes = "mine"
        with pytest.raises(ConcurrentUpdate), store() as uow:
            uow.orders.save(mine)

        assert _stored(store).notes == "theirs"
        assert mine.version == 0

    def test_saving_an_order_that_was_never_added_is_a_concurrent_update(self, store: UnitOfWorkFactory) -> None:
        with pytest.raises(ConcurrentUpdate), store() as uow:
            uow.orders.save(an_order())

    def test_successive_saves_of_one_object_succeed(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.orders.add(an_order()))
        order = _stored(store)
        for note in ["one", "two", "three"]:
            order.notes = note
            write(store, lambda uow: uow.orders.save(order))

        assert (_stored(store).notes, _stored(store).version) == ("three", 3)


def _orders(store: UnitOfWorkFactory) -> None:
    # id, customer, status, rep, minutes after T0 (o-3 and o-4 at the same moment: the id breaks the tie)
    rows = [
        ("o-1", "c-1", S.SUBMITTED, "rep-a", 0),
        ("o-2", "c-2", S.ON_CREDIT_HOLD, "rep-b", 10),
        ("o-3", "c-1", S.CANCELLED, "rep-a", 20),
        ("o-4", "c-3", S.SUBMITTED, None, 20),
        ("o-5", "c-2", S.SUBMITTED, "rep-a", 30),
        ("o-6", "c-1", S.DRAFT, "rep-b", 40),
    ]
    write(
        store,
        lambda uow: [
            uow.orders.add(an_order(i, customer_id=c, status=s, rep_id=r, created_at=at(m))) for i, c, s, r, m in rows
        ],
    )


QUERIES = {
    "everything": (OrderQuery(), ["o-6", "o-5", "o-4", "o-3", "o-2", "o-1"]),
    "scope": (OrderQuery(customer_ids=frozenset({"c-1", "c-3", "c-9"})), ["o-6", "o-4", "o-3", "o-1"]),
    "empty scope": (OrderQuery(customer_ids=frozenset()), []),
    "status": (OrderQuery(status=S.SUBMITTED), ["o-5", "o-4", "o-1"]),
    "customer": (OrderQuery(customer_id="c-2"), ["o-5", "o-2"]),
    "rep": (OrderQuery(rep_id="rep-a"), ["o-5", "o-3", "o-1"]),
    "created from (inclusive)": (OrderQuery(created_from=at(20)), ["o-6", "o-5", "o-4", "o-3"]),
    "created to (exclusive)": (OrderQuery(created_to=at(20)), ["o-2", "o-1"]),
    "a window": (OrderQuery(created_from=at(10), created_to=at(30)), ["o-4", "o-3", "o-2"]),
    "a window a microsecond wide": (
        OrderQuery(created_from=at(10), created_to=at(10) + timedelta(microseconds=1)),
        ["o-2"],
    ),
    "everything at once": (
        OrderQuery(
            customer_ids=frozenset({"c-1", "c-2"}),
            status=S.SUBMITTED,
            customer_id="c-2",
            rep_id="rep-a",
            created_from=at(30),
            created_to=at(31),
        ),
        ["o-5"],
    ),
    "scope and customer disagree": (OrderQuery(customer_ids=frozenset({"c-1"}), customer_id="c-2"), []),
}


class TestOrderList:
    @pytest.mark.parametrize("name", list(QUERIES))
    def test_each_filter_selects_its_orders_newest_first(self, store: UnitOfWorkFactory, name: str) -> None:
        query, expected = QUERIES[name]
        _orders(store)

        found = read(store, lambda uow: walk(lambda page: uow.orders.page(page, query), 200))

        assert [o.id for o in found] == expected

    @pytest.mark.parametrize("limit", [1, 2, 4])
    def test_pages_walk_every_order_once(self, store: UnitOfWorkFactory, limit: int) -> None:
        _orders(store)

        found = read(store, lambda uow: walk(lambda page: uow.orders.page(page, OrderQuery()), limit))

        assert [o.id for o in found] == QUERIES["everything"][1]

    def test_pages_of_a_filtered_list_walk_it_once(self, store: UnitOfWorkFactory) -> None:
        _orders(store)
        query = OrderQuery(customer_ids=frozenset({"c-1", "c-3"}))

        found = read(store, lambda uow: walk(lambda page: uow.orders.page(page, query), 1))

        assert [o.id for o in found] == QUERIES["scope"][1]

    def test_listed_orders_are_whole(self, store: UnitOfWorkFactory) -> None:
        _orders(store)

        page = read(store, lambda uow: uow.orders.page(PageRequest(limit=1), OrderQuery(customer_id="c-3")))

        assert page.items == [an_order("o-4", customer_id="c-3", status=S.SUBMITTED, rep_id=None, created_at=at(20))]

    @pytest.mark.parametrize("cursor", forged_cursors([1, "o-1"]))
    def test_a_forged_cursor_is_a_validation_error(self, store: UnitOfWorkFactory, cursor: str) -> None:
        _orders(store)

        with pytest.raises(ValidationFailed), store(read_only=True) as uow:
            uow.orders.page(PageRequest(limit=2, cursor=cursor), OrderQuery())


class TestHeldAndByStatus:
    def test_held_orders_come_oldest_hold_first(self, store: UnitOfWorkFactory) -> None:
        held = S.ON_CREDIT_HOLD
        orders = [
            an_order("o-1", number="SO-3", status=held, held_at=at(30), created_at=at(0)),
            an_order("o-2", number="SO-2", status=held, held_at=at(10), created_at=at(5)),
            an_order("o-3", number="SO-1", status=held, held_at=at(30), created_at=at(6)),  # tie: number decides
            an_order("o-4", number="SO-4", status=held, held_at=None, created_at=at(20)),  # no held_at: created_at
            an_order("o-5", number="SO-5", status=S.SUBMITTED, held_at=at(1)),  # not held any more
            an_order("o-6", number="SO-6", status=held, held_at=at(1), customer_id="c-2"),  # another customer
        ]
        write(store, lambda uow: [uow.orders.add(o) for o in orders])

        found = read(store, lambda uow: uow.orders.held_for_customer("c-1"))

        assert [o.id for o in found] == ["o-2", "o-4", "o-3", "o-1"]
        assert found[0] == orders[1]

    def test_with_status_returns_the_customers_orders_in_those_states_oldest_first(
        self, store: UnitOfWorkFactory
    ) -> None:
        _orders(store)

        found = read(store, lambda uow: uow.orders.with_status("c-1", frozenset({S.SUBMITTED, S.CANCELLED, S.DRAFT})))
        none = read(store, lambda uow: uow.orders.with_status("c-1", frozenset()))

        assert [o.id for o in found] == ["o-1", "o-3", "o-6"]
        assert none == []

    def test_with_status_breaks_ties_by_number(self, store: UnitOfWorkFactory) -> None:
        orders = [an_order("o-1", number="SO-9"), an_order("o-2", number="SO-1"), an_order("o-3", number="SO-5")]
        write(store, lambda uow: [uow.orders.add(o) for o in orders])

        found = read(store, lambda uow: uow.orders.with_status("c-1", frozenset({S.SUBMITTED})))

        assert [o.number for o in found] == ["SO-1", "SO-5", "SO-9"]


class TestOrderNumbers:
    def test_numbers_count_up_from_one_per_year(self, store: UnitOfWorkFactory) -> None:
        first = write(store, lambda uow: [uow.orders.next_number(2026) for _ in range(3)])
        later = write(store, lambda uow: uow.orders.next_number(2026))

        assert first == [1, 2, 3]
        assert later == 4

    def test_each_year_has_its_own_sequence(self, store: UnitOfWorkFactory) -> None:
        numbers = write(
            store,
            lambda uow: [uow.orders.next_number(y) for y in (2026, 2027, 2026, 2027, 2028)],
        )

        assert numbers == [1, 1, 2, 2, 1]


class TestOrdersUpdatedSince:
    def test_only_orders_changed_at_or_after_the_instant_within_the_scope(self, store: UnitOfWorkFactory) -> None:
        later = at() + timedelta(hours=2)
        orders = [
            attrs.evolve(an_order("o-1", customer_id="c-1"), updated_at=at()),
            attrs.evolve(an_order("o-2", customer_id="c-1", created_at=at() + timedelta(minutes=1)), updated_at=later),
            attrs.evolve(an_order("o-3", customer_id="c-2", created_at=at() + timedelta(minutes=2)), updated_at=later),
        ]
        write(store, lambda uow: [uow.orders.add(o) for o in orders])

        def since(query: OrderQuery) -> list[str]:
            return [o.id for o in read(store, lambda uow: walk(lambda p: uow.orders.page(p, query), 1))]

        assert since(OrderQuery(updated_since=later)) == ["o-3", "o-2"]
        assert since(OrderQuery(updated_since=later, customer_ids=frozenset({"c-1"}))) == ["o-2"]
        assert since(OrderQuery(updated_since=later + timedelta(microseconds=1))) == []
