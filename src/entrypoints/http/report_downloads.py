"""What the API's report routes and the web app's report pages share: the file formats, the date range, the
sales filter from query parameters and the file responses (CSV streamed, XLSX written in openpyxl's write-only mode
to a temporary file then streamed, SVG). One place, so a download from a page is byte for byte the API's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from litestar import Response
from litestar.params import QueryParameter
from litestar.response import Stream

from crm_domain.app import Crm
from crm_domain.errors import ValidationFailed
from crm_domain.orders import OrderStatus
from crm_domain.reports import SalesFilter, SalesGroup, SalesReport
from entrypoints.report_charts import bar_chart
from entrypoints.report_tables import (
    CSV_TYPE,
    SVG_TYPE,
    XLSX_TYPE,
    Table,
    csv_chunks,
    iter_file,
    sales_table,
    xlsx_file,
)

From = Annotated[date | None, QueryParameter(name="from", required=False, description="First day (company time zone).")]
To = Annotated[date | None, QueryParameter(required=False, description="Last day, inclusive (default: today).")]


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    SVG = "svg"


def file_response(
    table: Table, fmt: ReportFormat, name: str, headers: Mapping[str, str] | None = None
) -> Response[Any]:
    """The table as a CSV or XLSX attachment, or as an SVG bar chart."""
    extra = dict(headers or {})
    if fmt is ReportFormat.CSV:
        return Stream(
            csv_chunks(table),
            media_type=CSV_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"', **extra},
        )
    if fmt is ReportFormat.XLSX:
        return Stream(
            iter_file(xlsx_file(table)),
            media_type=XLSX_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"', **extra},
        )
    return Response(bar_chart(table, chart_id=name), media_type=SVG_TYPE, headers=extra)


def sales_chart_table(report: SalesReport) -> Table:
    """The sales table without its totals row: a chart draws the groups, not their sum beside them."""
    return sales_table(report, totals=False)


def report_days(crm: Crm, start: date | None, end: date | None) -> tuple[date, date]:
    """`from` defaults to the first of `to`'s month, `to` to today (company time zone)."""
    today = crm.ctx.today()
    end = end or today
    start = start or end.replace(day=1)
    if end < start:
        raise ValidationFailed("`from` must not be after `to`", field="from")
    return start, end


def _set(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(values) if values else None


def sales_filter(
    start: date,
    end: date,
    group_by: SalesGroup,
    status: list[OrderStatus] | None = None,
    rep_id: list[str] | None = None,
    customer_id: list[str] | None = None,
    sku: list[str] | None = None,
    territory: list[str] | None = None,
) -> SalesFilter:
    fields: dict[str, Any] = {"start": start, "end": end, "group_by": group_by}
    if status:
        fields["statuses"] = frozenset(status)
    return SalesFilter(
        **fields,
        rep_ids=_set(rep_id),
        customer_ids=_set(customer_id),
        skus=_set(sku),
        territories=_set(territory),
    )
