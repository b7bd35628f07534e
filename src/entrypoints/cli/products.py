"""`crm products import FILE`: insert or replace catalogue entries from a CSV or XLSX file, in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_domain.decimals import decimal_of
from crm_domain.errors import ValidationFailed
from crm_domain.money import Money
from crm_domain.products import Product
from crm_domain.services.catalogue import NewProduct
from entrypoints.catalogue_cache import catalogue_changed
from entrypoints.cli.context import OPERATOR, container
from entrypoints.cli.csv_import import optional, run_import

app = typer.Typer(help="Import the product catalogue.", no_args_is_help=True)

REQUIRED = {"sku", "name", "unit_price"}
BATCH = 1000
_TRUE = {"1", "true", "yes", "y", ""}
_FALSE = {"0", "false", "no", "n"}


@app.command("import")
def import_products(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="A CSV (UTF-8, Windows-1252 or Latin-1) or XLSX file."
        ),
    ],
) -> None:
    """Import products from CSV or XLSX. Columns: sku, name, unit_price (required); uom, currency, tax_rate,
    erp_material_id, min_order_qty, active. A known SKU is replaced. Failing rows are listed with their line
    number; the rest are kept (exit 1 if any failed)."""
    c = container()
    crm = c.crm
    batch: list[Product] = []
    seen: set[str] = set()

    def flush() -> None:
        if batch:
            crm.catalogue.upsert_many(OPERATOR, batch)
            batch.clear()

    def handle(row: dict[str, str]) -> None:
        active = row.get("active", "").lower()
        if active not in _TRUE | _FALSE:
            raise ValidationFailed(f"active must be yes or no, got {row['active']!r}", field="active")
        product = crm.catalogue.build(
            NewProduct(
                sku=row["sku"],
                name=row["name"],
                unit_price=Money.of(row["unit_price"], row.get("currency") or c.settings.default_currency),
                uom=row.get("uom") or "EA",
                tax_rate=decimal_of(row.get("tax_rate") or "0", "tax_rate"),
                erp_material_id=optional(row, "erp_material_id"),
                min_order_qty=decimal_of(row.get("min_order_qty") or "1", "min_order_qty"),
                active=active in _TRUE,
            )
        )
        if product.sku in seen:
            raise ValidationFailed(f"SKU {product.sku} appears more than once in the file", field="sku")
        seen.add(product.sku)
        batch.append(product)
        if len(batch) >= BATCH:
            flush()

    def finish() -> None:
        flush()
        catalogue_changed(c)  # the API's cached catalogue answers are stale now

    raise typer.Exit(run_import(file, REQUIRED, handle, "products", finish=finish))
