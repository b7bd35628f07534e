"""The running totals of a credit account (open orders, dispatched) and partly read accounts (`loaded`).

Properties (hypothesis, over random sequences of reserve / release / mark_dispatched / submit-like
check-then-reserve on random starting reservations, limits, tolerances and policies):
- on a whole account, `open_total` is always the sum of the open reservations and `dispatched_total` the sum
  of the dispatched ones;
- an account read with only the reservations of the orders the sequence touches (totals from the whole one)
  gives the same check verdicts and return values at every step and ends with the same totals, and its
  reservations are the whole account's for those orders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_domain.credit import CreditAccount, CreditPolicy, Reservation, ReservationNotLoaded, ReservationStage
from crm_domain.money import Money

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TODAY = date(2026, 3, 1)
OPEN, DISPATCHED = ReservationStage.OPEN, ReservationStage.DISPATCHED


def inr(minor: int) -> Money:
    return Money(minor, "INR")


def _reservation(order_id: str, amount: int, stage: ReservationStage = OPEN) -> Reservation:
    return Reservation(order_id=order_id, amount=amount, stage=stage, at=AT)


def _sums(account: CreditAccount) -> tuple[int, int]:
    reservations = account.reservations.values()
    return (
        sum(r.amount for r in reservations if r.stage is OPEN),
        sum(r.amount for r in reservations if r.stage is DISPATCHED),
    )


def _part(whole: CreditAccount, orders: frozenset[str]) -> CreditAccount:
    """`whole` as a store reads it for `orders`: their reservations only, every total."""
    return CreditAccount(
        customer_id=whole.customer_id,
        currency=whole.currency,
        limit=whole.limit,
        tolerance_pct=whole.tolerance_pct,
        receivables=whole.receivables,
        reservations={o: r for o, r in whole.reservations.items() if o in orders},
        open_total=whole.open_total,
        dispatched_total=whole.dispatched_total,
        loaded=orders,
    )


class TestRunningTotals:
    def test_an_account_built_without_totals_sums_its_reservations(self) -> None:
        account = CreditAccount(
            customer_id="c1",
            currency="INR",
            limit=0,
            reservations={
                "o1": _reservation("o1", 300),
                "o2": _reservation("o2", 200, DISPATCHED),
                "o3": _reservation("o3", 50),
            },
        )

        assert (account.open_total, account.dispatched_total) == (350, 200)
        assert (account.open_orders, account.dispatched, account.reserved) == (350, 200, 550)

    def test_given_totals_are_the_figures_without_summing(self) -> None:
        account = CreditAccount(customer_id="c1", currency="INR", limit=0, open_total=700, dispatched_total=40)

        assert (account.open_orders, account.dispatched, account.reserved) == (700, 40, 740)
        assert account.exposure(CreditPolicy(count_receivables=False)) == 740

    def test_reserve_release_and_dispatch_keep_the_totals(self) -> None:
        account = CreditAccount(customer_id="c1", currency="INR", limit=0)
        account.reserve("o1", inr(300), AT)
        account.reserve("o2", inr(200), AT)
        account.mark_dispatched("o2")
        assert (account.open_total, account.dispatched_total) == (300, 200)
        assert account.release("o2") == 200
        assert (account.open_total, account.dispatched_total) == (300, 0)
        assert account.release("o1") == 300
        assert (account.open_total, account.dispatched_total) == (0, 0)


class TestPartlyReadAccount:
    def _account(self) -> CreditAccount:
        whole = CreditAccount(
            customer_id="c1",
            currency="INR",
            limit=1000,
            reservations={"o1": _reservation("o1", 300), "o2": _reservation("o2", 200, DISPATCHED)},
        )
        return _part(whole, frozenset({"o1", "o-new"}))

    @pytest.mark.parametrize(
        "change",
        [
            lambda a: a.reserve("o2", inr(1), AT),
            lambda a: a.reserve("o-other", inr(1), AT),
            lambda a: a.release("o2"),
            lambda a: a.release("o-other"),
            lambda a: a.mark_dispatched("o2"),
        ],
        ids=["reserve-read-elsewhere", "reserve-unread", "release", "release-unread", "mark-dispatched"],
    )
    def test_changing_an_order_it_was_not_read_with_raises_and_changes_nothing(
        self, change: Callable[[CreditAccount], object]
    ) -> None:
        account = self._account()
        before = (dict(account.reservations), account.open_total, account.dispatched_total)

        with pytest.raises(ReservationNotLoaded) as raised:
            change(account)

        assert isinstance(raised.value, RuntimeError)
        assert raised.value.customer_id == "c1"
        assert "read it with that order" in str(raised.value)
        assert (dict(account.reservations), account.open_total, account.dispatched_total) == before

    def test_the_orders_it_was_read_with_work_as_on_a_whole_account(self) -> None:
        account = self._account()

        assert not account.reserve("o1", inr(5), AT)
        assert account.reserve("o-new", inr(100), AT)
        account.mark_dispatched("o1")
        assert account.release("o-new") == 100

        assert (account.open_orders, account.dispatched) == (0, 500)
        assert account.check(inr(500), CreditPolicy(), TODAY).approved
        assert not account.check(inr(501), CreditPolicy(), TODAY).approved

    def test_it_cannot_hold_a_reservation_of_an_order_it_was_not_read_with(self) -> None:
        with pytest.raises(ValueError, match="not read with"):
            CreditAccount(
                customer_id="c1",
                currency="INR",
                limit=0,
                reservations={"o1": _reservation("o1", 1)},
                loaded=frozenset({"o2"}),
            )


# --- properties -------------------------------------------------------------------------------------------------

order_ids = st.sampled_from([f"o{i}" for i in range(8)])
amounts = st.integers(min_value=0, max_value=50_000)
stages = st.sampled_from([OPEN, DISPATCHED])
starts = st.dictionaries(order_ids, st.tuples(amounts, stages), max_size=6)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), order_ids, amounts),
        st.tuples(st.just("release"), order_ids, st.just(0)),
        st.tuples(st.just("dispatch"), order_ids, st.just(0)),
        st.tuples(st.just("submit"), order_ids, amounts),
    ),
    max_size=30,
)
policies = st.sampled_from(
    [CreditPolicy(), CreditPolicy(count_dispatched=False), CreditPolicy(count_open_orders=False)]
)


def _whole(
    start: dict[str, tuple[int, ReservationStage]], limit: int, tolerance: str, receivables: int
) -> CreditAccount:
    return CreditAccount(
        customer_id="c1",
        currency="INR",
        limit=limit,
        tolerance_pct=Decimal(tolerance),
        receivables=receivables,
        reservations={o: _reservation(o, amount, stage) for o, (amount, stage) in start.items()},
    )


def _apply(account: CreditAccount, op: tuple[str, str, int], policy: CreditPolicy) -> object:
    kind, order_id, amount = op
    if kind == "reserve":
        return account.reserve(order_id, inr(amount), AT)
    if kind == "release":
        return account.release(order_id)
    if kind == "dispatch":
        account.mark_dispatched(order_id)
        return None
    check = account.check(inr(amount), policy, TODAY)  # a submit: the check, then the reservation if it fits
    return check, check.approved and account.reserve(order_id, inr(amount), AT)


class TestRunningTotalProperties:
    @given(
        start=starts,
        ops=operations,
        policy=policies,
        limit=st.integers(0, 200_000),
        tolerance=st.sampled_from(["0", "5", "12.5"]),
    )
    def test_the_totals_are_the_sums_of_the_reservations_by_stage(
        self,
        start: dict[str, tuple[int, ReservationStage]],
        ops: list[tuple[str, str, int]],
        policy: CreditPolicy,
        limit: int,
        tolerance: str,
    ) -> None:
        account = _whole(start, limit, tolerance, 0)
        assert (account.open_total, account.dispatched_total) == _sums(account)

        for op in ops:
            _apply(account, op, policy)
            assert (account.open_total, account.dispatched_total) == _sums(account)
            assert account.reserved == sum(_sums(account))

    @given(
        start=starts,
        ops=operations,
        policy=policies,
        limit=st.integers(0, 200_000),
        tolerance=st.sampled_from(["0", "5", "12.5"]),
        receivables=st.integers(-10_000, 100_000),
    )
    def test_a_partly_read_account_decides_and_ends_as_the_whole_one(
        self,
        start: dict[str, tuple[int, ReservationStage]],
        ops: list[tuple[str, str, int]],
        policy: CreditPolicy,
        limit: int,
        tolerance: str,
        receivables: int,
    ) -> None:
        whole = _whole(start, limit, tolerance, receivables)
        touched = frozenset(order_id for _, order_id, _ in ops)
        part = _part(whole, touched)

        for op in ops:
            assert _apply(part, op, policy) == _apply(whole, op, policy)
            assert (part.open_total, part.dispatched_total) == (whole.open_total, whole.dispatched_total)

        assert part.exposure(policy) == whole.exposure(policy)
        assert part.reservations == {o: r for o, r in whole.reservations.items() if o in touched}
        assert (whole.open_total, whole.dispatched_total) == _sums(whole)
