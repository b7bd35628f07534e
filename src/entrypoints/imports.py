"""CSV and XLSX imports of customers and products, row by row with a result per row: the code behind
`crm customers import`, `crm products import` and the admin's upload page. Every failing row is reported with
its line number and reason; the good rows are kept."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Final

import attrs

from crm_domain.app import Crm
from crm_domain.decimals import decimal_of
from crm_domain.errors import DomainError, ValidationFailed
from crm_domain.money import Money
from crm_domain.products import Product
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.context import UNSET
from crm_domain.services.customers import CreditTerms, CustomerRecord
from crm_domain.users import Actor

#: The row of a CSV line that has more values than columns: reported as failed with this reason.
ROW_ERROR = "__error__"

Row = dict[str, str]
DELIMITERS: Final = ",;\t|"
ENCODINGS: Final = ("utf_8", "cp1252", "latin_1")
_ZIP_MAGIC: Final = b"PK\x03\x04"
_MAX_FIELD: Final = 1_000_000


@attrs.define
class ImportReport:
    imported: int = 0
    failures: list[tuple[int, str]] = attrs.field(factory=list)

    def fail(self, line: int, reason: str) -> None:
        self.failures.append((line, reason))


def file_rows(data: bytes, required: set[str], source: str) -> list[tuple[int, Row]]:
    """The rows of a CSV or XLSX file as (line number, {column: stripped value}), blank rows skipped;
    `ValidationFailed` for a file that cannot be read or lacks a required column.

    A CSV file may be UTF-8 (with or without a byte-order mark), Windows-1252 or Latin-1 (the encoding is detected
    with charset-normalizer) and separate its columns with `,`, `;`, a tab or `|` (sniffed, and checked against the
    columns the import needs). An XLSX workbook (recognised by its content, not its name) is read from its first
    sheet, read-only. Whatever the file holds, a file that cannot be read is one clear line, never an internal
    error."""
    if data.startswith(_ZIP_MAGIC):
        header, records = _xlsx_records(source, data)
    else:
        header, records = _csv_records(source, _decode(source, data), required)
    columns = [(c or "").strip().lower() for c in header]
    missing = required - set(columns)
    if missing:
        shown = ", ".join(c for c in columns if c)[:200] or "nothing"
        raise ValidationFailed(
            f"{source}: missing column(s) {', '.join(sorted(missing))} (the first row reads: {shown}; columns are "
            "separated by , ; tab or |)"
        )
    return list(_rows(columns, records))


def _rows(columns: list[str], records: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, Row]]:
    for line, values in records:
        if len(values) > len(columns) and any(v.strip() for v in values[len(columns) :]):
            yield line, {ROW_ERROR: "more values than columns"}
            continue
        padded = [*values, *[""] * (len(columns) - len(values))]
        cleaned = {column: value.strip() for column, value in zip(columns, padded, strict=False) if column}
        if any(cleaned.values()):
            yield line, cleaned


def _decode(source: str, data: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark dropped), else Windows-1252 or Latin-1 as detected."""
    if b"\x00" in data:
        raise ValidationFailed(f"{source}: not a CSV file (it holds binary data); save it as CSV or XLSX")
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
    raise ValidationFailed(f"{source}: not text in UTF-8, Windows-1252 or Latin-1")  # pragma: no cover - latin_1


def _csv_records(source: str, text: str, required: set[str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
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
        raise ValidationFailed(f"{source}: line {reader.line_num} is not valid CSV ({exc})") from None
    return header, records


def _xlsx_records(source: str, data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The first sheet of a workbook, read-only: its first row the header; numbers and dates as text."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds of error for a broken workbook
        raise ValidationFailed(f"{source}: not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return [], []
        cells = enumerate(sheet.iter_rows(values_only=True), 1)
        rows = [(number, [_cell(v) for v in values]) for number, values in cells]
    except Exception as exc:  # noqa: BLE001 - as above, for a sheet that breaks while read
        raise ValidationFailed(f"{source}: not a readable XLSX workbook ({type(exc).__name__})") from None
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


def import_rows(
    rows: Iterable[tuple[int, Row]],
    handle_row: Callable[[Row], None],
    *,
    finish: Callable[[], None] | None = None,
    after_row: Callable[[], None] | None = None,
) -> ImportReport:
    """Feed every row to `handle_row`; a row that raises a DomainError, ValueError or ArithmeticError is reported,
    not kept."""
    report = ImportReport()
    for line, row in rows:
        try:
            if ROW_ERROR in row:
                raise ValidationFailed(row[ROW_ERROR])
            handle_row(row)
            report.imported += 1
        except (DomainError, ValueError, ArithmeticError) as exc:
            report.fail(line, reason_of(exc))
        if after_row is not None:
            after_row()
    if finish is not None:
        finish()
    return report


def reason_of(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def optional(row: Row, column: str) -> str | None:
    value = row.get(column, "")
    return value or None


class CustomerImport:
    """A customer row: code, name, mobile, credit_limit (required); territory, currency, erp_system,
    erp_customer_id, assigned_rep_mobile, tolerance_pct, overdue_block_days. A known code is updated; each row is
    one unit of work (`CustomerService.upsert`)."""

    REQUIRED = frozenset({"code", "name", "mobile", "credit_limit"})

    def __init__(self, crm: Crm, actor: Actor, default_currency: str, source: str) -> None:
        self._crm, self._actor, self._currency, self._source = crm, actor, default_currency, source

    def __call__(self, row: Row) -> None:
        currency = row.get("currency") or self._currency
        limit = Money.of(row["credit_limit"], currency)
        rep_id = None
        if rep_mobile := optional(row, "assigned_rep_mobile"):
            rep = self._crm.users.get_by_mobile(rep_mobile)
            if rep is None:
                raise ValidationFailed(f"no user with mobile {rep_mobile}", field="assigned_rep_mobile")
            rep_id = rep.id
        self._crm.customers.upsert(
            self._actor,
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
                    tolerance_pct=decimal_of(row.get("tolerance_pct") or "0", "tolerance_pct"),
                    overdue_block_days=_days(optional(row, "overdue_block_days"), "overdue_block_days"),
                ),
                reason=f"import of {self._source}",
            ),
        )


class ProductImport:
    """A product row: sku, name, unit_price (required); uom, currency, tax_rate, erp_material_id, min_order_qty,
    active. A known SKU is replaced; products are written in batches (`finish` writes the last one)."""

    REQUIRED = frozenset({"sku", "name", "unit_price"})
    BATCH = 1000
    _TRUE = frozenset({"1", "true", "yes", "y", ""})
    _FALSE = frozenset({"0", "false", "no", "n"})

    def __init__(self, crm: Crm, actor: Actor, default_currency: str) -> None:
        self._crm, self._actor, self._currency = crm, actor, default_currency
        self._batch: list[Product] = []
        self._seen: set[str] = set()

    def __call__(self, row: Row) -> None:
        active = row.get("active", "").lower()
        if active not in self._TRUE | self._FALSE:
            raise ValidationFailed(f"active must be yes or no, got {row['active']!r}", field="active")
        product = self._crm.catalogue.build(
            NewProduct(
                sku=row["sku"],
                name=row["name"],
                unit_price=Money.of(row["unit_price"], row.get("currency") or self._currency),
                uom=row.get("uom") or "EA",
                tax_rate=decimal_of(row.get("tax_rate") or "0", "tax_rate"),
                erp_material_id=optional(row, "erp_material_id"),
                min_order_qty=decimal_of(row.get("min_order_qty") or "1", "min_order_qty"),
                active=active in self._TRUE,
            )
        )
        if product.sku in self._seen:
            raise ValidationFailed(f"SKU {product.sku} appears more than once in the file", field="sku")
        self._seen.add(product.sku)
        self._batch.append(product)
        if len(self._batch) >= self.BATCH:
            self.finish()

    def finish(self) -> None:
        if self._batch:
            self._crm.catalogue.upsert_many(self._actor, self._batch)
            self._batch.clear()


def _days(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise ValidationFailed(f"{field} must be a whole number of days, got {value!r}", field=field)
    return int(value)
