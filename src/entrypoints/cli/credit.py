"""`crm credit`: a customer's credit position."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from entrypoints.cli.context import OPERATOR, container, out

app = typer.Typer(help="Show a dealer's credit position.", no_args_is_help=True)


@app.command("show")
def show(code: Annotated[str, typer.Argument(help="The customer's code, for example D0001.")]) -> None:
    """Show limit, receivables, open orders, exposure and available credit of a customer."""
    crm = container().crm
    view = crm.customers.get_by_code(OPERATOR, code)
    position = crm.credit.position(OPERATOR, view.customer.id)
    table = Table(title=f"{view.customer.code} {view.customer.name}", show_header=False)
    rows = [
        ("currency", position.currency),
        ("limit", position.limit.decimal_string()),
        ("receivables", position.receivables.decimal_string()),
        ("open orders", position.open_orders.decimal_string()),
        ("dispatched, not invoiced", position.dispatched.decimal_string()),
        ("exposure", position.exposure.decimal_string()),
        ("available", position.available.decimal_string()),
        ("tolerance %", position.tolerance_pct),
        ("blocked", f"yes ({position.reason})" if position.blocked else "no"),
    ]
    if position.temporary_limit is not None:
        rows.insert(
            2,
            ("temporary limit", f"{position.temporary_limit.decimal_string()} until {position.temporary_limit_until}"),
        )
        rows.insert(3, ("base limit", position.base_limit.decimal_string()))
    for label, value in rows:
        table.add_row(label, value)
    out.print(table)
