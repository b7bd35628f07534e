"""Bulk CSV import shared by `crm customers|products import`: a progress bar, every failing row reported with
its line number and reason, the good rows kept."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crm_domain.errors import DomainError, ValidationFailed
from entrypoints.cli.context import err, out

MAX_FAILURES_SHOWN = 50


@attrs.define
class ImportReport:
    imported: int = 0
    failures: list[tuple[int, str]] = attrs.field(factory=list)

    def fail(self, line: int, reason: str) -> None:
        self.failures.append((line, reason))

    def print(self, what: str) -> int:
        """Print the summary and the failures; the exit code is 1 when any row failed."""
        out.print(f"imported {self.imported} {what}, {len(self.failures)} failed")
        if self.failures:
            for line, reason in self.failures[:MAX_FAILURES_SHOWN]:
                err.print(f"line {line}: {reason}", markup=False, soft_wrap=True)
            if len(self.failures) > MAX_FAILURES_SHOWN:
                err.print(f"… and {len(self.failures) - MAX_FAILURES_SHOWN} more")
            return 1
        return 0


def read_rows(path: Path, required: set[str]) -> tuple[int, Iterator[tuple[int, dict[str, str]]]]:
    """(row count, rows as (line number, {column: stripped value})); `ValidationFailed` for a bad header. A
    `.xlsx` file is read from its first sheet (header in the first row), anything else as CSV."""
    if path.suffix.lower() == ".xlsx":
        return _xlsx_rows(path, required)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        total = max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.DictReader(handle)
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    missing = required - columns
    if missing:
        handle.close()
        raise ValidationFailed(f"{path}: missing column(s) {', '.join(sorted(missing))}")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with handle:
            for row in reader:
                if None in row:
                    yield reader.line_num, {"__error__": "more values than columns"}
                    continue
                cleaned = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                if not any(cleaned.values()):
                    continue
                yield reader.line_num, cleaned

    return total, rows()


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
    required: set[str],
    handle_row: Callable[[dict[str, str]], None],
    what: str,
    finish: Callable[[], None] | None = None,
) -> int:
    """Feed every row to `handle_row`; a row that raises a DomainError or ValueError is reported, not kept."""
    total, rows = read_rows(path, required)
    report = ImportReport()
    with import_progress(what) as progress:
        task = progress.add_task(what, total=total)
        for line, row in rows:
            try:
                if "__error__" in row:
                    raise ValidationFailed(row["__error__"])
                handle_row(row)
                report.imported += 1
            except (DomainError, ValueError, ArithmeticError) as exc:
                report.fail(line, _reason(exc))
            progress.advance(task)
        if finish is not None:
            finish()
    return report.print(what)


def _reason(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def optional(row: dict[str, str], column: str) -> str | None:
    value = row.get(column, "")
    return value or None
