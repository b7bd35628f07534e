"""`crm customers import FILE`: create or update dealers from a CSV or XLSX file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrypoints.cli.context import OPERATOR, container
from entrypoints.cli.csv_import import run_import
from entrypoints.imports import CustomerImport

app = typer.Typer(help="Import customers (dealers).", no_args_is_help=True)


@app.command("import")
def import_customers(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="A CSV (UTF-8, Windows-1252 or Latin-1) or XLSX file."
        ),
    ],
) -> None:
    """Import customers from a CSV or XLSX file; an existing code is updated.

    Columns: code, name, mobile, credit_limit (required); territory, currency, erp_system, erp_customer_id,
    assigned_rep_mobile, tolerance_pct, overdue_block_days. Each row is one unit of work
    (`CustomerService.upsert`). Failing rows are listed with their line number; the rest are kept (exit 1 if any
    failed)."""
    c = container()
    handle = CustomerImport(c.crm, OPERATOR, c.settings.default_currency, file.name)
    raise typer.Exit(run_import(file, CustomerImport.REQUIRED, handle, "customers"))
