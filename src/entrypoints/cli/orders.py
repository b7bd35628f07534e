"""`crm orders import FILE`: orders from a CSV or XLSX file, one row per order line, grouped into orders by `order_ref`.

Each order is created with channel `import` and submitted at once (credit-checked like any submit: it ends
`submitted` or `on_credit_hold`; a hold is an outcome, not a failure); `--draft` only creates drafts. The
`order_ref` is the idempotency key (`import:<order_ref>`), so importing the same file again within the
idempotency period (24 hours) creates nothing new; the same `order_ref` with other lines is refused. A row that
fails is reported with its line number and reason, and its whole order is left out (an order is never imported
with lines missing); the other orders are kept. Exit 1 if any row failed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import attrs
import typer

from crm_domain.errors import DomainError, IdempotencyKeyReused, InactiveSku, UnknownSku, ValidationFailed
from crm_domain.orders import Channel, LineRequest, OrderStatus
from crm_domain.services.orders import NewOrder
from entrypoints.cli.context import OPERATOR, container, out
from entrypoints.cli.csv_import import import_progress, print_report, read_rows
from entrypoints.imports import ImportReport

app = typer.Typer(help="Import orders.", no_args_is_help=True)

REQUIRED = {"order_ref", "customer_code", "sku", "quantity"}
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$")


@attrs.define
class _Group:
    """The rows of one `order_ref`."""

    ref: str
    customer_code: str
    notes: str = ""
    lines: list[tuple[int, LineRequest]] = attrs.field(factory=list)
    failed: dict[int, str] = attrs.field(factory=dict)

    @property
    def line_numbers(self) -> list[int]:
        return sorted([n for n, _ in self.lines] + list(self.failed))


def _group_rows(path: Path, report: ImportReport) -> list[_Group]:
    _, rows = read_rows(path, REQUIRED)
    groups: dict[str, _Group] = {}
    for line, row in rows:
        if "__error__" in row:
            report.fail(line, row["__error__"])
            continue
        ref = row.get("order_ref", "")
        if not _REF.match(ref):
            report.fail(line, f"order_ref {ref!r} must be 1–64 letters, digits, '.', '_', '/' or '-'")
            continue
        group = groups.setdefault(ref, _Group(ref=ref, customer_code=row.get("customer_code", "")))
        try:
            if not row.get("customer_code"):
                raise ValidationFailed("customer_code is required", field="customer_code")
            if row["customer_code"] != group.customer_code:
                raise ValidationFailed(
                    f"order {ref} is for customer {group.customer_code}, this row says {row['customer_code']}"
                )
            notes = row.get("notes", "")
            if notes and group.notes and notes != group.notes:
                raise ValidationFailed(f"order {ref} has other notes on an earlier row", field="notes")
            request = LineRequest(
                sku=row.get("sku", ""), quantity=row.get("quantity", ""), discount_pct=row.get("discount_pct") or "0"
            )
            if any(existing.sku == request.sku for _, existing in group.lines):
                raise ValidationFailed(f"SKU {request.sku} appears more than once in order {ref}", field="sku")
            group.notes = group.notes or notes
            group.lines.append((line, request))
        except (DomainError, ValueError, ArithmeticError) as exc:
            group.failed[line] = str(exc)
    return list(groups.values())


def _fail_group(report: ImportReport, group: _Group, culprit: int, reason: str) -> None:
    for line in group.line_numbers:
        if line == culprit:
            report.fail(line, reason)
        elif line in group.failed:
            report.fail(line, group.failed[line])
        else:
            report.fail(line, f"order {group.ref} not imported (line {culprit} failed)")


@app.command("import")
def import_orders(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="A CSV (UTF-8, Windows-1252 or Latin-1) or XLSX file."
        ),
    ],
    draft: Annotated[
        bool, typer.Option("--draft", help="Create the orders as drafts instead of submitting them.")
    ] = False,
) -> None:
    """Import orders from a CSV or XLSX file; re-importing a file creates nothing twice.

    Columns: order_ref, customer_code, sku, quantity (required); discount_pct, notes. Rows with one order_ref form
    one order, submitted (credit-checked) unless --draft. Failing rows are listed with their line number; other
    orders are kept (exit 1 if any row failed)."""
    crm = container().crm
    report = ImportReport()
    groups = _group_rows(file, report)
    started = crm.ctx.now()
    outcomes = {"submitted": 0, "on credit hold": 0, "draft": 0, "already imported": 0}
    with import_progress("orders") as progress:
        task = progress.add_task("orders", total=len(groups))
        for group in groups:
            progress.advance(task)
            if group.failed:
                first = min(group.failed)
                _fail_group(report, group, first, group.failed[first])
                continue
            try:
                customer = crm.customers.get_by_code(OPERATOR, group.customer_code).customer
                order = crm.orders.create(
                    OPERATOR,
                    NewOrder(
                        customer_id=customer.id,
                        lines=tuple(request for _, request in group.lines),
                        notes=group.notes,
                        channel=Channel.IMPORT,
                        submit=not draft,
                    ),
                    idempotency_key=f"import:{group.ref}",
                )
            except IdempotencyKeyReused:
                reason = f"order {group.ref} was imported before with other content"
                _fail_group(report, group, group.line_numbers[0], reason)
                continue
            except DomainError as exc:
                culprit = group.line_numbers[0]
                if isinstance(exc, UnknownSku | InactiveSku):
                    culprit = next((n for n, r in group.lines if r.sku == exc.sku), culprit)
                _fail_group(report, group, culprit, str(exc))
                continue
            report.imported += 1
            if order.created_at < started:
                outcomes["already imported"] += 1
            elif order.status is OrderStatus.ON_CREDIT_HOLD:
                outcomes["on credit hold"] += 1
            else:
                outcomes[order.status.value if order.status is OrderStatus.DRAFT else "submitted"] += 1
    report.failures.sort()
    code = print_report(report, "orders")
    out.print(", ".join(f"{n} {what}" for what, n in outcomes.items()))
    raise typer.Exit(code)
