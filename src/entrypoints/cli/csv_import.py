"""Bulk import shared by `crm customers|products|orders import`: a progress bar, every failing row reported with
its line number and reason, the good rows kept.

The file is CSV or XLSX. A CSV file may be UTF-8 (with or without a byte-order mark), Windows-1252 or Latin-1
(the encoding is detected with charset-normalizer) and separate its columns with `,`, `;`, a tab or `|`
(sniffed, and checked against the columns the import needs). An XLSX file (recognised by its content, not its
name) is read from its first sheet, read-only. Whatever the file holds, a file that cannot be read is one clear
line (`ValidationFailed`), never an internal error.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Final

import attrs
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crm_domain.errors import DomainError, ValidationFailed
from entrypoints.cli.context import err, out

MAX_FAILURES_SHOWN = 50
DELIMITERS: Final = ",;\t|"
ENCODINGS: Final = ("utf_8", "cp1252", "latin_1")
_ZIP_MAGIC: Final = b"PK\x03\x04"
_MAX_FIELD: Final = 1_000_000

Row = tuple[int, dict[str, str]]
#: The file argument of every import command.
ImportFile = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="A CSV (UTF-8, Windows-1252 or Latin-1) or XLSX file."
    ),
]


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


def read_rows(path: Path, required: set[str]) -> tuple[int, Iterator[Row]]:
    """(row count, rows as (line number, {column: stripped value})); `ValidationFailed` for a file that cannot
    be read or lacks a required column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if data.startswith(_ZIP_MAGIC):
        header, records = _xlsx_records(path, data)
    else:
        header, records = _csv_records(path, _decode(path, data), required)
    columns = [(c or "").strip().lower() for c in header]
    missing = required - set(columns)
    if missing:
        shown = ", ".join(c for c in columns if c)[:200] or "nothing"
        raise ValidationFailed(
            f"{path}: missing column(s) {', '.join(sorted(missing))} (the first row reads: {shown}; columns are "
            "separated by , ; tab or |)"
        )
    rows = list(_rows(columns, records))
    return len(rows), iter(rows)


def _rows(columns: list[str], records: Iterable[tuple[int, list[str]]]) -> Iterator[Row]:
    for line, values in records:
        if len(values) > len(columns) and any(v.strip() for v in values[len(columns) :]):
            yield line, {"__error__": "more values than columns"}
            continue
        padded = [*values, *[""] * (len(columns) - len(values))]
        cleaned = {column: value.strip() for column, value in zip(columns, padded, strict=False) if column}
        if any(cleaned.values()):
            yield line, cleaned


def _decode(path: Path, data: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark dropped), else Windows-1252 or Latin-1 as detected."""
    if b"\x00" in data:
        raise ValidationFailed(f"{path}: not a CSV file (it holds binary data); save it as CSV or XLSX")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(ENCODINGS)).best()
    for encoding in ([best.encoding] if best is not None else []) + ["cp1252", "latin_1"]:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise ValidationFailed(f"{path}: not text in UTF-8, Windows-1252 or Latin-1")  # pragma: no cover - latin_1


def _csv_records(path: Path, text: str, required: set[str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the records, split by the delimiter that gives the required columns (the sniffed one
    first)."""
    first_line = next(iter(text.lstrip("\ufeff").splitlines()), "")
    candidates = list(DELIMITERS)
    try:
        sniffed = csv.Sniffer().sniff(text[:8192], delimiters=DELIMITERS).delimiter
        candidates.insert(0, sniffed)
    except csv.Error:
        pass
    chosen = candidates[0]
    for delimiter in candidates:
        try:
            header = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:  # e.g. an open quote: the full read below says where
            continue
        if required <= {c.strip().lower() for c in header}:
            chosen = delimiter
            break
    csv.field_size_limit(_MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=chosen)
    try:
        header = next(reader, [])
        records = [(reader.line_num, values) for values in reader]
    except csv.Error as exc:
        raise ValidationFailed(f"{path}: line {reader.line_num} is not valid CSV ({exc})") from None
    return header, records


def _xlsx_records(path: Path, data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The first sheet of a workbook, read-only: its first row the header; numbers and dates as text."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as exc:
        raise ValidationFailed(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds of error for a broken workbook
        raise ValidationFailed(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return [], []
        cells = enumerate(sheet.iter_rows(values_only=True), 1)
        rows = [(number, [_cell(v) for v in values]) for number, values in cells]
    except Exception as exc:  # noqa: BLE001 - as above, for a sheet that breaks while read
        raise ValidationFailed(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    finally:
        workbook.close()
    if not rows:
        return [], []
    return rows[0][1], rows[1:]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "" if math.isnan(value) or math.isinf(value) else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


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
