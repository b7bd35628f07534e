"""What the sales buckets cost each order's commit on the embedded store, with and without the monthly
roll-ups that triggers keep (migration 12, decision 0022).

    .venv/bin/python bench/sales_buckets.py [--orders 2000] [--rounds 3] [--prefill 200000]

Two fresh stores with `synchronous = NORMAL` (no sync per commit, so this measures CPU, not the disk), one with
the roll-ups' triggers and one with them dropped, both pre-filled with `--prefill` bucket rows over a year. Then,
alternating between them round by round, `--orders` commits each move an order of three lines from `submitted`
to `confirmed` (eight bucket rows, four out and four in, as `record_moves` writes them, and the aggregates'
version) and, as the baseline, as many commits that write the version only. Prints the process CPU time per
commit (min and median over the rounds).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src")]

from adapters.sqlite import SqliteStore  # noqa: E402
from adapters.sqlite.reports import _BUMP, _UPSERT, ROLL_UPS  # noqa: E402
from crm_domain.ports import UnitOfWork  # noqa: E402

START = date(2026, 1, 1)
SKUS = [f"SKU-{n:04d}" for n in range(2000)]


def order_rows(rng: random.Random) -> list[tuple[object, ...]]:
    """The eight bucket rows of one order of three lines moving from submitted to confirmed; four orders in five
    were submitted in the last 30 days, the rest any day of the year."""
    day = (START + timedelta(days=rng.randrange(365) if rng.random() < 0.2 else 334 + rng.randrange(30))).isoformat()
    customer, rep = f"C{rng.randrange(5000):05d}", f"R{rng.randrange(200):03d}"
    rows: list[tuple[object, ...]] = []
    skus = rng.sample(SKUS, 3)
    for sign, status in ((-1, "submitted"), (1, "confirmed")):
        for sku in [*skus, ""]:
            amount = sign * rng.randrange(1_000, 100_000)
            rows.append((sku, day, status, customer, rep, "INR", sign, sign * 1000, amount, 0, amount))
    return rows


def prefill(store: SqliteStore, rows: int, rng: random.Random) -> None:
    def step(uow: UnitOfWork) -> None:
        session = uow.reports._s  # type: ignore[attr-defined]  # the bench writes rows straight to SQL
        for _ in range(rows // 8):
            session.executemany(_UPSERT, [(*r[:6], 1, 1000, 500, 0, 500) for r in order_rows(rng)])

    with store() as uow:
        step(uow)
        uow.commit()


def commits(store: SqliteStore, orders: int, rng: random.Random, buckets: bool) -> float:
    """Process CPU seconds per commit."""
    started = time.process_time()
    for _ in range(orders):
        with store() as uow:
            session = uow.reports._s  # type: ignore[attr-defined]
            if buckets:
                session.executemany(_UPSERT, order_rows(rng))
            session.execute(_BUMP)  # what every bucket change writes besides: the baseline writes it alone
            uow.commit()
    return (time.process_time() - started) / orders


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prefill", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stores = {}
        for name in ("roll-up", "no roll-up"):
            store = SqliteStore(Path(tmp) / name.replace(" ", "-") / "crm.db", synchronous="NORMAL")
            if name == "no roll-up":
                with store() as uow:
                    for roll_up in ROLL_UPS:
                        for event in ("insert", "update"):
                            uow.reports._s.execute(f"DROP TRIGGER {roll_up.table}_{event}")  # type: ignore[attr-defined]
                    uow.commit()
            prefill(store, args.prefill, random.Random(7))
            stores[name] = store
        results: dict[str, list[float]] = {"roll-up": [], "no roll-up": [], "no buckets": []}
        rng = random.Random(11)
        for _ in range(args.rounds):
            for name, store in stores.items():
                results[name].append(commits(store, args.orders, rng, buckets=True))
            results["no buckets"].append(commits(stores["no roll-up"], args.orders, rng, buckets=False))
        for store in stores.values():
            store.close()
    print(f"{args.orders} commits x {args.rounds} rounds, {args.prefill:,} bucket rows before; CPU per commit:")
    for name, times in results.items():
        print(f"  {name:>11}: min {min(times) * 1e6:6.1f} us, median {statistics.median(times) * 1e6:6.1f} us")


if __name__ == "__main__":
    main()
