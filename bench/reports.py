"""Reports and the leaderboard over a large embedded store (SPEC §2.8, §10): every report under 1 s, the
leaderboard and a month's sales under 100 ms.

    .venv/bin/python bench/reports.py [--orders 1000000] [--runs 5] [--keep DIR]

Generates, straight into a fresh SQLite store: 200 reps in a 3-level tree (4 regional managers, 20 area
managers, 10 reps each), 5,000 dealers, 2,000 products and `--orders` orders over the 12 months before the
clock, 1–5 lines each, in a realistic state mix (mostly delivered and invoiced, some open, a few held, rejected
or cancelled). Users, dealers and products go through the use cases; the orders, their sales buckets
(computed with the same `crm_domain.sales.delta_rows` the commits use), the performance tallies and credit
running totals are bulk-inserted with `executemany`. Then it times each report through `Crm.reports` (every
sales grouping over the 12 months, a month's sales by day and by rep, a manager's team, credit exposure, credit
holds, a dealer's statement) and the leaderboard, p50 of `--runs` runs each, and checks the buckets agree with
a recomputation (`crm reports check`) on small runs.
"""

from __future__ import annotations

import argparse
import functools
import platform
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src")]

from adapters.phones import PhonenumbersNormaliser  # noqa: E402
from adapters.sqlite import SqliteStore  # noqa: E402
from adapters.sqlite.order_document import order_row  # noqa: E402
from adapters.system import FixedClock, UlidGenerator  # noqa: E402
from crm_domain.app import Crm  # noqa: E402
from crm_domain.config import DomainConfig  # noqa: E402
from crm_domain.money import Money  # noqa: E402
from crm_domain.orders import COUNTED, RESERVING, Channel, Order, OrderLine, OrderStatus, StatusChange  # noqa: E402
from crm_domain.performance import period_of  # noqa: E402
from crm_domain.pricing import price_line  # noqa: E402
from crm_domain.products import Product  # noqa: E402
from crm_domain.reports import SalesFilter, SalesGroup  # noqa: E402
from crm_domain.sales import SalesMove, SalesState, delta_rows  # noqa: E402
from crm_domain.services.context import ServiceContext  # noqa: E402
from crm_domain.services.customers import NewCustomer  # noqa: E402
from crm_domain.services.users import NewUser  # noqa: E402
from crm_domain.users import Actor, Role  # noqa: E402

S = OrderStatus
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
MIX = [
    (S.DELIVERED, 40),
    (S.INVOICED, 25),
    (S.DISPATCHED, 8),
    (S.CONFIRMED, 10),
    (S.SUBMITTED, 10),
    (S.CANCELLED, 4),
    (S.ON_CREDIT_HOLD, 2),
    (S.REJECTED, 1),
]
CHUNK = 20_000
_UPSERT = (
    "INSERT INTO sales_buckets (sku, day, status, customer_id, rep_id, currency, orders, quantity, net, tax, total) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sku, day, status, customer_id, rep_id, currency) DO UPDATE "
    "SET orders = orders + excluded.orders, quantity = quantity + excluded.quantity, net = net + excluded.net, "
    "tax = tax + excluded.tax, total = total + excluded.total"
)


def inr(amount: str | int) -> Money:
    return Money.of(amount, "INR")


class World:
    def __init__(self, path: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.clock = FixedClock(NOW)
        self.ids = UlidGenerator()
        self.store = SqliteStore(path, clock=self.clock, ids=self.ids)
        self.config = DomainConfig()
        self.crm = Crm(
            ServiceContext(
                uow=self.store, clock=self.clock, ids=self.ids, mobiles=PhonenumbersNormaliser(), config=self.config
            )
        )
        self.admin = self.crm.users.create_admin("+919800000000", "Bench Admin").actor()
        self._mobile = 1

    def user(self, name: str, role: Role, manager: Actor | None) -> Actor:
        self._mobile += 1
        new = NewUser(
            mobile=f"+9198{self._mobile:08d}",
            name=name,
            roles=frozenset({role}),
            manager_id=manager.id if manager else None,
        )
        return self.crm.users.create(self.admin, new).actor()


def people(world: World) -> tuple[list[Actor], list[Actor], list[Actor]]:
    regions, areas, reps = [], [], []
    for r in range(4):
        region = world.user(f"Region {r}", Role.SALES_MANAGER, None)
        regions.append(region)
        for a in range(5):
            area = world.user(f"Area {r}.{a}", Role.SALES_MANAGER, region)
            areas.append(area)
            reps.extend(world.user(f"Rep {r}.{a}.{n}", Role.SALES_REP, area) for n in range(10))
    return regions, areas, reps


def catalogue(world: World, count: int) -> list[Product]:
    rng = world.rng
    products = [
        Product(
            sku=f"SKU-{i:05d}",
            name=f"Product {i}",
            unit_price=Money(rng.randrange(50_00, 25_000_00), "INR"),
            tax_rate=Decimal(rng.choice([5, 12, 18, 28])),
            updated_at=NOW,
        )
        for i in range(count)
    ]
    with world.store() as uow:
        uow.products.upsert_many(products)
        uow.commit()
    return products


def dealers(world: World, reps: list[Actor], count: int) -> list[tuple[str, str]]:
    """(customer id, rep id) of `count` dealers, spread over the reps and 20 territories."""
    out = []
    for i in range(count):
        rep = reps[i % len(reps)]
        new = NewCustomer(
            code=f"D{i:05d}",
            name=f"Dealer {i}",
            mobile=f"+9197{i:08d}",
            credit_limit=inr(world.rng.choice([200_000, 500_000, 1_000_000, 5_000_000])),
            territory=f"T{i % 20:02d}",
            assigned_rep_id=rep.id,
        )
        out.append((world.crm.customers.create(world.admin, new).customer.id, rep.id))
    return out


@functools.cache
def _line(product: Product, quantity: int) -> OrderLine:
    """A priced line (lines are immutable values: one per product and quantity is shared)."""
    amount = Decimal(quantity)
    priced = price_line(amount, product.unit_price, Decimal(0), product.tax_rate)
    return OrderLine(
        sku=product.sku, name=product.name, uom=product.uom, quantity=amount, discount_pct=Decimal(0),
        unit_price=product.unit_price, tax_rate=product.tax_rate, net=priced.net, tax=priced.tax, total=priced.total,
    )  # fmt: skip


def make_order(world: World, n: int, customer: tuple[str, str], products: list[Product], status: OrderStatus) -> Order:
    rng = world.rng
    at = NOW - timedelta(seconds=rng.randrange(1, 365 * 86_400))
    lines = [_line(product, rng.randint(1, 20)) for product in rng.sample(products, rng.randint(1, 5))]
    held = status in (S.ON_CREDIT_HOLD, S.REJECTED)
    return Order(
        id=f"O{n:08d}",
        number=f"SO-B-{n:08d}",
        customer_id=customer[0],
        created_by=customer[1],
        channel=Channel.FIELD_APP,
        currency="INR",
        lines=tuple(lines),
        status=status,
        rep_id=customer[1],
        history=[StatusChange(from_status=None, to_status=S.DRAFT, actor_id=customer[1], at=at)],
        created_at=at,
        updated_at=at,
        submitted_at=None if held else at,
        held_at=at if held else None,
    )


def orders(world: World, count: int, customers: list[tuple[str, str]], products: list[Product]) -> dict[str, int]:
    """Bulk-insert the orders with their buckets, performance tallies and credit running totals."""
    statuses = [s for s, w in MIX for _ in range(w)]
    tz = world.config.tz
    tallies: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    open_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    conn = world.store.connect()
    conn.execute("BEGIN")
    made = 0
    while made < count:
        batch = []
        for n in range(made, min(made + CHUNK, count)):
            order = make_order(world, n, world.rng.choice(customers), products, world.rng.choice(statuses))
            batch.append(order)
        conn.executemany(
            "INSERT INTO orders (id, number, customer_id, status, rep_id, created_at, held_at, version, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [order_row(o) for o in batch],
        )
        moves = [SalesMove(o, SalesState(status=S.DRAFT, at=None, rep_id=None)) for o in batch]
        conn.executemany(_UPSERT, delta_rows(moves, tz))
        for o in batch:
            if o.status in COUNTED and o.submitted_at is not None and o.rep_id:
                tally = tallies[o.rep_id, period_of(o.submitted_at, tz)]
                tally[0] += o.total.minor
                tally[1] += 1
            if o.status in RESERVING:
                open_totals[o.customer_id][o.status is S.DISPATCHED] += o.total.minor
        made += len(batch)
        print(f"\r  orders: {made:,}", end="", file=sys.stderr)
    print(file=sys.stderr)
    conn.executemany(
        "INSERT INTO performance (user_id, period, currency, amount, orders) VALUES (?, ?, 'INR', ?, ?)",
        [(user, period, amount, n) for (user, period), (amount, n) in tallies.items()],
    )
    conn.executemany(
        "UPDATE credit_accounts SET open_total = ?, dispatched_total = ? WHERE customer_id = ?",
        [(o, d, cid) for cid, (o, d) in open_totals.items()],
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    return {s.value: 0 for s in S}


def p50(runs: int, call: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--dealers", type=int, default=5_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Build the store in this directory and leave it there.")
    parser.add_argument("--reuse", type=Path, help="Time the reports on a store left by --keep (no generation).")
    args = parser.parse_args()
    if args.reuse:
        crm, admin, regions, reps, customers = reuse(args.reuse / "crm.db")
        print(f"machine: {platform.machine()} {platform.system()}, Python {platform.python_version()}; {args.reuse}")
        time_reports(crm, admin, regions, reps, customers, args)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="crm-bench-reports-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run removes its store too
    try:
        crm, admin, regions, reps, customers = generate(args, folder)
        time_reports(crm, admin, regions, reps, customers, args)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def generate(
    args: argparse.Namespace, folder: Path
) -> tuple[Crm, Actor, list[Actor], list[Actor], list[tuple[str, str]]]:
    folder.mkdir(parents=True, exist_ok=True)
    world = World(folder / "crm.db", seed=15)
    started = time.perf_counter()
    regions, _areas, reps = people(world)
    products = catalogue(world, args.products)
    customers = dealers(world, reps, args.dealers)
    orders(world, args.orders, customers, products)
    generated = time.perf_counter() - started
    print(
        f"machine: {platform.machine()} {platform.system()}, Python {platform.python_version()}; "
        f"{args.orders:,} orders, {len(reps)} reps, {args.dealers:,} dealers, {args.products:,} products "
        f"generated in {generated:.0f} s ({(folder / 'crm.db').stat().st_size / 1e6:.0f} MB)"
    )
    return world.crm, world.admin, regions, reps, customers


def reuse(path: Path) -> tuple[Crm, Actor, list[Actor], list[Actor], list[tuple[str, str]]]:
    clock, ids = FixedClock(NOW), UlidGenerator()
    store = SqliteStore(path, clock=clock, ids=ids)
    crm = Crm(ServiceContext(uow=store, clock=clock, ids=ids, mobiles=PhonenumbersNormaliser()))
    conn = store.connect()

    def user(name: str) -> Actor:
        (user_id,) = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
        found = crm.users.find(user_id)
        assert found is not None
        return found.actor()

    customer = conn.execute("SELECT id, assigned_rep_id FROM customers ORDER BY code LIMIT 1").fetchone()
    return crm, user("Bench Admin"), [user("Region 0")], [user("Rep 0.0.0")], [(customer[0], customer[1])]


def time_reports(
    crm: Crm,
    admin: Actor,
    regions: list[Actor],
    reps: list[Actor],
    customers: list[tuple[str, str]],
    args: argparse.Namespace,
) -> None:
    year = (date(2025, 12, 1), date(2026, 11, 30))
    month = (date(2026, 11, 1), date(2026, 11, 30))
    cases: list[tuple[str, Callable[[], Any], float]] = []
    for group in SalesGroup:
        flt = SalesFilter(start=year[0], end=year[1], group_by=group)
        cases.append((f"sales 12 months by {group.value}", lambda f=flt: crm.reports.sales(admin, f), 1000))
    for group in (SalesGroup.DAY, SalesGroup.REP, SalesGroup.CUSTOMER):
        flt = SalesFilter(start=month[0], end=month[1], group_by=group)
        cases.append((f"sales of a month by {group.value}", lambda f=flt: crm.reports.sales(admin, f), 100))
    team = SalesFilter(start=year[0], end=year[1], group_by=SalesGroup.CUSTOMER)
    cases.append(
        ("sales 12 months, a regional manager's team, by customer", lambda: crm.reports.sales(regions[0], team), 1000)
    )
    rep_month = SalesFilter(start=month[0], end=month[1], group_by=SalesGroup.DAY)
    cases.append(("sales of a month, one rep, by day", lambda: crm.reports.sales(reps[0], rep_month), 100))
    cases.append(("credit exposure (all dealers)", lambda: crm.reports.credit_exposure(admin), 1000))
    cases.append(("credit holds (all)", lambda: crm.reports.credit_holds(admin), 1000))
    customer_id = customers[0][0]
    cases.append(("statement of one dealer, 12 months", lambda: crm.reports.statement(admin, customer_id, *year), 1000))
    cases.append(("leaderboard of a month (200 reps)", lambda: crm.performance.leaderboard(admin, "2026-11"), 100))
    print(f"| what | p50 of {args.runs} (ms) | target (ms) | rows |")
    print("|---|---|---|---|")
    for name, call, target in cases:
        ms, result = p50(args.runs, call)
        rows = len(getattr(result, "rows", None) or getattr(result, "lines", None) or result or [])
        flag = "" if ms < target else " **over**"
        print(f"| {name} | {ms:.1f}{flag} | < {target:.0f} | {rows:,} |")
    if args.orders <= 200_000:
        ms, check = p50(1, lambda: crm.reports.check(admin))
        print(f"check (recompute from every order): agrees={check.agrees} in {ms / 1000:.1f} s")


if __name__ == "__main__":
    main()
