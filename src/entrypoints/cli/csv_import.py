"""Bulk import shared by `crm customers|products|orders import`: a progress bar, every failing row reported with
its line number and reason, the good rows kept. The file is CSV (UTF-8, Windows-1252 or Latin-1; `,`, `;`, tab or
`|` separated) or XLSX; reading it and the rows themselves are entrypoints/imports.py's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crm_domain.errors import ValidationFailed
from entrypoints.cli.context import err, out
from entrypoints.imports import ImportReport, Row, file_rows, import_rows, optional

MAX_FAILURES_SHOWN = 50

#: The file argument of every import command.
ImportFile = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="A CSV (UTF-8, Windows-1252 or Latin-1) or XLSX file."
    ),
]


def print_report(report: ImportReport, what: str) -> int:
    """Print the summary and the failures; the exit code is 1 when any row failed."""
    out.print(f"imported {report.imported} {what}, {len(report.failures)} failed")
    if report.failures:
        for line, reason in report.failures[:MAX_FAILURES_SHOWN]:
            err.print(f"line {line}: {reason}", markup=False, soft_wrap=True)
        if len(report.failures) > MAX_FAILURES_SHOWN:
            err.print(f"… and {len(report.failures) - MAX_FAILURES_SHOWN} more")
        return 1
    return 0


def read_rows(path: Path, required: set[str]) -> tuple[int, Iterator[tuple[int, Row]]]:
    """(row count, rows as (line number, {column: stripped value})); `ValidationFailed` for a file that cannot
    be read or lacks a required column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(f"{path}: cannot be read ({exc.strerror or exc})") from None
    rows = file_rows(data, required, str(path))
    return len(rows), iter(rows)


def _xlsx_rows(path: Path, required: set[str]) -> tuple[int, Iterator[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationFailed(f"{path}: not a readable .xlsx file ({type(exc).__name__})") from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(c or "").strip().lower() for c in next(rows, ())]
    missing = required - set(header)
    if missing:
        workbook.close()
        raise ValidationFailed(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    total = max((sheet.max_row or 1) - 1, 0)

    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    def read() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for line, values in enumerate(rows, start=2):
                cleaned = {name: cell(v) for name, v in zip(header, values, strict=False) if name}
                if any(cleaned.values()):
                    yield line, cleaned
        finally:
            workbook.close()

    return total, read()


def import_progress(what: str) -> Progress:
    """The progress bar of an import on stderr (rows or orders done of all, time taken); gone when it ends."""
    return Progress(
        TextColumn(f"importing {what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def run_import(
    path: Path,
    required: set[str] | frozenset[str],
    handle_row: Callable[[Row], None],
    what: str,
    finish: Callable[[], None] | None = None,
) -> int:
    """Feed every row to `handle_row`; a row that raises a DomainError or ValueError is reported, not kept."""
    total, rows = read_rows(path, set(required))
    with import_progress(what) as progress:
        task = progress.add_task(what, total=total)
        report = import_rows(rows, handle_row, finish=finish, after_row=lambda: progress.advance(task))
    return print_report(report, what)


__all__ = ["ImportFile", "optional", "print_report", "read_rows", "run_import"]
