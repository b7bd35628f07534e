"""InteractionRepository: the call log — round trips, one customer's calls newest first, keyset pages, and
`updated_since` (the calls logged since)."""

from __future__ import annotations

import pytest

from crm_domain.errors import DuplicateKey, ValidationFailed
from crm_domain.interactions import CallOutcome, Direction, Interaction
from crm_domain.ports import UnitOfWorkFactory
from crm_domain.records import PageRequest
from tests.contract.builders import at, forged_cursors, read, walk, write


def a_call(
    id: str = "i-1", *, customer_id: str = "c-1", minutes: float = 0, order_id: str | None = "o-1"
) -> Interaction:
    return Interaction(
        id=id,
        customer_id=customer_id,
        agent_id="u-agent",
        at=at(minutes),
        direction=Direction.OUT,
        outcome=CallOutcome.CALLBACK,
        note="wants a call back on Monday\nabout the pump price",
        order_id=order_id,
    )


class TestInteractionRoundTrip:
    def test_every_field_comes_back(self, store: UnitOfWorkFactory) -> None:
        call = a_call()
        bare = Interaction(id="i-2", customer_id="c-1", agent_id="u-2", at=at(1), direction="in", outcome="no_answer")
        write(store, lambda uow: (uow.interactions.add(call), uow.interactions.add(bare)))

        assert read(store, lambda uow: uow.interactions.page("c-1", PageRequest())).items == [bare, call]

    def test_adding_an_id_twice_is_a_duplicate(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.interactions.add(a_call()))

        with pytest.raises(DuplicateKey), store() as uow:
            uow.interactions.add(a_call(minutes=3))

    def test_nothing_is_kept_without_commit(self, store: UnitOfWorkFactory) -> None:
        with store() as uow:
            uow.interactions.add(a_call())

        assert read(store, lambda uow: uow.interactions.page("c-1", PageRequest())).items == []


class TestCallsOfACustomer:
    def test_newest_first_then_by_id_descending_and_only_that_customer(self, store: UnitOfWorkFactory) -> None:
        calls = [
            a_call("i-3", minutes=5),
            a_call("i-1", minutes=9),
            a_call("i-2", minutes=5),
            a_call("i-4", minutes=1),
            a_call("i-5", customer_id="c-2"),
        ]
        write(store, lambda uow: [uow.interactions.add(c) for c in calls])

        page = read(store, lambda uow: uow.interactions.page("c-1", PageRequest()))
        assert [c.id for c in page.items] == ["i-1", "i-3", "i-2", "i-4"]
        assert page.next_cursor is None
        assert [c.id for c in read(store, lambda uow: uow.interactions.page("c-9", PageRequest())).items] == []

    @pytest.mark.parametrize("limit", [1, 2, 3, 7])
    def test_pages_walk_every_call_once_in_order(self, store: UnitOfWorkFactory, limit: int) -> None:
        calls = [a_call(f"i-{n:02d}", minutes=n // 2) for n in range(7)]
        write(store, lambda uow: [uow.interactions.add(c) for c in calls])

        walked = read(store, lambda uow: walk(lambda p: uow.interactions.page("c-1", p), limit))

        assert [c.id for c in walked] == [c.id for c in sorted(calls, key=lambda c: (c.at, c.id), reverse=True)]

    @pytest.mark.parametrize("limit", [1, 2, 7])
    def test_updated_since_keeps_the_calls_logged_at_or_after_it(self, store: UnitOfWorkFactory, limit: int) -> None:
        calls = [
            a_call("i-3", minutes=5),
            a_call("i-1", minutes=9),
            a_call("i-2", minutes=5),
            a_call("i-4", minutes=1),
            a_call("i-5", customer_id="c-2", minutes=9),
        ]
        write(store, lambda uow: [uow.interactions.add(c) for c in calls])

        def since(minutes: float) -> list[str]:
            found = read(
                store, lambda uow: walk(lambda p: uow.interactions.page("c-1", p, updated_since=at(minutes)), limit)
            )
            return [c.id for c in found]

        assert since(5) == ["i-1", "i-3", "i-2"]  # at the instant counts; only that customer
        assert since(5.001) == ["i-1"]
        assert since(0) == ["i-1", "i-3", "i-2", "i-4"]
        assert since(10) == []

    def test_a_forged_cursor_is_refused(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.interactions.add(a_call()))
        for cursor in forged_cursors([1, "i-1"]):
            with pytest.raises(ValidationFailed), store(read_only=True) as uow:
                uow.interactions.page("c-1", PageRequest(cursor=cursor))
