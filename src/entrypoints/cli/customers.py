"""`crm customers import FILE`: create or update dealers from CSV."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from crm_domain.errors import EntityNotFound, ValidationFailed
from crm_domain.money import Money
from crm_domain.services.customers import CustomerChanges, NewCustomer
from entrypoints.cli.context import OPERATOR, container
from entrypoints.cli.csv_import import optional, run_import

app = typer.Typer(help="Customers (dealers).", no_args_is_help=True)

REQUIRED = {"code", "name", "mobile", "credit_limit"}


@app.command("import")
def import_customers(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file.")],
) -> None:
    """Import customers from CSV. Columns: code, name, mobile, credit_limit (required); territory, currency,
    erp_system, erp_customer_id, assigned_rep_mobile, tolerance_pct, overdue_block_days. An existing code is
    updated. Failing rows are listed with their line number; the rest are kept (exit 1 if any failed)."""
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
        tolerance = _decimal(row.get("tolerance_pct") or "0", "tolerance_pct")
        overdue = _int(optional(row, "overdue_block_days"), "overdue_block_days")
        erp_system = row.get("erp_system") or "sandbox"
        try:
            existing = crm.customers.get_by_code(OPERATOR, row["code"])
        except EntityNotFound:
            existing = None
        if existing is None:
            crm.customers.create(
                OPERATOR,
                NewCustomer(
                    code=row["code"],
                    name=row["name"],
                    mobile=row["mobile"],
                    credit_limit=limit,
                    territory=row.get("territory", ""),
                    erp_system=erp_system,
                    erp_customer_id=optional(row, "erp_customer_id"),
                    assigned_rep_id=rep_id,
                    tolerance_pct=tolerance,
                    overdue_block_days=overdue,
                ),
            )
            return
        customer = existing.customer
        if limit.currency != customer.currency:
            raise ValidationFailed(f"customer {customer.code} buys in {customer.currency}, not {limit.currency}")
        crm.customers.update(
            OPERATOR,
            customer.id,
            CustomerChanges(
                name=row["name"],
                mobile=row["mobile"],
                territory=row.get("territory", customer.territory),
                erp_system=erp_system,
                erp_customer_id=optional(row, "erp_customer_id"),
                assigned_rep_id=rep_id,
            ),
        )
        if limit.minor != existing.account.limit:
            crm.credit.set_limit(OPERATOR, customer.id, limit, f"import of {file.name}")
        if tolerance != existing.account.tolerance_pct:
            crm.credit.set_tolerance(OPERATOR, customer.id, str(tolerance), f"import of {file.name}")
        if overdue != existing.account.overdue_block_days:
            crm.credit.set_overdue_block(OPERATOR, customer.id, overdue, f"import of {file.name}")

    raise typer.Exit(run_import(file, REQUIRED, handle, "customers"))


def _decimal(value: str, field: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValidationFailed(f"{field} {value!r} is not a number", field=field) from exc


def _int(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise ValidationFailed(f"{field} must be a whole number of days, got {value!r}", field=field)
    return int(value)
