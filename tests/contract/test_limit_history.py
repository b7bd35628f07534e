"""LimitHistoryRepository: every change of a customer's credit terms, oldest first."""

from __future__ import annotations

import attrs

from crm_domain.ports import UnitOfWorkFactory
from tests.contract.builders import a_limit_change, read, write


class TestLimitHistory:
    def test_a_change_round_trips(self, store: UnitOfWorkFactory) -> None:
        change = a_limit_change()
        bare = attrs.evolve(a_limit_change("lc-2", minutes=1), kind="block", old=None, new=None, request_id=None)
        write(store, lambda uow: (uow.limit_history.add(change), uow.limit_history.add(bare)))

        assert read(store, lambda uow: uow.limit_history.list_for("c-1")) == [change, bare]

    def test_changes_of_a_customer_come_oldest_first_then_by_id(self, store: UnitOfWorkFactory) -> None:
        changes = [
            a_limit_change("lc-3", minutes=5),
            a_limit_change("lc-1", minutes=9),
            a_limit_change("lc-2", minutes=5),
            a_limit_change("lc-4", minutes=1),
            a_limit_change("lc-5", customer_id="c-2"),
        ]
        write(store, lambda uow: [uow.limit_history.add(c) for c in changes])

        assert [c.id for c in read(store, lambda uow: uow.limit_history.list_for("c-1"))] == [
            "lc-4",
            "lc-2",
            "lc-3",
            "lc-1",
        ]
        assert [c.id for c in read(store, lambda uow: uow.limit_history.list_for("c-2"))] == ["lc-5"]
        assert read(store, lambda uow: uow.limit_history.list_for("c-9")) == []
