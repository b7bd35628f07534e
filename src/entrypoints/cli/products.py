"""`crm products import FILE`: insert or replace catalogue entries from a CSV or XLSX file, in batches."""

from __future__ import annotations

import typer

from entrypoints.catalogue_cache import catalogue_changed
from entrypoints.cli.context import OPERATOR, container
from entrypoints.cli.csv_import import ImportFile, run_import
from entrypoints.imports import ProductImport

app = typer.Typer(help="Import the product catalogue.", no_args_is_help=True)


@app.command("import")
def import_products(
    file: ImportFile,
) -> None:
    """Import products from a CSV or XLSX file; a known SKU is replaced.

    Columns: sku, name, unit_price (required); uom, currency, tax_rate, erp_material_id, min_order_qty, active.
    Failing rows are listed with their line number; the rest are kept (exit 1 if any failed)."""
    c = container()
    handle = ProductImport(c.crm, OPERATOR, c.settings.default_currency)

    def finish() -> None:
        handle.finish()
        catalogue_changed(c)  # the API's cached catalogue answers are stale now

    raise typer.Exit(run_import(file, ProductImport.REQUIRED, handle, "products", finish=finish))
