"""`crm customers import FILE`: create or update dealers from a CSV or XLSX file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from crm_domain.decimals import decimal_of
from crm_domain.errors import ValidationFailed
from crm_domain.money import Money
from crm_domain.services.context import UNSET
from crm_domain.services.customers import CreditTerms, CustomerRecord
from entrypoints.cli.context import OPERATOR, container
from entrypoints.cli.csv_import import optional, run_import

app = typer.Typer(help="Import customers (dealers).", no_args_is_help=True)

REQUIRED = {"code", "name", "mobile", "credit_limit"}


@app.command("import")
def import_customers(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="A CSV (UTF-8, Windows-1252 or Latin-1) or XLSX file."
        ),
    ],
) -> None:
    """Import customers from CSV or XLSX. Columns: code, name, mobile, credit_limit (required); territory, currency,
    erp_system, erp_customer_id, assigned_rep_mobile, tolerance_pct, overdue_block_days. An existing code is
    updated; each row is one unit of work (`CustomerService.upsert`). Failing rows are listed with their line
    number; the rest are kept (exit 1 if any failed)."""
    c = container()
    crm = c.crm
    default_currency = c.settings.default_currency

    def handle(row: dict[str, str]) -> None:
        currency = row.get("currency") or default_currency
        limit = Money.of(row["credit_limit"], currency)
        rep_id = None
        if rep_mobile := optional(row, "assigned_rep_mobile"):
            rep = crm.users.get_by_mobile(rep_mobile)
            if rep is None:
                raise ValidationFailed(f"no user with mobile {rep_mobile}", field="assigned_rep_mobile")
            rep_id = rep.id
        crm.customers.upsert(
            OPERATOR,
            CustomerRecord(
                code=row["code"],
                name=row["name"],
                mobile=row["mobile"],
                currency=currency,
                territory=row.get("territory", UNSET),
                erp_system=row.get("erp_system") or "sandbox",
                erp_customer_id=optional(row, "erp_customer_id"),
                assigned_rep_id=rep_id,
                terms=CreditTerms(
                    limit=limit,
                    tolerance_pct=_decimal(row.get("tolerance_pct") or "0", "tolerance_pct"),
                    overdue_block_days=_int(optional(row, "overdue_block_days"), "overdue_block_days"),
                ),
                reason=f"import of {file.name}",
            ),
        )

    raise typer.Exit(run_import(file, REQUIRED, handle, "customers"))


def _decimal(value: str, field: str) -> Decimal:
    return decimal_of(value, field)


def _int(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise ValidationFailed(f"{field} must be a whole number of days, got {value!r}", field=field)
    return int(value)
