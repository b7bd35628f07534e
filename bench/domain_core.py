"""Credit check + totals in the domain core, on one core, no store (SPEC §10: at least 50,000 orders/s).

    .venv/bin/python bench/domain_core.py [--orders 200000] [--lines 3] [--rounds 3]

Per order: price each line from its product (quantity × price, discount, tax, rounded half-up), sum the
order's totals, check the customer's credit (exposure from the running totals, effective limit, tolerance,
temporary limit, overdue block) and reserve the amount when approved. 200 customers with open reservations
already, 50 products, lines of 1 to 10 units with and without discounts: the numbers and their variety of the
HTTP benchmark. Prints orders/s per round and the best; one process, one thread.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from crm_domain.credit import CreditAccount, CreditPolicy, Reservation
from crm_domain.money import Money
from crm_domain.orders import LineRequest, OrderLine
from crm_domain.products import Product

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)


def catalogue() -> list[Product]:
    return [
        Product(
            sku=f"SKU-{i:03d}",
            name=f"Product {i}",
            unit_price=Money.of(Decimal(100 + i * 7) + Decimal("0.35"), "INR"),
            tax_rate=Decimal(18 if i % 3 else 12),
            updated_at=AT,
        )
        for i in range(50)
    ]


def accounts() -> list[CreditAccount]:
    made = []
    for i in range(200):
        reservations = {
            f"open-{i}-{j}": Reservation(order_id=f"open-{i}-{j}", amount=50_000_00, at=AT) for j in range(5)
        }
        made.append(
            CreditAccount(
                customer_id=f"c-{i}",
                currency="INR",
                limit=10**12,
                tolerance_pct=Decimal("5.00"),
                temp_limit=None if i % 4 else 2 * 10**12,
                temp_limit_until=date(2026, 12, 31),
                overdue_block_days=45,
                receivables=1_000_000_00,
                overdue_days=i % 30,
                reservations=reservations,
                open_total=sum(r.amount for r in reservations.values()),
                version=1,
                updated_at=AT,
            )
        )
    return made


def orders(products: list[Product], count: int, lines: int) -> list[list[tuple[LineRequest, Product]]]:
    """`count` orders of `lines` lines each, built before timing (the HTTP layer's work, not the domain's)."""
    made = []
    for n in range(count):
        chosen = []
        for k in range(lines):
            product = products[(n * 7 + k * 13) % len(products)]
            discount = Decimal(5) if (n + k) % 3 == 0 else Decimal(0)
            chosen.append(
                (LineRequest(sku=product.sku, quantity=Decimal(1 + (n + k) % 10), discount_pct=discount), product)
            )
        made.append(chosen)
    return made


def run(work: list[list[tuple[LineRequest, Product]]], books: list[CreditAccount]) -> tuple[float, int]:
    policy = CreditPolicy()
    approved = 0
    started = time.perf_counter()
    for n, requested in enumerate(work):
        priced = [OrderLine.priced(request, product) for request, product in requested]
        total = Money.zero("INR")
        for line in priced:
            total = total + line.total
        account = books[n % len(books)]
        check = account.check(total, policy, TODAY)
        if check.approved:
            account.reserve(f"o-{n}", total, AT)
            approved += 1
    return time.perf_counter() - started, approved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    products = catalogue()
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores (pinned to one), Python {platform.python_version()}; "
        f"orders={args.orders} lines={args.lines}"
    )
    best = 0.0
    for round_no in range(1, args.rounds + 1):
        work = orders(products, args.orders, args.lines)
        books = accounts()
        gc.collect()
        seconds, approved = run(work, books)
        rate = args.orders / seconds
        best = max(best, rate)
        print(f"round {round_no}: {rate:,.0f} orders/s ({seconds:.2f} s, {approved} approved)")
    verdict = "met" if best >= 50_000 else "NOT met"
    print(f"best {best:,.0f} orders/s; target at least 50,000 orders/s on one core -> {verdict}")


if __name__ == "__main__":
    main()
