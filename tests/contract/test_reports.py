"""ReportRepository: the sales buckets (moved with the orders at commit), held orders and the ERP ledger."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from crm_domain.orders import OrderStatus
from crm_domain.ports import UnitOfWork, UnitOfWorkFactory
from crm_domain.reports import Dimension, LedgerEntry, LedgerKind, SalesQuery, SalesTotal
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

        assert [o.id for o in read(store, lambda uow: uow.reports.holds(None))] == ["o-2", "o-3", "o-1"]
        assert [o.id for o in read(store, lambda uow: uow.reports.holds(frozenset({"c-1"})))] == ["o-3", "o-1"]
        assert read(store, lambda uow: uow.reports.hold_counts(None)) == {"c-1": 2, "c-2": 1}
        assert read(store, lambda uow: uow.reports.hold_counts(frozenset({"c-2"}))) == {"c-2": 1}


class TestLedger:
    def test_entries_of_a_customer_before_a_moment_oldest_first(self, store: UnitOfWorkFactory) -> None:
        def entry(id: str, minutes: float, amount: int, customer: str = "c-1") -> LedgerEntry:
            kind = LedgerKind.INVOICE if amount > 0 else LedgerKind.PAYMENT
            return LedgerEntry(id=id, customer_id=customer, at=at(minutes), kind=kind, reference=id, amount=inr(amount))

        entries = [entry("e-2", 20, -50_00), entry("e-1", 10, 120_00), entry("e-3", 30, 7_00), entry("x", 1, 1, "c-2")]
        write(store, lambda uow: [uow.reports.add_entry(e) for e in entries])

        found = read(store, lambda uow: uow.reports.entries("c-1", at(30)))

        assert found == [entries[1], entries[0]]
