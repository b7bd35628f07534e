"""`crm products import FILE`: insert or replace catalogue entries from CSV, in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrypoints.cli.context import OPERATOR, container
from entrypoints.cli.csv_import import run_import
from entrypoints.imports import ProductImport

app = typer.Typer(help="The product catalogue.", no_args_is_help=True)


@app.command("import")
def import_products(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file.")],
) -> None:
    """Import products from CSV. Columns: sku, name, unit_price (required); uom, currency, tax_rate,
    erp_material_id, min_order_qty, active. A known SKU is replaced. Failing rows are listed with their line
    number; the rest are kept (exit 1 if any failed)."""
    c = container()
    handle = ProductImport(c.crm, OPERATOR, c.settings.default_currency)
    raise typer.Exit(run_import(file, ProductImport.REQUIRED, handle, "products", finish=handle.finish))
