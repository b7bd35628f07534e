"""UnitOfWork and the outbox (SPEC §2.7): the events of the aggregates a unit of work adds or saves (orders,
credit accounts) and the events handed to `publish` are written to the outbox by its commit, in the same
transaction; none of them when the work is rolled back or fails. (A failed step of the SQLite batch writer:
tests/integration/test_sqlite_loop_writer.py.)"""

from __future__ import annotations

import pytest

from crm_domain.credit import CreditAccount
from crm_domain.errors import DuplicateKey
from crm_domain.events import UserChanged
from crm_domain.orders import ErpSync, Order
from crm_domain.outbox import OutboxMessage
from crm_domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import a_product, an_account, an_order, at, inr, read, write


def outbox(store: UnitOfWorkFactory) -> list[tuple[str, str, object]]:
    """(event, aggregate id, the payload's telling field) of every pending message, in id order."""
    messages: list[OutboxMessage] = read(store, lambda uow: uow.outbox.due(at(100_000), 1000))
    telling = ("erp_sync", "receivables", "user_id", "kind")
    return [
        (m.event, m.aggregate_id, next(m.payload[k] for k in telling if k in m.payload))
        for m in sorted(messages, key=lambda m: m.id)
    ]


def synced(order: Order, *states: ErpSync) -> Order:
    """`order` with an `order.erp_sync_changed` event recorded for each state."""
    for minute, state in enumerate(states, start=1):
        order.set_erp_sync(state, at(minute))
    return order


def stored_order(uow: UnitOfWork, order_id: str = "o-1") -> Order:
    order = uow.orders.get(order_id)
    assert order is not None
    return order


def stored_account(uow: UnitOfWork) -> CreditAccount:
    account = uow.credit.get("c-1")
    assert account is not None
    return account


@pytest.fixture
def stored(store: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """`store` with order o-1 and the account of c-1, and no message."""
    write(store, lambda uow: (uow.orders.add(an_order()), uow.credit.add(an_account())))
    assert outbox(store) == []
    return store


class TestOnCommit:
    def test_an_added_aggregates_events_are_written_by_the_commit(self, store: UnitOfWorkFactory) -> None:
        order = synced(an_order(), ErpSync.PENDING, ErpSync.SYNCED)

        write(store, lambda uow: uow.orders.add(order))

        assert outbox(store) == [
            ("order.erp_sync_changed", "o-1", "pending"),
            ("order.erp_sync_changed", "o-1", "synced"),
        ]
        assert order.events == []  # pulled by the unit of work

    def test_saved_aggregates_events_go_in_the_order_they_were_stored(self, stored: UnitOfWorkFactory) -> None:
        def step(uow: UnitOfWork) -> None:
            account = stored_account(uow)
            account.update_balance(inr(2500_00), 12, at(5))
            uow.credit.save(account)
            uow.orders.save(synced(stored_order(uow), ErpSync.PENDING))
            uow.publish([UserChanged(occurred_at=at(6), user_id="u-1", active=False, changed_by="u-admin")])

        write(stored, step)

        assert outbox(stored) == [
            ("customer.balance_updated", "c-1", {"amount": "2500.00", "currency": "INR"}),
            ("order.erp_sync_changed", "o-1", "pending"),
            ("user.changed", "", "u-1"),
        ]

    def test_an_aggregate_saved_twice_writes_each_event_once(self, stored: UnitOfWorkFactory) -> None:
        def step(uow: UnitOfWork) -> None:
            order = stored_order(uow)
            uow.orders.save(synced(order, ErpSync.PENDING))
            uow.orders.save(synced(order, ErpSync.FAILED))

        write(stored, step)

        assert outbox(stored) == [
            ("order.erp_sync_changed", "o-1", "pending"),
            ("order.erp_sync_changed", "o-1", "failed"),
        ]

    def test_work_after_a_commit_writes_only_its_own_events(self, stored: UnitOfWorkFactory) -> None:
        with stored() as uow:
            uow.orders.save(synced(stored_order(uow), ErpSync.PENDING))
            uow.commit()
            uow.orders.save(synced(stored_order(uow), ErpSync.SYNCED))
            uow.commit()

        assert [state for _, _, state in outbox(stored)] == ["pending", "synced"]

    def test_an_aggregate_without_events_writes_no_message(self, stored: UnitOfWorkFactory) -> None:
        write(stored, lambda uow: (uow.orders.save(stored_order(uow)), uow.credit.save(stored_account(uow))))

        assert outbox(stored) == []


class TestNotOnRollback:
    def test_work_left_without_a_commit_writes_no_event(self, store: UnitOfWorkFactory) -> None:
        with store() as uow:
            uow.orders.add(synced(an_order(), ErpSync.PENDING))
            uow.publish([UserChanged(occurred_at=at(), user_id="u-1", active=False, changed_by="u-admin")])

        assert outbox(store) == []
        assert read(store, lambda uow: uow.orders.get("o-1")) is None

    def test_a_rollback_drops_the_events_of_the_work_before_it(self, stored: UnitOfWorkFactory) -> None:
        with stored() as uow:
            uow.orders.save(synced(stored_order(uow), ErpSync.PENDING))
            uow.rollback()
            uow.products.add(a_product())
            uow.commit()

        assert outbox(stored) == []
        assert read(stored, lambda uow: uow.products.get("PUMP-1")) is not None

    def test_work_that_fails_part_way_writes_none_of_its_events(self, stored: UnitOfWorkFactory) -> None:
        def step(uow: UnitOfWork) -> None:
            account = stored_account(uow)
            account.update_balance(inr(1_00), 1, at(5))
            uow.credit.save(account)
            uow.orders.add(synced(an_order("o-1"), ErpSync.PENDING))  # o-1 is stored already

        with pytest.raises(DuplicateKey):
            write(stored, step)

        assert outbox(stored) == []
        assert read(stored, stored_account).receivables == an_account().receivables
