"""The embedded store's monthly roll-up of the per-line sales buckets (migration 12): kept by triggers in the same
transaction as the buckets, read for the whole months of an unscoped report by product, filled from the buckets
by the migration, checked by `crm reports check` and rebuilt by `crm reports rebuild`."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from adapters.phones import PhonenumbersNormaliser
from adapters.sqlite import SqliteStore
from adapters.sqlite.reports import whole_months
from adapters.sqlite.schema import MIGRATIONS
from adapters.system import FixedClock, SequentialIds
from crm_domain.app import Crm
from crm_domain.config import DomainConfig
from crm_domain.orders import LineRequest, OrderStatus
from crm_domain.reports import Dimension, SalesQuery
from crm_domain.sales import SalesFigures, SalesKey
from crm_domain.services.context import ServiceContext
from crm_domain.services.orders import NewOrder
from tests.contract.builders import T0, read, write
from tests.unit.world import build_world

S = OrderStatus
COUNTED = frozenset({S.SUBMITTED, S.CONFIRMED})


def line_bucket(day: date, sku: str, total: int, customer: str = "c-1") -> tuple[SalesKey, SalesFigures]:
    key = SalesKey(day=day, status=S.SUBMITTED, customer_id=customer, rep_id="u-1", sku=sku, currency="INR")
    return key, SalesFigures(orders=1, quantity=1000, net=total, tax=0, total=total)


def by_product(store: SqliteStore, start: date, end: date, **scope: frozenset[str]) -> dict[str, int]:
    query = SalesQuery(start=start, end=end, statuses=COUNTED, dimension=Dimension.SKU, lines=True, **scope)
    return {t.key: t.figures.total for t in read(store, lambda uow: uow.reports.totals(query))}


def roll_up(path: Path) -> list[tuple[str, str, str, int]]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.execute("SELECT month, status, sku, total FROM sales_sku_months ORDER BY month, sku"))
    finally:
        conn.close()


def tamper(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(sql)
    finally:
        conn.close()


@given(start=st.dates(date(2020, 1, 1), date(2030, 12, 31)), days=st.integers(0, 800))
def test_whole_months_are_exactly_the_calendar_months_inside_the_range(start: date, days: int) -> None:
    end = start + timedelta(days=days)
    inside = [
        (first, last)
        for first in (start + timedelta(days=n) for n in range(days + 1))
        if first.day == 1
        for last in [(first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)]
        if last <= end
    ]

    found = whole_months(start, end)

    if not inside:
        assert found is None
    else:
        assert found == (inside[0][0], inside[-1][1])


def test_triggers_keep_the_roll_up_with_the_buckets_and_reports_read_it(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "crm.db")
    try:
        write(store, lambda uow: uow.reports.apply(dict([line_bucket(date(2026, 3, 4), "PUMP", 100)])))
        write(store, lambda uow: uow.reports.apply(dict([line_bucket(date(2026, 3, 20), "PUMP", 50, "c-2")])))
        write(store, lambda uow: uow.reports.apply(dict([line_bucket(date(2026, 3, 4), "PUMP", 30)])))
        write(store, lambda uow: uow.reports.apply({SalesKey(
            day=date(2026, 3, 4), status=S.SUBMITTED, customer_id="c-1", rep_id="u-1", sku="", currency="INR"
        ): SalesFigures(orders=1, total=999)}))  # fmt: skip

        assert roll_up(tmp_path / "crm.db") == [("2026-03", "submitted", "PUMP", 180)]  # lines only
        year = (date(2026, 1, 1), date(2026, 12, 31))
        assert by_product(store, *year) == {"PUMP": 180}

        # The roll-up is what answers the whole months: a wrong roll-up shows in the unscoped report (and in the
        # check), not in a customer's, which reads the daily buckets.
        tamper(tmp_path / "crm.db", "UPDATE sales_sku_months SET total = total + 1")
        assert by_product(store, *year) == {"PUMP": 181}
        assert by_product(store, *year, customer_ids=frozenset({"c-1", "c-2"})) == {"PUMP": 180}
        assert by_product(store, date(2026, 3, 2), date(2026, 3, 31)) == {"PUMP": 180}  # no whole month
        assert read(store, lambda uow: uow.reports.summary_differences()) == 1
    finally:
        store.close()


def test_reports_by_customer_rep_and_day_read_their_roll_ups(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "crm.db")
    try:
        whole = SalesKey(day=date(2026, 3, 4), status=S.SUBMITTED, customer_id="c-1", rep_id="u-1", sku="",
                         currency="INR")  # fmt: skip
        write(store, lambda uow: uow.reports.apply({whole: SalesFigures(orders=1, total=100)}))
        write(store, lambda uow: uow.reports.apply(dict([line_bucket(date(2026, 3, 4), "PUMP", 100)])))
        tamper(tmp_path / "crm.db", "UPDATE sales_customer_months SET total = total + 1")

        def by(dimension: Dimension, start: date, end: date, **scope: frozenset[str]) -> dict[str, int]:
            query = SalesQuery(start=start, end=end, statuses=COUNTED, dimension=dimension, **scope)  # type: ignore[arg-type]
            return {t.key: t.figures.total for t in read(store, lambda uow: uow.reports.totals(query))}

        march = (date(2026, 3, 1), date(2026, 3, 31))
        assert by(Dimension.CUSTOMER, *march) == {"c-1": 101}
        assert by(Dimension.REP, *march, customer_ids=frozenset({"c-1"})) == {"u-1": 101}
        assert by(Dimension.CUSTOMER, date(2026, 3, 2), date(2026, 3, 31)) == {"c-1": 100}  # no whole month
        assert by(Dimension.DAY, *march) == {"2026-03-04": 100}  # days: not from this roll-up
        assert read(store, lambda uow: uow.reports.summary_differences()) == 1

        # Days for everyone come from the daily roll-up; a customer's days from the buckets.
        tamper(tmp_path / "crm.db", "UPDATE sales_days SET total = total + 2")
        assert by(Dimension.DAY, date(2026, 3, 4), date(2026, 3, 4)) == {"2026-03-04": 102}
        assert by(Dimension.DAY, *march, customer_ids=frozenset({"c-1"})) == {"2026-03-04": 100}
        assert read(store, lambda uow: uow.reports.summary_differences()) == 2
    finally:
        store.close()


def test_check_finds_a_wrong_roll_up_and_rebuild_mends_it(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    store = SqliteStore(tmp_path / "crm.db", clock=clock)
    try:
        crm = Crm(
            ServiceContext(
                uow=store, clock=clock, ids=SequentialIds(), mobiles=PhonenumbersNormaliser(), config=DomainConfig()
            )
        )
        w = build_world(crm, clock)
        crm.orders.create(
            w.rep,
            NewOrder(customer_id=w.customer.id, lines=(LineRequest(sku="PUMP", quantity=Decimal(1)),), submit=True),
        )
        assert crm.reports.check(w.admin).agrees
        assert roll_up(tmp_path / "crm.db") != []

        tamper(tmp_path / "crm.db", "DELETE FROM sales_sku_months")
        found = crm.reports.check(w.admin)
        assert not found.agrees
        assert found.summaries == 1
        assert not found.differences  # the daily buckets themselves are right

        crm.reports.rebuild(w.admin)
        assert crm.reports.check(w.admin).agrees
    finally:
        store.close()


def test_the_migration_fills_the_roll_up_from_the_buckets_already_stored(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statements in MIGRATIONS[:11]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 11")
        rows = [
            ("PUMP", "2026-03-04", "submitted", "c-1", "u-1", "INR", 1, 1000, 100, 0, 100),
            ("PUMP", "2026-03-30", "submitted", "c-2", "u-2", "INR", 2, 2000, 40, 0, 40),
            ("PUMP", "2026-04-01", "submitted", "c-2", "u-2", "INR", 1, 1000, 5, 0, 5),
            ("", "2026-03-04", "submitted", "c-1", "u-1", "INR", 1, 1000, 100, 0, 100),
        ]
        conn.executemany("INSERT INTO sales_buckets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    finally:
        conn.close()

    store = SqliteStore(path)
    try:
        assert by_product(store, date(2026, 3, 1), date(2026, 4, 30)) == {"PUMP": 145}  # migrates on first use
        assert roll_up(path) == [("2026-03", "submitted", "PUMP", 140), ("2026-04", "submitted", "PUMP", 5)]
        conn = sqlite3.connect(path)
        try:
            customers = list(conn.execute("SELECT month, customer_id, total FROM sales_customer_months"))
        finally:
            conn.close()
        assert customers == [("2026-03", "c-1", 100)]
        assert read(store, lambda uow: uow.reports.summary_differences()) == 0  # every roll-up agrees
    finally:
        store.close()
