"""`crm targets import FILE`: monthly targets from a CSV or XLSX file (columns user, period, amount)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_domain.errors import EntityNotFound
from crm_domain.money import Money
from entrypoints.cli.context import OPERATOR, container
from entrypoints.cli.csv_import import optional, run_import

app = typer.Typer(help="Set the users' monthly sales targets.", no_args_is_help=True)

REQUIRED = {"user", "period", "amount"}


@app.command("import")
def import_targets(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or .xlsx file.")],
) -> None:
    """Set (or replace) targets from a CSV or XLSX FILE.

    Columns: `user` (id or mobile), `period` (YYYY-MM), `amount`, and optionally `currency`. Good rows are kept;
    every failing row is reported with its line (exit 1)."""
    crm = container().crm

    def handle(row: dict[str, str]) -> None:
        who = row["user"]
        user = crm.users.find(who) or (crm.users.get_by_mobile(who) if who.startswith("+") else None)
        if user is None:
            raise EntityNotFound("user", who)
        currency = optional(row, "currency") or crm.ctx.config.default_currency
        crm.performance.set_target(OPERATOR, user.id, row["period"], Money.of(row["amount"], currency))

    raise typer.Exit(run_import(path, REQUIRED, handle, "targets"))
