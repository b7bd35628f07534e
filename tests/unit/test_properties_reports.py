"""Property test of the reports' aggregates (SPEC §2.8): after random sequences of submits (some held), releases,
rejects, cancels, ERP progress up to invoices and deliveries, and time passing across day and month boundaries in
the company time zone, every sales report (each grouping, several status sets, scoped to a rep and a manager)
equals a naive recomputation from the orders, and `check` finds the buckets in agreement with the orders.

It runs on the memory store and on SQLite (the buckets change in the same transaction as the orders there).
Examples are few and short: each builds a fresh world.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from adapters.phones import PhonenumbersNormaliser
from adapters.sqlite import SqliteStore
from adapters.system import FixedClock, SequentialIds
from crm_domain.app import Crm
from crm_domain.config import DomainConfig
from crm_domain.errors import DomainError
from crm_domain.orders import COUNTED, LineRequest, Order, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from crm_domain.reports import REPORTED, SalesFilter, SalesGroup, week_key
from crm_domain.services.context import ServiceContext
from crm_domain.services.orders import NewOrder
from crm_domain.users import Actor
from tests.unit.world import World, build_world, erp_reports, new_crm

S = OrderStatus
TZ = ZoneInfo("Asia/Kolkata")
#: 22:00 India time on the last day of November: a few hours on, it is December there (but not yet in UTC).
START = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
STATUS_SETS = [COUNTED, frozenset({S.ON_CREDIT_HOLD, S.CANCELLED, S.REJECTED})]
LINES = [("PUMP", "1"), ("PIPE", "2.5"), ("VALVE", "1"), ("AMT", "3000")]


def naive(orders: list[Order], flt: SalesFilter, customer_ids: set[str] | None) -> dict[str, tuple[int, int]]:
    """Orders and totals per report key, straight from the orders."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in orders:
        moment = order.submitted_at or order.held_at
        if order.status is S.DRAFT or moment is None or order.status not in flt.statuses:
            continue
        if customer_ids is not None and order.customer_id not in customer_ids:
            continue
        day = moment.astimezone(TZ).date()
        if not flt.start <= day <= flt.end:
            continue
        if flt.group_by is SalesGroup.PRODUCT:
            for line in order.lines:
                out[line.sku][0] += 1
                out[line.sku][1] += line.total.minor
            continue
        key = {
            SalesGroup.DAY: day.isoformat(),
            SalesGroup.WEEK: week_key(day),
            SalesGroup.MONTH: day.isoformat()[:7],
            SalesGroup.REP: order.rep_id or "",
            SalesGroup.CUSTOMER: order.customer_id,
            SalesGroup.TERRITORY: "Pune",
        }[flt.group_by]
        out[key][0] += 1
        out[key][1] += order.total.minor
    return {k: (v[0], v[1]) for k, v in out.items()}


class ReportMachine(RuleBasedStateMachine):
    store_kind = "memory"

    @initialize()
    def start(self) -> None:
        self.clock = FixedClock(START)
        if self.store_kind == "memory":
            crm = new_crm(self.clock)
        else:
            self._dir = tempfile.TemporaryDirectory()
            ids = SequentialIds()
            store = SqliteStore(Path(self._dir.name) / "crm.db", clock=self.clock, ids=ids)
            self._store = store
            crm = Crm(
                ServiceContext(
                    uow=store, clock=self.clock, ids=ids, mobiles=PhonenumbersNormaliser(), config=DomainConfig()
                )
            )
        self.w: World = build_world(crm, self.clock)
        self.customers = [self.w.customer, self.w.customer2, self.w.outsider]
        self.reps = {
            self.w.customer.id: self.w.rep,
            self.w.customer2.id: self.w.rep2,
            self.w.outsider.id: self.w.other_rep,
        }

    def teardown(self) -> None:
        if self.store_kind == "sqlite" and hasattr(self, "_store"):
            self._store.close()
            self._dir.cleanup()

    # --- operations ----------------------------------------------------------------------------------------

    def _orders(self, status: OrderStatus) -> list[Order]:
        page = self.w.crm.orders.list(self.w.admin, PageRequest(limit=200), OrderQuery(status=status))
        return sorted(page.items, key=lambda o: o.id)

    @rule(customer=st.integers(0, 2), lines=st.sets(st.integers(0, 3), min_size=1, max_size=3), big=st.booleans())
    def submit(self, customer: int, lines: set[int], big: bool) -> None:
        target = self.customers[customer]
        chosen = [LINES[i] for i in sorted(lines)]
        if big:  # past the limit: held
            chosen = [*[line for line in chosen if line[0] != "AMT"], ("AMT", "20000")]
        requests = tuple(LineRequest(sku=sku, quantity=Decimal(q)) for sku, q in chosen)
        self.w.crm.orders.create(self.reps[target.id], NewOrder(customer_id=target.id, lines=requests, submit=True))

    @rule(pick=st.integers(0, 50))
    def draft(self, pick: int) -> None:
        target = self.customers[pick % 3]
        requests = (LineRequest(sku="PUMP", quantity=Decimal(1)),)
        self.w.crm.orders.create(self.reps[target.id], NewOrder(customer_id=target.id, lines=requests))

    @precondition(lambda self: bool(self._orders(S.ON_CREDIT_HOLD)))
    @rule(pick=st.integers(0, 50), release=st.booleans())
    def decide_hold(self, pick: int, release: bool) -> None:
        held = self._orders(S.ON_CREDIT_HOLD)
        order = held[pick % len(held)]
        if release:
            self.w.crm.orders.release(self.w.controller, order.id, "known dealer")
        else:
            self.w.crm.orders.reject(self.w.controller, order.id, "too much")

    @rule(pick=st.integers(0, 50), status=st.sampled_from([S.SUBMITTED, S.ON_CREDIT_HOLD, S.CONFIRMED, S.DRAFT]))
    def cancel(self, pick: int, status: OrderStatus) -> None:
        found = self._orders(status)
        if found:
            self.w.crm.orders.cancel(self.w.admin, found[pick % len(found)].id, "changed mind")

    @rule(pick=st.integers(0, 50), to=st.sampled_from([S.CONFIRMED, S.DISPATCHED, S.INVOICED, S.DELIVERED]))
    def erp_progress(self, pick: int, to: OrderStatus) -> None:
        found = self._orders(S.SUBMITTED) + self._orders(S.CONFIRMED) + self._orders(S.DISPATCHED)
        if found:
            order = found[pick % len(found)]
            with contextlib.suppress(DomainError):  # a step backwards: refused, changes nothing
                erp_reports(self.w.crm, order.id, to)

    @rule(hours=st.integers(1, 40))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    # --- the property --------------------------------------------------------------------------------------

    @invariant()
    def reports_equal_a_recomputation_from_the_orders(self) -> None:
        if not hasattr(self, "w"):
            return
        orders = self.w.crm.orders.list(self.w.admin, PageRequest(limit=200), OrderQuery()).items
        start, end = date(2026, 11, 25), date(2026, 12, 31)
        team = {self.w.customer.id, self.w.customer2.id}
        viewers: list[tuple[Actor, set[str] | None]] = [
            (self.w.admin, None),
            (self.w.manager, team),
            (self.w.rep2, {self.w.customer2.id}),
        ]
        cases = [(g, s, v) for g in SalesGroup for s in STATUS_SETS for v in viewers[:1]]
        cases += [(SalesGroup.CUSTOMER, REPORTED, v) for v in viewers]
        ranges = [(start, end)] * len(cases)
        # Whole months, partial ones and both (the embedded store reads whole months from its roll-ups).
        rolled = [(g, v) for g in (SalesGroup.PRODUCT, SalesGroup.CUSTOMER, SalesGroup.REP) for v in viewers[:2]]
        for first, last in [(date(2026, 12, 1), date(2026, 12, 31)), (date(2026, 11, 1), date(2027, 1, 31))]:
            cases += [(group, COUNTED, viewer) for group, viewer in rolled]
            ranges += [(first, last)] * len(rolled)
        for (group, statuses, (viewer, scope)), (start, end) in zip(cases, ranges, strict=True):
            flt = SalesFilter(start=start, end=end, group_by=group, statuses=statuses)
            report = self.w.crm.reports.sales(viewer, flt)
            got = {row.key: (row.orders, row.total.minor) for row in report.rows}
            assert got == naive(orders, flt, scope), (group, statuses, viewer.id)
            assert report.totals[0].total.minor == sum(t for _, t in got.values())
        assert self.w.crm.reports.check(self.w.admin).agrees


class SqliteReportMachine(ReportMachine):
    store_kind = "sqlite"


_settings = settings(
    max_examples=15,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("machine", [ReportMachine, SqliteReportMachine], ids=["memory", "sqlite"])
def test_reports_agree_with_the_orders(machine: type[ReportMachine]) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(machine, settings=_settings)
