"""CSV imports of customers and products, row by row with a result per row: the code behind `crm customers import`,
`crm products import` and the admin's upload page. Every failing row is reported with its line number and reason;
the good rows are kept."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

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


@attrs.define
class ImportReport:
    imported: int = 0
    failures: list[tuple[int, str]] = attrs.field(factory=list)

    def fail(self, line: int, reason: str) -> None:
        self.failures.append((line, reason))


def csv_rows(handle: TextIO, required: set[str], source: str) -> Iterator[tuple[int, Row]]:
    """Rows as (line number, {column: stripped value}), blank rows skipped; `ValidationFailed` at once for a header
    that lacks a required column."""
    reader = csv.DictReader(handle)
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    missing = required - columns
    if missing:
        raise ValidationFailed(f"{source}: missing column(s) {', '.join(sorted(missing))}")

    def rows() -> Iterator[tuple[int, Row]]:
        for row in reader:
            if None in row:
                yield reader.line_num, {ROW_ERROR: "more values than columns"}
                continue
            cleaned = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            if not any(cleaned.values()):
                continue
            yield reader.line_num, cleaned

    return rows()


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
