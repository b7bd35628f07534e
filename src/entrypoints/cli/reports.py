"""`crm reports`: sales, credit exposure, credit holds and dealer statements as a table, CSV, JSON or XLSX;
`rebuild` and `check` of the aggregates behind them (SPEC §2.8)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from crm_domain.errors import EntityNotFound, ValidationFailed
from crm_domain.orders import OrderStatus
from crm_domain.reports import SalesFilter, SalesGroup
from crm_domain.services.digest import DigestService
from entrypoints.cli.context import OPERATOR, container, err, out
from entrypoints.report_tables import (
    Table,
    csv_lines,
    exposure_table,
    holds_table,
    sales_table,
    statement_table,
    write_xlsx,
)

app = typer.Typer(
    help="Print reports: sales, credit exposure, credit holds and dealer statements.", no_args_is_help=True
)


class Output(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


FormatOption = Annotated[
    Output, typer.Option("--format", help="How to print the report: a table (the default), CSV, JSON or XLSX.")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of the terminal (xlsx needs one).")
]
FromOption = Annotated[
    datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (default: 1st of this month).")
]
ToOption = Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (default: today).")]


def _days(start: datetime | None, end: datetime | None) -> tuple[date, date]:
    today = container().crm.ctx.today()
    last = end.date() if end else today
    return (start.date() if start else last.replace(day=1)), last


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def emit(table: Table, fmt: Output, output: Path | None) -> None:
    """Print or write `table` in `fmt`; XLSX goes to `--output` only."""
    if fmt is Output.XLSX:
        if output is None:
            raise ValidationFailed("--format xlsx needs --output FILE", field="output")
        with output.open("wb") as target:
            write_xlsx(table, target)
        err.print(f"wrote {output}")
        return
    if fmt is Output.TABLE and output is None:
        rich = RichTable(*table.columns, title=table.title)
        for row in table.rows:
            rich.add_row(*("" if c is None else str(_cell(c)) for c in row))
        out.print(rich)
        return
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt is Output.JSON:
            rows = [dict(zip(table.columns, (_cell(c) for c in row), strict=True)) for row in table.rows]
            handle.write(json.dumps({"title": table.title, "rows": rows}, ensure_ascii=False, indent=2) + "\n")
        else:  # csv (and a table asked into a file)
            for line in csv_lines(table):
                handle.write(line)
    finally:
        if output:
            handle.close()
            err.print(f"wrote {output}")


@app.command("sales")
def sales(
    start: FromOption = None,
    end: ToOption = None,
    group_by: Annotated[
        SalesGroup,
        typer.Option(
            "--group-by", help="What one row sums: a day, week or month, or a rep, customer, product or territory."
        ),
    ] = SalesGroup.MONTH,
    status: Annotated[
        list[OrderStatus] | None, typer.Option("--status", help="Repeat for several; default: the achieved ones.")
    ] = None,
    rep: Annotated[list[str] | None, typer.Option("--rep", help="Rep id (repeatable).")] = None,
    customer: Annotated[list[str] | None, typer.Option("--customer", help="Customer id (repeatable).")] = None,
    sku: Annotated[list[str] | None, typer.Option("--sku", help="SKU (repeatable).")] = None,
    territory: Annotated[list[str] | None, typer.Option("--territory", help="Territory (repeatable).")] = None,
    fmt: FormatOption = Output.TABLE,
    output: OutputOption = None,
) -> None:
    """Show sales grouped by day, week, month, rep, customer, product or territory, with a totals row."""
    first, last = _days(start, end)
    fields: dict[str, Any] = {"start": first, "end": last, "group_by": group_by}
    if status:
        fields["statuses"] = frozenset(status)
    flt = SalesFilter(
        **fields,
        rep_ids=frozenset(rep) if rep else None,
        customer_ids=frozenset(customer) if customer else None,
        skus=frozenset(sku) if sku else None,
        territories=frozenset(territory) if territory else None,
    )
    emit(sales_table(container().crm.reports.sales(OPERATOR, flt)), fmt, output)


@app.command("credit-exposure")
def credit_exposure(fmt: FormatOption = Output.TABLE, output: OutputOption = None) -> None:
    """Show every customer's limit, exposure and its parts, available credit and utilisation, over-limit first."""
    emit(exposure_table(container().crm.reports.credit_exposure(OPERATOR)), fmt, output)


@app.command("credit-holds")
def credit_holds(fmt: FormatOption = Output.TABLE, output: OutputOption = None) -> None:
    """Show the orders on credit hold with total, shortfall, reason and age; oldest first."""
    crm = container().crm
    emit(holds_table(crm.reports.credit_holds(OPERATOR), crm.ctx.config.tz), fmt, output)


@app.command("statement")
def statement(
    customer: Annotated[str, typer.Argument(help="Customer id or code.")],
    start: FromOption = None,
    end: ToOption = None,
    fmt: FormatOption = Output.TABLE,
    output: OutputOption = None,
) -> None:
    """Show a dealer's orders, invoices and payments as known from the ERP, with opening and closing balance."""
    crm = container().crm
    first, last = _days(start, end)
    found = crm.ctx.read(lambda uow: uow.customers.get(customer) or uow.customers.get_by_code(customer))
    if found is None:
        raise EntityNotFound("customer", customer)
    emit(statement_table(crm.reports.statement(OPERATOR, found.id, first, last), crm.ctx.config.tz), fmt, output)


@app.command("check")
def check() -> None:
    """Recompute the sales buckets from the orders and say whether the stored ones agree (exit 1 if not).

    The embedded store's roll-ups of the buckets are compared with the buckets as well."""
    result = container().crm.reports.check(OPERATOR)
    if result.agrees:
        out.print(f"the sales buckets agree with the orders ({result.buckets} buckets, {result.orders} orders)")
        return
    if result.summaries:
        err.print(f"{result.summaries} roll-up rows differ from the buckets; run `crm reports rebuild`")
    if result.differences:
        err.print(f"{len(result.differences)} buckets differ from the orders; run `crm reports rebuild`")
    for key, (stored, expected) in sorted(result.differences.items(), key=lambda kv: str(kv[0]))[:20]:
        err.print(
            f"  {key.day} {key.status.value} customer {key.customer_id} rep {key.rep_id or '-'} "
            f"sku {key.sku or '(order)'}: stored {stored.orders} orders {stored.total}, "
            f"expected {expected.orders} orders {expected.total}",
            markup=False,
        )
    raise typer.Exit(1)


@app.command("rebuild")
def rebuild() -> None:
    """Replace the sales buckets and their roll-ups by a recomputation from the orders (after a restore)."""
    count = container().crm.reports.rebuild(OPERATOR)
    out.print(f"rebuilt {count} sales buckets from the orders")


@app.command("digest")
def digest(
    day: Annotated[datetime | None, typer.Option("--date", formats=["%Y-%m-%d"], help="Default: today.")] = None,
    manager: Annotated[str | None, typer.Option("--manager", help="One manager's id (preview).")] = None,
    send: Annotated[bool, typer.Option("--send", help="Queue the e-mails (the worker sends them).")] = False,
    html: Annotated[bool, typer.Option("--html", help="Preview the HTML part instead of the text.")] = False,
) -> None:
    """Preview the managers' daily digest, or queue it for sending through the outbox (once a manager and day)."""
    c = container()
    digests = DigestService(c.crm.ctx)
    when = day.date() if day else c.crm.ctx.today()
    if send:
        out.print(f"queued {digests.schedule(when)} daily digests for {when.isoformat()} (the worker sends them)")
        return
    renderer = c.digest_renderer
    assert renderer is not None
    managers = [manager] if manager else [m.id for m in digests.managers()]
    if not managers:
        err.print("no active sales manager with an e-mail address")
    for manager_id in managers:
        found = digests.compose(manager_id, when)
        subject, text, page = renderer.render(found)
        out.print(f"To: {found.email or '(no e-mail address)'}\nSubject: {subject}\n", markup=False)
        out.print(page if html else text, markup=False)
