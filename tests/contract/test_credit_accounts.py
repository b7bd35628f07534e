"""CreditAccountRepository: one account per customer with its reservations, saved optimistically."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from crm_domain.credit import CreditAccount, Reservation, ReservationNotLoaded, ReservationStage
from crm_domain.credit_governance import Approval
from crm_domain.errors import ConcurrentUpdate, DuplicateKey
from crm_domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import a_reservation, an_account, at, inr, read, write


def _stored(store: UnitOfWorkFactory, customer_id: str = "c-1") -> CreditAccount:
    account = read(store, lambda uow: uow.credit.get(customer_id))
    assert account is not None
    return account


def _part(store: UnitOfWorkFactory, *orders: str, customer_id: str = "c-1") -> CreditAccount:
    """The account read (in a unit of work of its own) with the reservations of `orders` only."""
    account = read(store, lambda uow: uow.credit.get(customer_id, orders=orders))
    assert account is not None
    return account


def _totals(account: CreditAccount) -> tuple[int, int, int]:
    return account.open_orders, account.dispatched, account.reserved


def _summed(reservations: dict[str, Reservation]) -> tuple[int, int, int]:
    open_ = sum(r.amount for r in reservations.values() if r.stage is ReservationStage.OPEN)
    dispatched = sum(r.amount for r in reservations.values() if r.stage is ReservationStage.DISPATCHED)
    return open_, dispatched, open_ + dispatched


# an_account(): o-1 open 125.00, o-2 dispatched 300.50, o-3 open 99.99 (by a release)
OPEN, DISPATCHED = 125_00 + 99_99, 300_50


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
        by, why, when = "u-controller", "annual review", at(60)
        ok = Approval(request_id="r-1", requested_by="u-manager", approved_by=by)  # a second person approved
        account.set_limit(inr(2_000_000_00), by=by, reason=why, at=when, approval=ok)
        account.set_temporary_limit(None, None, by=by, reason=why, at=when, approval=ok)
        account.set_tolerance("0", by=by, reason=why, at=when)
        account.unblock(by=by, reason=why, at=when, approval=ok)
        account.set_overdue_block(None, by=by, reason=why, at=when, approval=ok)
        account.update_balance(inr(-500_00), 0, when)

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
        ok = Approval(request_id="r-1", requested_by="u-manager", approved_by="u-controller")
        account.set_temporary_limit(
            inr(9_00), date(2027, 1, 15), by="u-controller", reason="festival", at=at(1), approval=ok
        )

        write(store, lambda uow: uow.credit.save(account))

        assert _stored(store).temp_limit_until == date(2027, 1, 15)


class TestReadingSomeOrders:
    def test_an_account_read_for_one_order_has_that_reservation_and_every_total(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        account = _part(store, "o-2")

        assert account.reservations == {"o-2": an_account().reservations["o-2"]}
        assert account.loaded == frozenset({"o-2"})
        assert _totals(account) == (OPEN, DISPATCHED, OPEN + DISPATCHED)
        assert attrs.evolve(account, reservations=an_account().reservations, loaded=None) == an_account()

    def test_an_account_read_for_several_orders_has_theirs_only(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        account = _part(store, "o-3", "o-1", "o-unknown")

        assert set(account.reservations) == {"o-1", "o-3"}
        assert account.reservations == {o: an_account().reservations[o] for o in ("o-1", "o-3")}
        assert account.loaded == frozenset({"o-1", "o-3", "o-unknown"})
        assert _totals(account) == (OPEN, DISPATCHED, OPEN + DISPATCHED)

    def test_an_order_without_a_reservation_or_none_at_all_reads_no_reservation(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        for orders in (("o-new",), ()):
            account = _part(store, *orders)
            assert (account.reservations, account.loaded) == ({}, frozenset(orders))
            assert _totals(account) == (OPEN, DISPATCHED, OPEN + DISPATCHED)

    def test_the_orders_may_be_any_iterable(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        account = read(store, lambda uow: uow.credit.get("c-1", orders=(o for o in ["o-1"])))

        assert account is not None
        assert set(account.reservations) == {"o-1"}

    def test_an_unknown_customer_has_no_account_either(self, store: UnitOfWorkFactory) -> None:
        assert read(store, lambda uow: uow.credit.get("c-unknown", orders=["o-1"])) is None

    def test_a_partly_read_account_refuses_other_orders(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _part(store, "o-1")

        with pytest.raises(ReservationNotLoaded):
            account.release("o-2")
        assert _totals(account) == (OPEN, DISPATCHED, OPEN + DISPATCHED)


class TestSavingAPartlyReadAccount:
    def _check_whole(self, store: UnitOfWorkFactory, expected: dict[str, Reservation]) -> CreditAccount:
        stored = _stored(store)
        assert stored.reservations == expected
        assert _totals(stored) == _summed(expected)
        assert stored.loaded is None
        return stored

    def test_a_new_reservation_is_added_to_the_others(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _part(store, "o-new")
        account.reserve("o-new", inr(77_00), at(9))

        write(store, lambda uow: uow.credit.save(account))

        stored = self._check_whole(
            store, {**an_account().reservations, "o-new": a_reservation("o-new", 77_00, minutes=9)}
        )
        assert (stored.version, account.version) == (4, 4)
        assert _totals(stored) == (OPEN + 77_00, DISPATCHED, OPEN + DISPATCHED + 77_00)

    def test_a_release_drops_that_reservation_only(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _part(store, "o-2")
        assert account.release("o-2") == 300_50

        write(store, lambda uow: uow.credit.save(account))

        expected = dict(an_account().reservations)
        del expected["o-2"]
        assert _totals(self._check_whole(store, expected)) == (OPEN, 0, OPEN)

    def test_a_dispatch_moves_that_reservation_only(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = _part(store, "o-3")
        account.mark_dispatched("o-3")

        write(store, lambda uow: uow.credit.save(account))

        expected = dict(an_account().reservations)
        expected["o-3"] = attrs.evolve(expected["o-3"], stage=ReservationStage.DISPATCHED)
        assert _totals(self._check_whole(store, expected)) == (125_00, DISPATCHED + 99_99, OPEN + DISPATCHED)

    def test_several_changes_in_one_unit_of_work_that_read_it(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        def step(uow: UnitOfWork) -> None:
            account = uow.credit.get("c-1", orders=["o-1", "o-4"])
            assert account is not None
            account.release("o-1")
            account.reserve("o-4", inr(4_00), at(4))
            uow.credit.save(account)
            again = uow.credit.get("c-1", orders=["o-4"])
            assert again is not None
            assert again.reservations == {"o-4": a_reservation("o-4", 4_00, minutes=4)}
            again.mark_dispatched("o-4")
            uow.credit.save(again)

        write(store, step)

        expected = {o: r for o, r in an_account().reservations.items() if o != "o-1"}
        expected["o-4"] = a_reservation("o-4", 4_00, minutes=4, stage=ReservationStage.DISPATCHED)
        assert self._check_whole(store, expected).version == 5

    def test_partial_and_whole_reads_mixed_in_one_unit_of_work(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        def step(uow: UnitOfWork) -> None:
            whole = uow.credit.get("c-1")
            part = uow.credit.get("c-1", orders=["o-2"])
            assert whole is not None and part is not None
            whole.release("o-1")  # the whole account is saved after a partial read of the same version
            uow.credit.save(whole)
            part = uow.credit.get("c-1", orders=["o-3"])
            whole = uow.credit.get("c-1")
            assert part is not None and whole is not None
            part.release("o-3")  # and a partial one after a whole read of the same version
            uow.credit.save(part)

        write(store, step)

        self._check_whole(store, {"o-2": an_account().reservations["o-2"]})

    def test_a_partial_save_after_a_narrower_read_of_the_same_version(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        def step(uow: UnitOfWork) -> None:
            wide = uow.credit.get("c-1", orders=["o-1", "o-2"])
            narrow = uow.credit.get("c-1", orders=["o-1"])
            assert wide is not None and narrow is not None
            wide.release("o-2")
            wide.mark_dispatched("o-1")
            uow.credit.save(wide)

        write(store, step)

        self._check_whole(
            store,
            {
                "o-1": a_reservation("o-1", 125_00, stage=ReservationStage.DISPATCHED),
                "o-3": an_account().reservations["o-3"],
            },
        )

    def test_a_partly_read_account_saved_elsewhere_changes_only_its_orders(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: (uow.credit.add(an_account("c-1")), uow.credit.add(an_account("c-2"))))
        account = _part(store, "o-1", "o-2", "o-5")
        account.release("o-1")
        account.mark_dispatched("o-2")  # already dispatched: no change
        account.reserve("o-5", inr(5_00), at(5))
        account.receivables = 1

        write(store, lambda uow: uow.credit.save(account))

        expected = {o: r for o, r in an_account().reservations.items() if o != "o-1"}
        expected["o-5"] = a_reservation("o-5", 5_00, minutes=5)
        assert self._check_whole(store, expected).receivables == 1
        assert _stored(store, "c-2") == an_account("c-2")
        assert [a.reserved for a in read(store, lambda uow: uow.credit.list_all())] == [
            _summed(expected)[2],
            OPEN + DISPATCHED,
        ]

    def test_a_stale_partial_copy_is_a_concurrent_update(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        mine, theirs = _part(store, "o-1"), _part(store, "o-9")
        theirs.reserve("o-9", inr(9_00), at(9))
        write(store, lambda uow: uow.credit.save(theirs))

        mine.release("o-1")
        with pytest.raises(ConcurrentUpdate), store() as uow:
            uow.credit.save(mine)

        expected = {**an_account().reservations, "o-9": a_reservation("o-9", 9_00, minutes=9)}
        self._check_whole(store, expected)
        assert mine.version == 3

    def test_a_rolled_back_partial_save_leaves_everything_as_it_was(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        with store() as uow:
            account = uow.credit.get("c-1", orders=["o-1"])
            assert account is not None
            account.release("o-1")
            uow.credit.save(account)
            uow.rollback()
            again = uow.credit.get("c-1", orders=["o-1", "o-5"])
            assert again is not None
            assert set(again.reservations) == {"o-1"}
            again.reserve("o-5", inr(5_00), at(5))
            uow.credit.save(again)
            uow.commit()

        self._check_whole(store, {**an_account().reservations, "o-5": a_reservation("o-5", 5_00, minutes=5)})
