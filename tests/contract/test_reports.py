"""ReportRepository: the sales buckets (moved with the orders at commit), held orders and the ERP ledger."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import attrs

from crm_domain.orders import OrderStatus
from crm_domain.ports import UnitOfWork, UnitOfWorkFactory
from crm_domain.reports import Dimension, HeldOrder, LedgerEntry, LedgerKind, SalesQuery, SalesTotal
from crm_domain.sales import SalesFigures, SalesKey, buckets_of
from crm_domain.users import Actor, Role
from tests.contract.builders import an_order, at, inr, read, write

S = OrderStatus
DAY = date(2026, 11, 2)  # T0 (15:00 India time) falls on it
COUNTED = frozenset({S.SUBMITTED, S.CONFIRMED})


def key(
    *,
    day: date = DAY,
    status: OrderStatus = S.SUBMITTED,
    customer: str = "c-1",
    rep: str = "u-1",
    sku: str = "",
    currency: str = "INR",
) -> SalesKey:
    return SalesKey(day=day, status=status, customer_id=customer, rep_id=rep, sku=sku, currency=currency)


def figures(orders: int = 1, total: int = 100_00) -> SalesFigures:
    return SalesFigures(orders=orders, quantity=1000 * orders, net=total - total // 10, tax=total // 10, total=total)


def query(dimension: Dimension = Dimension.DAY, **fields: object) -> SalesQuery:
    base: dict[str, object] = {
        "start": DAY - timedelta(days=31),
        "end": DAY + timedelta(days=31),
        "statuses": COUNTED,
        "dimension": dimension,
    }
    return SalesQuery(**{**base, **fields})  # type: ignore[arg-type]


def totals(store: UnitOfWorkFactory, q: SalesQuery) -> list[tuple[str, int, int]]:
    found: list[SalesTotal] = read(store, lambda uow: uow.reports.totals(q))
    return [(t.key, t.figures.orders, t.figures.total) for t in found]


class TestBuckets:
    def test_deltas_add_up_and_subtract(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.reports.apply({key(): figures(1, 100_00)}))
        write(store, lambda uow: uow.reports.apply({key(): figures(2, 250_00)}))
        write(store, lambda uow: uow.reports.apply({key(): -figures(1, 100_00)}))

        assert totals(store, query()) == [("2026-11-02", 2, 250_00)]

    def test_sums_by_each_dimension_with_filters(self, store: UnitOfWorkFactory) -> None:
        write(
            store,
            lambda uow: uow.reports.apply(
                {
                    key(): figures(1, 100),
                    key(day=DAY + timedelta(days=1), customer="c-2", rep="u-2"): figures(1, 200),
                    key(status=S.CONFIRMED, customer="c-2"): figures(1, 400),
                    key(status=S.ON_CREDIT_HOLD): figures(1, 800),
                    key(sku="PUMP-1"): figures(1, 60),
                    key(sku="VALVE-2", customer="c-2"): figures(1, 40),
                }
            ),
        )

        assert totals(store, query(Dimension.DAY)) == [("2026-11-02", 2, 500), ("2026-11-03", 1, 200)]
        assert totals(store, query(Dimension.CUSTOMER)) == [("c-1", 1, 100), ("c-2", 2, 600)]
        assert totals(store, query(Dimension.REP)) == [("u-1", 2, 500), ("u-2", 1, 200)]
        assert totals(store, query(Dimension.SKU, lines=True)) == [("PUMP-1", 1, 60), ("VALVE-2", 1, 40)]
        assert totals(store, query(Dimension.SKU, lines=True, skus=frozenset({"VALVE-2"}))) == [("VALVE-2", 1, 40)]
        assert totals(store, query(Dimension.DAY, customer_ids=frozenset({"c-2"}))) == [
            ("2026-11-02", 1, 400),
            ("2026-11-03", 1, 200),
        ]
        assert totals(store, query(Dimension.DAY, rep_ids=frozenset({"u-2"}))) == [("2026-11-03", 1, 200)]
        assert totals(store, query(Dimension.DAY, statuses=frozenset({S.ON_CREDIT_HOLD}))) == [("2026-11-02", 1, 800)]
        assert totals(store, query(Dimension.DAY, start=DAY + timedelta(days=1))) == [("2026-11-03", 1, 200)]
        assert totals(store, query(Dimension.DAY, end=DAY)) == [("2026-11-02", 2, 500)]
        assert totals(store, query(Dimension.DAY, customer_ids=frozenset())) == []

    def test_currencies_are_kept_apart(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.reports.apply({key(): figures(1, 100), key(currency="USD"): figures(1, 7)}))

        found = read(store, lambda uow: uow.reports.totals(query(Dimension.CUSTOMER)))

        assert [(t.key, t.currency, t.figures.total) for t in found] == [("c-1", "INR", 100), ("c-1", "USD", 7)]

    def test_buckets_leave_out_zeros_and_replace_swaps_them_all(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.reports.apply({key(): figures(1, 100), key(customer="c-2"): figures(1, 5)}))
        write(store, lambda uow: uow.reports.apply({key(customer="c-2"): -figures(1, 5)}))

        assert read(store, lambda uow: uow.reports.buckets()) == {key(): figures(1, 100)}

        write(store, lambda uow: uow.reports.replace_buckets({key(customer="c-3"): figures(3, 30)}))

        assert read(store, lambda uow: uow.reports.buckets()) == {key(customer="c-3"): figures(3, 30)}

    def test_products_over_whole_and_partial_months_sum_every_day(self, store: UnitOfWorkFactory) -> None:
        # A year by product: the embedded store answers whole months from its monthly roll-up and the partial
        # months at either end from the daily buckets; every store must give the same sums.
        days = [date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 14), date(2026, 3, 1), date(2026, 3, 31)]
        days += [date(2026, 4, 15), date(2026, 12, 31), date(2027, 1, 1)]
        write(
            store,
            lambda uow: uow.reports.apply(
                {key(day=d, sku="PUMP-1", customer=f"c-{i}"): figures(1, 10 * (i + 1)) for i, d in enumerate(days)}
                | {key(day=date(2026, 2, 14), sku="VALVE-2"): figures(2, 7)}
            ),
        )
        write(
            store,
            lambda uow: uow.reports.apply({key(day=date(2026, 3, 1), sku="PUMP-1", customer="c-3"): -figures(1, 40)}),
        )

        def by_product(start: date, end: date) -> list[tuple[str, int, int]]:
            return totals(
                store, SalesQuery(start=start, end=end, statuses=COUNTED, dimension=Dimension.SKU, lines=True)
            )

        def expected(start: date, end: date) -> int:
            return sum(10 * (i + 1) for i, d in enumerate(days) if start <= d <= end and i != 3)

        for start, end in [
            (date(2026, 1, 1), date(2026, 12, 31)),  # twelve whole months
            (date(2026, 1, 2), date(2026, 12, 30)),  # partial months at both ends
            (date(2026, 1, 31), date(2026, 3, 1)),  # one whole month between two partial ones
            (date(2026, 2, 1), date(2026, 2, 28)),  # one whole month
            (date(2026, 2, 2), date(2026, 2, 27)),  # no whole month
            (date(2026, 3, 31), date(2027, 1, 1)),
        ]:
            found = {sku: (orders, total) for sku, orders, total in by_product(start, end)}
            assert found.get("PUMP-1", (0, 0))[1] == expected(start, end), (start, end)
            valve = (2, 7) if start <= date(2026, 2, 14) <= end else None
            assert found.get("VALVE-2") == valve, (start, end)
        # A rep's or a customer's products read the daily buckets: the same figures.
        assert totals(
            store,
            SalesQuery(
                start=date(2026, 1, 1),
                end=date(2026, 12, 31),
                statuses=COUNTED,
                dimension=Dimension.SKU,
                lines=True,
                customer_ids=frozenset({"c-0", "c-6"}),
            ),
        ) == [("PUMP-1", 2, 10 + 70)]
        assert read(store, lambda uow: uow.reports.summary_differences()) == 0

    def test_customers_and_reps_over_whole_and_partial_months(self, store: UnitOfWorkFactory) -> None:
        # The embedded store answers whole months by customer or rep from a monthly roll-up, with or without a
        # customer or rep filter; every store must give the sums of the days.
        days = [date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 14), date(2026, 3, 31), date(2026, 4, 1)]
        placed = [(d, f"c-{i % 2}", f"u-{i % 3}", 10**i) for i, d in enumerate(days)]
        write(
            store,
            lambda uow: uow.reports.apply(
                {key(day=d, customer=c, rep=r): figures(1, total) for d, c, r, total in placed}
                | {key(day=date(2026, 2, 14), customer="c-1", rep="u-1", sku="PUMP-1"): figures(1, 99_999)}
            ),
        )

        def found(dimension: Dimension, start: date, end: date, **scope: frozenset[str]) -> dict[str, int]:
            q = SalesQuery(start=start, end=end, statuses=COUNTED, dimension=dimension, **scope)  # type: ignore[arg-type]
            return {k: total for k, _, total in totals(store, q)}

        def expected(start: date, end: date, by_rep: bool, customer: str = "", rep: str = "") -> dict[str, int]:
            out: dict[str, int] = {}
            for d, c, r, total in placed:
                if start <= d <= end and customer in ("", c) and rep in ("", r):
                    out[r if by_rep else c] = out.get(r if by_rep else c, 0) + total
            return out

        for start, end in [
            (date(2026, 1, 1), date(2026, 12, 31)),  # whole months only
            (date(2026, 1, 2), date(2026, 3, 31)),  # a partial month, then whole ones
            (date(2026, 2, 1), date(2026, 2, 28)),  # one whole month
            (date(2026, 2, 2), date(2026, 4, 1)),  # partial, whole, partial
        ]:
            assert found(Dimension.CUSTOMER, start, end) == expected(start, end, False), (start, end)
            assert found(Dimension.REP, start, end) == expected(start, end, True), (start, end)
            only_c1 = found(Dimension.REP, start, end, customer_ids=frozenset({"c-1"}))
            assert only_c1 == expected(start, end, True, customer="c-1"), (start, end)
            only_u0 = found(Dimension.CUSTOMER, start, end, rep_ids=frozenset({"u-0"}))
            assert only_u0 == expected(start, end, False, rep="u-0"), (start, end)
        assert read(store, lambda uow: uow.reports.summary_differences()) == 0

    def test_replaced_buckets_replace_their_roll_up(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.reports.apply({key(day=date(2026, 5, 5), sku="PUMP-1"): figures(4, 400)}))
        write(store, lambda uow: uow.reports.replace_buckets({key(day=date(2026, 5, 6), sku="PIPE-3"): figures(1, 9)}))

        year = SalesQuery(
            start=date(2026, 1, 1), end=date(2026, 12, 31), statuses=COUNTED, dimension=Dimension.SKU, lines=True
        )
        assert totals(store, year) == [("PIPE-3", 1, 9)]
        assert read(store, lambda uow: uow.reports.summary_differences()) == 0

    def test_nothing_is_kept_without_commit(self, store: UnitOfWorkFactory) -> None:
        with store() as uow:
            uow.reports.apply({key(): figures()})

        assert read(store, lambda uow: uow.reports.buckets()) == {}


class TestMovedWithTheOrders:
    def test_an_order_that_moves_moves_its_buckets_in_the_same_commit(self, store: UnitOfWorkFactory) -> None:
        order = an_order(status=S.SUBMITTED)
        write(store, lambda uow: uow.orders.add(order))
        before = read(store, lambda uow: uow.reports.version())

        def confirm(uow: UnitOfWork) -> None:
            stored = uow.orders.get("o-1")
            assert stored is not None
            stored.confirm("4500000001", Actor(id="system", roles=frozenset({Role.ADMIN})), at(10))
            uow.orders.save(stored)

        # An order stored as it is (not moved) adds nothing: count it first as its submit would have.
        assert read(store, lambda uow: uow.reports.buckets()) == {}
        write(store, lambda uow: uow.reports.apply(buckets_of([order], ZoneInfo("Asia/Kolkata"))))
        write(store, confirm)

        buckets = read(store, lambda uow: uow.reports.buckets())
        assert read(store, lambda uow: uow.reports.version()) != before
        assert buckets[key(status=S.CONFIRMED)].total == order.total.minor
        assert buckets[key(status=S.CONFIRMED, sku="PUMP-1")].orders == 1
        assert key(status=S.SUBMITTED) not in buckets  # moved: zero is left out

    def test_a_rolled_back_move_moves_nothing(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.orders.add(an_order(status=S.SUBMITTED)))

        with store() as uow:
            stored = uow.orders.get("o-1")
            assert stored is not None
            stored.cancel(Actor(id="u-1", roles=frozenset({Role.SALES_REP})), "no", at(5))
            uow.orders.save(stored)

        assert read(store, lambda uow: uow.reports.buckets()) == {}


class TestHolds:
    def test_held_orders_oldest_first_and_counted_per_customer(self, store: UnitOfWorkFactory) -> None:
        def add(uow: UnitOfWork) -> None:
            uow.orders.add(an_order("o-1", status=S.ON_CREDIT_HOLD, held_at=at(30)))
            uow.orders.add(an_order("o-2", status=S.ON_CREDIT_HOLD, held_at=at(10), customer_id="c-2"))
            uow.orders.add(an_order("o-3", status=S.ON_CREDIT_HOLD, held_at=at(20)))
            uow.orders.add(an_order("o-4", status=S.SUBMITTED))

        write(store, add)

        assert [o.order_id for o in read(store, lambda uow: uow.reports.holds(None))] == ["o-2", "o-3", "o-1"]
        assert [o.order_id for o in read(store, lambda uow: uow.reports.holds(frozenset({"c-1"})))] == ["o-3", "o-1"]
        assert read(store, lambda uow: uow.reports.hold_counts(None)) == {"c-1": 2, "c-2": 1}
        assert read(store, lambda uow: uow.reports.hold_counts(frozenset({"c-2"}))) == {"c-2": 1}

    def test_a_held_order_reads_as_the_report_shows_it(self, store: UnitOfWorkFactory) -> None:
        with_decision = an_order("o-1", status=S.ON_CREDIT_HOLD, held_at=at(30))
        without = attrs.evolve(an_order("o-2", status=S.ON_CREDIT_HOLD, created_at=at(5)), credit=None)
        write(store, lambda uow: [uow.orders.add(o) for o in (with_decision, without)])

        found = read(store, lambda uow: uow.reports.holds(None))

        assert found == [HeldOrder.of(without), HeldOrder.of(with_decision)]
        assert found[0].held_at == at(5) and found[0].shortfall is None  # never had a hold time: its creation
        assert found[1].total == with_decision.total and found[1].reason == "limit_exceeded"
        assert found[1].shortfall == inr(1168_26)


class TestLedger:
    def test_entries_of_a_customer_before_a_moment_oldest_first(self, store: UnitOfWorkFactory) -> None:
        def entry(id: str, minutes: float, amount: int, customer: str = "c-1") -> LedgerEntry:
            kind = LedgerKind.INVOICE if amount > 0 else LedgerKind.PAYMENT
            return LedgerEntry(id=id, customer_id=customer, at=at(minutes), kind=kind, reference=id, amount=inr(amount))

        entries = [entry("e-2", 20, -50_00), entry("e-1", 10, 120_00), entry("e-3", 30, 7_00), entry("x", 1, 1, "c-2")]
        write(store, lambda uow: [uow.reports.add_entry(e) for e in entries])

        found = read(store, lambda uow: uow.reports.entries("c-1", at(30)))

        assert found == [entries[1], entries[0]]
