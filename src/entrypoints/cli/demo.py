"""`crm demo seed`: a realistic data set for trying the product."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from crm_domain.records import PageRequest
from entrypoints.bootstrap import bootstrap
from entrypoints.cli.context import OPERATOR, container, err, out
from entrypoints.demo_data import seed

app = typer.Typer(help="Load the demo data set.", no_args_is_help=True)


@app.command("seed")
def seed_command(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the store already has customers.")
    ] = False,
    months: Annotated[int, typer.Option(min=1, max=24, help="How many months of order history to create.")] = 4,
    orders_per_month: Annotated[
        int, typer.Option(min=1, max=10_000, help="How many orders to create each month.")
    ] = 90,
) -> None:
    """Load users of every role in a manager tree, 50 dealers, 200 products and months of orders."""
    base = container()
    if base.crm.customers.list(OPERATOR, PageRequest(limit=1)).items:
        if if_empty:
            out.print("demo data: the store already has customers; nothing to do")
            return
        err.print("error: the store already has customers; seed an empty data directory (or use --if-empty)")
        raise typer.Exit(1)
    clock = base.clocks.settable()
    demo = bootstrap(base.settings, uow=base.uow, clock=clock)
    sandbox = demo.sandbox  # the demo's ERP, on the demo's clock
    if sandbox is None:
        err.print("error: the demo needs the sandbox ERP, and this configuration routes `sandbox` elsewhere")
        raise typer.Exit(2)
    with err.status("seeding demo data") as status:
        summary = seed(
            demo.crm,
            clock,
            base.clocks.system().now(),
            sandbox,
            months=months,
            orders_per_month=orders_per_month,
            progress=lambda step: status.update(f"seeding demo data: {step}"),
        )
    table = Table("what", "count", title="demo data")
    table.add_row("users", str(summary.users))
    table.add_row("customers", str(summary.customers))
    table.add_row("products", str(summary.products))
    table.add_row("orders", str(summary.orders))
    for status_name, count in sorted(summary.by_status.items()):
        table.add_row(f"  {status_name}", str(count))
    out.print(table)
    out.print("admin mobile: +919000000001 (sign in with an OTP); try `crm credit show D0001`")
