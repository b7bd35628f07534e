"""PerformanceRepository: running totals per (user, month, currency) that `add` moves up and down."""

from __future__ import annotations

from crm_domain.performance import Achieved
from crm_domain.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.builders import read, write


def _achieved(user_id: str, amount: int, orders: int, period: str = "2026-11", currency: str = "INR") -> Achieved:
    return Achieved(user_id=user_id, period=period, currency=currency, amount=amount, orders=orders)


class TestRunningTotals:
    def test_adds_accumulate(self, store: UnitOfWorkFactory) -> None:
        write(
            store,
            lambda uow: uow.performance.add(user_id="u-1", period="2026-11", currency="INR", amount=100_00, orders=1),
        )
        write(
            store,
            lambda uow: uow.performance.add(user_id="u-1", period="2026-11", currency="INR", amount=250_50, orders=2),
        )

        assert read(store, lambda uow: uow.performance.achieved("2026-11")) == [_achieved("u-1", 350_50, 3)]

    def test_negative_values_subtract(self, store: UnitOfWorkFactory) -> None:
        write(
            store,
            lambda uow: uow.performance.add(user_id="u-1", period="2026-11", currency="INR", amount=300_00, orders=3),
        )

        write(
            store,
            lambda uow: uow.performance.add(user_id="u-1", period="2026-11", currency="INR", amount=-100_00, orders=-1),
        )

        assert read(store, lambda uow: uow.performance.achieved("2026-11")) == [_achieved("u-1", 200_00, 2)]

    def test_several_adds_in_one_unit_of_work_accumulate(self, store: UnitOfWorkFactory) -> None:
        write(
            store,
            lambda uow: [
                uow.performance.add(user_id="u-1", period="2026-11", currency="INR", amount=10, orders=1)
                for _ in range(5)
            ],
        )

        assert read(store, lambda uow: uow.performance.achieved("2026-11")) == [_achieved("u-1", 50, 5)]

    def test_users_months_and_currencies_are_kept_apart(self, store: UnitOfWorkFactory) -> None:
        def step(uow: UnitOfWork) -> None:
            uow.performance.add(user_id="u-2", period="2026-11", currency="INR", amount=5, orders=1)
            uow.performance.add(user_id="u-1", period="2026-11", currency="USD", amount=7, orders=1)
            uow.performance.add(user_id="u-1", period="2026-11", currency="INR", amount=3, orders=1)
            uow.performance.add(user_id="u-1", period="2026-12", currency="INR", amount=11, orders=1)

        write(store, step)

        assert read(store, lambda uow: uow.performance.achieved("2026-11")) == [
            _achieved("u-1", 3, 1),
            _achieved("u-1", 7, 1, currency="USD"),
            _achieved("u-2", 5, 1),
        ]
        assert read(store, lambda uow: uow.performance.achieved("2026-12")) == [_achieved("u-1", 11, 1, "2026-12")]
        assert read(store, lambda uow: uow.performance.achieved("2027-01")) == []

    def test_achieved_of_some_users_leaves_the_others_out(self, store: UnitOfWorkFactory) -> None:
        write(
            store,
            lambda uow: [
                uow.performance.add(user_id=u, period="2026-11", currency="INR", amount=1, orders=1)
                for u in ["u-1", "u-2", "u-3"]
            ],
        )

        found = read(store, lambda uow: uow.performance.achieved("2026-11", frozenset({"u-3", "u-2", "u-9"})))

        assert [a.user_id for a in found] == ["u-2", "u-3"]
        assert read(store, lambda uow: uow.performance.achieved("2026-11", frozenset())) == []

    def test_a_total_can_return_to_zero(self, store: UnitOfWorkFactory) -> None:
        write(
            store,
            lambda uow: uow.performance.add(user_id="u-1", period="2026-11", currency="INR", amount=100, orders=1),
        )
        write(
            store,
            lambda uow: uow.performance.add(user_id="u-1", period="2026-11", currency="INR", amount=-100, orders=-1),
        )

        assert read(store, lambda uow: uow.performance.achieved("2026-11")) == [_achieved("u-1", 0, 0)]
