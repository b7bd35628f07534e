"""UnitOfWork: one atomic step. Nothing is kept unless `commit()` is called before the block ends."""

from __future__ import annotations

import pytest

from crm_domain.errors import DuplicateKey
from crm_domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import a_customer, a_product, a_user, an_account, an_order, read, write


class Boom(Exception):
    pass


def _everything(uow: UnitOfWork) -> None:
    uow.users.add(a_user())
    uow.customers.add(a_customer())
    uow.credit.add(an_account())
    uow.products.add(a_product())
    uow.orders.add(an_order())
    uow.orders.next_number(2026)


def _nothing_stored(store: UnitOfWorkFactory) -> None:
    with store(read_only=True) as uow:
        assert uow.users.get("u-1") is None
        assert uow.customers.get("c-1") is None
        assert uow.credit.get("c-1") is None
        assert uow.products.get("PUMP-1") is None
        assert uow.orders.get("o-1") is None


class TestCommit:
    def test_committed_work_is_seen_by_the_next_unit_of_work(self, store: UnitOfWorkFactory) -> None:
        write(store, _everything)

        with store(read_only=True) as uow:
            assert uow.users.get("u-1") is not None
            assert uow.credit.get("c-1") == an_account()
            assert uow.orders.get("o-1") == an_order()
        assert write(store, lambda uow: uow.orders.next_number(2026)) == 2

    def test_a_unit_of_work_sees_its_own_uncommitted_writes(self, store: UnitOfWorkFactory) -> None:
        with store() as uow:
            _everything(uow)
            assert uow.orders.get("o-1") == an_order()
            assert uow.credit.get("c-1") == an_account()

    def test_work_after_a_commit_needs_another_commit(self, store: UnitOfWorkFactory) -> None:
        with store() as uow:
            uow.products.add(a_product("P-1"))
            uow.commit()
            uow.products.add(a_product("P-2"))

        assert read(store, lambda uow: uow.products.get("P-1")) == a_product("P-1")
        assert read(store, lambda uow: uow.products.get("P-2")) is None

    def test_a_read_only_unit_of_work_cannot_commit(self, store: UnitOfWorkFactory) -> None:
        with store(read_only=True) as uow:
            uow.products.add(a_product())
            with pytest.raises(RuntimeError):
                uow.commit()

        assert read(store, lambda uow: uow.products.get("PUMP-1")) is None


class TestNothingKeptWithoutCommit:
    def test_uncommitted_work_is_gone_after_the_block(self, store: UnitOfWorkFactory) -> None:
        with store() as uow:
            _everything(uow)

        _nothing_stored(store)
        assert write(store, lambda uow: uow.orders.next_number(2026)) == 1

    def test_an_exception_discards_the_work(self, store: UnitOfWorkFactory) -> None:
        def fail() -> None:
            with store() as uow:
                _everything(uow)
                raise Boom

        with pytest.raises(Boom):
            fail()

        _nothing_stored(store)

    def test_rollback_discards_and_the_unit_of_work_goes_on(self, store: UnitOfWorkFactory) -> None:
        with store() as uow:
            _everything(uow)
            uow.rollback()
            assert uow.orders.get("o-1") is None
            uow.products.add(a_product("P-after"))
            uow.commit()

        _nothing_stored(store)
        assert read(store, lambda uow: uow.products.get("P-after")) == a_product("P-after")

    def test_a_failed_write_does_not_undo_the_earlier_ones(self, store: UnitOfWorkFactory) -> None:
        with store() as uow:
            uow.products.add(a_product("P-1"))
            with pytest.raises(DuplicateKey):
                uow.products.add(a_product("P-1"))
            uow.products.add(a_product("P-2"))
            uow.commit()

        assert read(store, lambda uow: uow.products.get("P-2")) == a_product("P-2")
        assert read(store, lambda uow: uow.products.get("P-1")) == a_product("P-1")

    def test_changing_a_returned_object_changes_nothing_stored(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        with store() as uow:
            account = uow.credit.get("c-1")
            assert account is not None
            account.reservations.clear()
            account.limit = 1
            uow.commit()

        assert read(store, lambda uow: uow.credit.get("c-1")) == an_account()

    def test_units_of_work_one_after_another_on_one_thread(self, store: UnitOfWorkFactory) -> None:
        for i in range(20):
            write(store, lambda uow: uow.products.add(a_product(f"P-{i}")))  # noqa: B023
            with store() as uow:
                uow.products.add(a_product(f"X-{i}"))

        found = read(store, lambda uow: [uow.products.get(f"P-{i}") is not None for i in range(20)])
        assert all(found)
        assert read(store, lambda uow: uow.products.get("X-0")) is None
