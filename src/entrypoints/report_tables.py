"""Reports as tables, and the tables as CSV (streamed line by line), XLSX (openpyxl write-only: rows go to a
temporary file as they come, so memory stays flat) and JSON-ready rows — one shape for the API and `crm reports`.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO
from zoneinfo import ZoneInfo

import attrs

from crm_domain.money import Money
from crm_domain.reports import ExposureRow, HoldRow, SalesReport, Statement

Cell = str | int | Decimal | None

CSV_TYPE = "text/csv"  # Litestar adds "; charset=utf-8" to every text/* type
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG_TYPE = "image/svg+xml"
#: Spreadsheet programs run cells that start with these as formulas: such text gets a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@attrs.frozen
class Table:
    title: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[Cell, ...]]
    #: The column a chart draws (its values) and the one that labels it.
    chart_value: int = -1
    chart_label: int = 0


def _amount(money: Money | None) -> Decimal | None:
    return None if money is None else money.amount


def sales_table(report: SalesReport, *, totals: bool = True) -> Table:
    """The groups, then (with `totals`) the totals row of each currency."""

    def rows() -> Iterator[tuple[Cell, ...]]:
        for row in [*report.rows, *(report.totals if totals else [])]:
            yield (row.key, row.label, row.currency, row.orders, row.quantity, row.net.amount, row.tax.amount,
                   row.total.amount)  # fmt: skip

    f = report.filter
    return Table(
        title=f"Sales by {f.group_by.value}, {f.start.isoformat()} to {f.end.isoformat()}",
        columns=("key", "label", "currency", "orders", "quantity", "net", "tax", "total"),
        rows=rows(),
        chart_value=7,
        chart_label=1,
    )


def exposure_table(rows: list[ExposureRow]) -> Table:
    return Table(
        title="Credit exposure",
        columns=(
            "customer_id",
            "code",
            "name",
            "currency",
            "limit",
            "effective_limit",
            "receivables",
            "open_orders",
            "dispatched",
            "exposure",
            "available",
            "utilisation_pct",
            "overdue_days",
            "on_hold",
        ),
        rows=(
            (
                r.customer_id,
                r.code,
                r.name,
                r.currency,
                r.limit.amount,
                r.effective_limit.amount,
                r.receivables.amount,
                r.open_orders.amount,
                r.dispatched.amount,
                r.exposure.amount,
                r.available.amount,
                r.utilisation_pct,
                r.overdue_days,
                r.on_hold,
            )
            for r in rows
        ),
        chart_value=11,
        chart_label=1,
    )


def holds_table(rows: list[HoldRow], tz: ZoneInfo) -> Table:
    return Table(
        title="Orders on credit hold, oldest first",
        columns=(
            "order_id",
            "number",
            "customer_id",
            "code",
            "name",
            "currency",
            "total",
            "shortfall",
            "reason",
            "held_at",
            "age_days",
        ),
        rows=(
            (
                r.order_id,
                r.number,
                r.customer_id,
                r.code,
                r.name,
                r.total.currency,
                r.total.amount,
                _amount(r.shortfall),
                r.reason,
                r.held_at.astimezone(tz).isoformat(timespec="seconds"),
                r.age_days,
            )
            for r in rows
        ),
        chart_value=6,
        chart_label=1,
    )


def statement_table(statement: Statement, tz: ZoneInfo) -> Table:
    def rows() -> Iterator[tuple[Cell, ...]]:
        start = datetime.combine(statement.start, datetime.min.time(), tzinfo=tz)
        yield (start.isoformat(timespec="seconds"), "opening", "", "Opening balance", None, None,
               statement.opening.amount)  # fmt: skip
        for line in statement.lines:
            yield (line.at.astimezone(tz).isoformat(timespec="seconds"), line.kind.value, line.reference,
                   line.description, _amount(line.debit), _amount(line.credit), line.balance.amount)  # fmt: skip
        yield ("", "closing", "", "Closing balance", None, None, statement.closing.amount)

    return Table(
        title=f"Statement of {statement.code} {statement.name}, {statement.start.isoformat()} to "
        f"{statement.end.isoformat()} ({statement.currency})",
        columns=("at", "kind", "reference", "description", "debit", "credit", "balance"),
        rows=rows(),
        chart_value=6,
        chart_label=2,
    )


# --- files ---------------------------------------------------------------------------------------------------


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return f"{cell:f}"
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def _safe(cell: Cell) -> Cell:
    """Text that a spreadsheet would run as a formula, made plain text."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def csv_lines(table: Table) -> Iterator[str]:
    """The table as CSV, one line at a time (header first): never built whole in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[str]) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(table.columns)
    for row in table.rows:
        yield line(_text(_safe(cell)) for cell in row)


def csv_chunks(table: Table) -> Iterator[str]:
    """Header and rows in chunks of a few hundred lines (fewer writes to the socket)."""
    batch: list[str] = []
    for line in csv_lines(table):
        batch.append(line)
        if len(batch) >= 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def write_xlsx(table: Table, target: IO[bytes]) -> None:
    """The table as one XLSX sheet, written in openpyxl's write-only mode (constant memory)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="report")
    sheet.append([table.title])
    sheet.append(list(table.columns))
    for row in table.rows:
        sheet.append([_safe(c) for c in row])
    workbook.save(target)


def xlsx_file(table: Table) -> IO[bytes]:
    """A temporary file holding the XLSX, rewound (deleted when closed)."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller streams and closes it
    write_xlsx(table, spool)
    spool.seek(0)
    return spool


def iter_file(handle: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while chunk := handle.read(size):
            yield chunk
    finally:
        handle.close()
