"""CreditAccountRepository: one account per customer with its reservations, saved optimistically."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm_domain.credit import CreditAccount, ReservationStage
from crm_domain.errors import ConcurrentUpdate, DuplicateKey
from crm_domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import a_reservation, an_account, at, inr, read, write


def _stored(store: UnitOfWorkFactory, customer_id: str = "c-1") -> CreditAccount:
    account = read(store, lambda uow: uow.credit.get(customer_id))
    assert account is not None
    return account


class TestAccountRoundTrip:
    def test_get_returns_every_field_and_reservation_as_added(self, store: UnitOfWorkFactory) -> None:
        account = an_account()
        write(store, lambda uow: uow.credit.add(account))

        assert _stored(store) == account

    def test_an_account_with_defaults_round_trips(self, store: UnitOfWorkFactory) -> None:
        account = CreditAccount(customer_id="c-2", currency="INR", limit=0)
        write(store, lambda uow: uow.credit.add(account))

        assert _stored(store, "c-2") == account

    def test_an_unknown_customer_has_no_account(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        assert read(store, lambda uow: uow.credit.get("c-unknown")) is None

    def test_adding_a_second_account_for_a_customer_is_a_duplicate(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        with pytest.raises(DuplicateKey) as raised, store() as uow:
            uow.credit.add(an_account(reservations=[]))

        assert (raised.value.kind, raised.value.field, raised.value.value) == ("credit account", "customer_id", "c-1")
        assert _stored(store) == an_account()

    def test_list_all_holds_every_account_by_customer_id(self, store: UnitOfWorkFactory) -> None:
        accounts = [an_account("c-3"), an_account("c-1", reservations=[]), an_account("c-2")]
        write(store, lambda uow: [uow.credit.add(a) for a in accounts])

        assert read(store, lambda uow: uow.credit.list_all()) == sorted(accounts, key=lambda a: a.customer_id)


class TestOptimisticSave:
    def test_save_bumps_the_version_on_the_object_and_in_the_store(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _stored(store)

        write(store, lambda uow: uow.credit.save(account))

        assert account.version == 4
        assert _stored(store).version == 4

    def test_saving_a_stale_copy_is_a_concurrent_update(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        mine, theirs = _stored(store), _stored(store)
        theirs.receivables = 1
        write(store, lambda uow: uow.credit.save(theirs))

        mine.receivables = 2
        with pytest.raises(ConcurrentUpdate), store() as uow:
            uow.credit.save(mine)

        assert _stored(store).receivables == 1
        assert mine.version == 3

    def test_saving_an_account_that_was_never_added_is_a_concurrent_update(self, store: UnitOfWorkFactory) -> None:
        with pytest.raises(ConcurrentUpdate), store() as uow:
            uow.credit.save(an_account())

        assert read(store, lambda uow: uow.credit.get("c-1")) is None

    def test_two_saves_in_one_unit_of_work_both_count(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account(reservations=[])))

        def step(uow: UnitOfWork) -> None:
            account = uow.credit.get("c-1")
            assert account is not None
            account.reserve("o-1", inr(100_00), at())
            uow.credit.save(account)
            again = uow.credit.get("c-1")
            assert again is not None
            again.reserve("o-2", inr(50_00), at(1))
            uow.credit.save(again)

        write(store, step)

        stored = _stored(store)
        assert stored.version == 5
        assert set(stored.reservations) == {"o-1", "o-2"}

    def test_every_term_is_saved(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _stored(store)
        account.set_limit(inr(2_000_000_00))
        account.set_temporary_limit(None, None)
        account.set_tolerance("0")
        account.unblock()
        account.overdue_block_days = None
        account.update_balance(inr(-500_00), 0)
        account.updated_at = at(60)

        write(store, lambda uow: uow.credit.save(account))

        assert _stored(store) == account
        assert (account.tolerance_pct, account.temp_limit_until) == (Decimal(0), None)


class TestReservationsAreSaved:
    def test_a_new_reservation_is_kept(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _stored(store)
        account.reserve("o-new", inr(77_00), at(9))

        write(store, lambda uow: uow.credit.save(account))

        assert _stored(store).reservations == account.reservations
        assert _stored(store).reservations["o-new"] == a_reservation("o-new", 77_00, minutes=9)

    def test_a_released_reservation_is_gone(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _stored(store)
        account.release("o-2")

        write(store, lambda uow: uow.credit.save(account))

        assert set(_stored(store).reservations) == {"o-1", "o-3"}

    def test_a_changed_stage_is_kept(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _stored(store)
        account.mark_dispatched("o-1")

        write(store, lambda uow: uow.credit.save(account))

        assert _stored(store).reservations["o-1"].stage is ReservationStage.DISPATCHED

    def test_releasing_everything_leaves_no_reservation(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _stored(store)
        for order_id in list(account.reservations):
            account.release(order_id)

        write(store, lambda uow: uow.credit.save(account))

        assert _stored(store).reservations == {}
        assert _stored(store).reserved == 0

    def test_reservations_of_other_customers_are_untouched(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: (uow.credit.add(an_account("c-1")), uow.credit.add(an_account("c-2"))))
        account = _stored(store, "c-1")
        account.release("o-1")

        write(store, lambda uow: uow.credit.save(account))

        assert _stored(store, "c-2") == an_account("c-2")

    def test_an_account_saved_from_a_copy_read_elsewhere_keeps_its_reservations(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _stored(store)  # read in another unit of work than the one that saves it
        account.release("o-1")
        account.reserve("o-4", inr(1_00), at(4))

        write(store, lambda uow: uow.credit.save(account))

        assert set(_stored(store).reservations) == {"o-2", "o-3", "o-4"}

    def test_a_rolled_back_save_leaves_the_reservations_as_they_were(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        with store() as uow:
            account = uow.credit.get("c-1")
            assert account is not None
            account.release("o-1")
            uow.credit.save(account)
            uow.rollback()
            again = uow.credit.get("c-1")
            assert again is not None
            again.reserve("o-5", inr(5_00), at(5))
            uow.credit.save(again)
            uow.commit()

        assert set(_stored(store).reservations) == {"o-1", "o-2", "o-3", "o-5"}

    def test_a_temporary_limit_date_round_trips(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _stored(store)
        account.set_temporary_limit(inr(9_00), date(2027, 1, 15))

        write(store, lambda uow: uow.credit.save(account))

        assert _stored(store).temp_limit_until == date(2027, 1, 15)
