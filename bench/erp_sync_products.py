"""Bulk sync of products from the sandbox ERP into the embedded SQLite store (SPEC §10: 100,000 in under 20 s).

    .venv/bin/python bench/erp_sync_products.py [--products 100000] [--batch 1000]

Seeds a fresh sandbox ERP with N products (not timed), then runs `crm erp sync products --erp sandbox` in this
process against a fresh SQLite store under a temporary data dir: pages of `--batch` products read from the
sandbox, each applied in one unit of work (read the batch's SKUs, build and validate products, upsert the new or
changed ones), the cursor of every finished batch written to the sync state file. Prints the seconds of the
first sync (every product created) and of a second one (every product unchanged), with the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crm-bench-sync-") as tmp:
        os.environ.update({"CRM_DATA_DIR": tmp, "COLUMNS": "120"})
        for name in ("CRM_DATABASE_URL", "CRM_REDIS_URL", "CRM_ENV"):
            os.environ.pop(name, None)

        from adapters.erp.sandbox import SandboxErpGateway
        from crm_domain.erp import ErpProduct
        from crm_domain.money import Money
        from crm_domain.records import PageRequest
        from entrypoints.cli.context import OPERATOR, container
        from entrypoints.cli.main import main as crm

        sandbox = container().erp.for_system("sandbox")
        assert isinstance(sandbox, SandboxErpGateway)
        started = time.perf_counter()
        chunk = 10_000
        for first in range(0, args.products, chunk):
            sandbox.put_products(
                [
                    ErpProduct(
                        sku=f"SKU-{i:07d}",
                        erp_material_id=f"MAT-{i:07d}",
                        name=f"Product {i}",
                        uom="EA",
                        unit_price=Money(100 + i % 50_000, "INR"),
                        tax_rate=Decimal("18.00"),
                    )
                    for i in range(first, min(first + chunk, args.products))
                ]
            )
        print(f"seeded {args.products} products in the sandbox ERP in {time.perf_counter() - started:.1f} s")

        figures = []
        for label, extra in (("first sync (all created)", []), ("second sync (all unchanged)", ["--full"])):
            started = time.perf_counter()
            try:
                crm(["erp", "sync", "products", "--erp", "sandbox", "--batch", str(args.batch), *extra])
            except SystemExit as exc:
                if exc.code:
                    raise
            seconds = time.perf_counter() - started
            figures.append(seconds)
            print(f"{label}: {seconds:.2f} s ({args.products / seconds:,.0f} products/s)")
        stored = 0
        cursor = None
        while True:
            page = container().crm.catalogue.list(OPERATOR, PageRequest(limit=200, cursor=cursor))
            stored += len(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert stored == args.products, (stored, args.products)
        print(f"stored products: {stored}")
        print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, SQLite")
        target = 20.0 * args.products / 100_000
        print(f"target: under {target:.1f} s -> {'met' if figures[0] < target else 'NOT met'}")


if __name__ == "__main__":
    main()
