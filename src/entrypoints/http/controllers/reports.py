"""/api/v1/reports/… and /api/v1/customers/{id}/statement (SPEC §2.8, §4).

Each report answers JSON (paged with `limit` and `cursor`), CSV (streamed), XLSX (written in openpyxl's
write-only mode to a temporary file, then streamed) or SVG (a bar chart), chosen by `?format=` or else by the
`Accept` header. Dates are days in the company time zone; `from` defaults to the first of the current month and
`to` to today. Scope is the service's: what is outside it is not found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar, cast

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from crm_domain.orders import OrderStatus
from crm_domain.reports import SalesGroup
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.http.report_cache import cached_sales
from entrypoints.http.report_downloads import (
    From,
    ReportFormat,
    To,
    file_response,
    report_days,
    sales_chart_table,
    sales_filter,
)
from entrypoints.http.schemas.common import Page
from entrypoints.http.schemas.reports import ExposureOut, HoldOut, SalesReportOut, SalesRowOut, StatementOut
from entrypoints.report_tables import (
    SVG_TYPE,
    XLSX_TYPE,
    Table,
    exposure_table,
    holds_table,
    sales_table,
    statement_table,
)

T = TypeVar("T")


_BY_TYPE = {"text/csv": ReportFormat.CSV, XLSX_TYPE: ReportFormat.XLSX, SVG_TYPE: ReportFormat.SVG}

FormatQuery = Annotated[
    ReportFormat | None,
    QueryParameter(name="format", required=False, description="json (default), csv, xlsx or svg; else `Accept`."),
]
Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="Rows per page of JSON (default 100).")]
Cursor = Annotated[
    str | None, QueryParameter(required=False, max_length=12, pattern=r"^[0-9]+$", description="From `next_cursor`.")
]
Ids = Annotated[list[str] | None, QueryParameter(required=False, max_items=500)]


def negotiate(request: Request[Any, Any, Any], asked: ReportFormat | None) -> ReportFormat:
    if asked is not None:
        return asked
    accept = request.headers.get("accept", "")
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in _BY_TYPE:
            return _BY_TYPE[media]
    return ReportFormat.JSON


def page_of(items: list[T], cursor: str | None, limit: int) -> tuple[list[T], str | None]:
    start = int(cursor or 0)
    end = start + limit
    return items[start:end], str(end) if end < len(items) else None


R = TypeVar("R")
Out = TypeVar("Out")


def rows_answer(
    request: Request[Any, Any, Any],
    asked: ReportFormat | None,
    rows: list[R],
    table: Callable[[list[R]], Table],
    name: str,
    page: type[Page[Out]],
    out: Callable[[R], Out],
) -> Callable[[str | None, int], Response[Any]]:
    """A list report's answer: the file of its table in the format asked for, else a JSON page of its rows."""

    def answer(cursor: str | None, limit: int) -> Response[Any]:
        fmt = negotiate(request, asked)
        if fmt is not ReportFormat.JSON:
            return file_response(table(rows), fmt, name)
        items, next_cursor = page_of(rows, cursor, limit)
        return Response(page(items=[out(r) for r in items], next_cursor=next_cursor))

    return answer


class ReportController(Controller):
    path = "/reports"
    tags = ["reports"]

    @get(
        "/sales",
        operation_id="salesReport",
        summary="Sales grouped by day, week, month, rep, customer, product or territory, with a totals row",
    )
    async def sales(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        from_: From = None,
        to: To = None,
        group_by: Annotated[SalesGroup, QueryParameter(required=False)] = SalesGroup.MONTH,
        status: Annotated[
            list[OrderStatus] | None,
            QueryParameter(required=False, description="Default: the statuses that count as achieved."),
        ] = None,
        rep_id: Ids = None,
        customer_id: Ids = None,
        sku: Ids = None,
        territory: Ids = None,
        format_: FormatQuery = None,
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> Response[SalesReportOut]:
        start, end = report_days(crm, from_, to)
        flt = sales_filter(start, end, group_by, status, rep_id, customer_id, sku, territory)
        fmt = negotiate(request, format_)
        report = await cached_sales(request, crm, actor, flt)
        if fmt is not ReportFormat.JSON:
            table = sales_chart_table(report) if fmt is ReportFormat.SVG else sales_table(report)
            return cast(Response[SalesReportOut], file_response(table, fmt, "sales"))
        items, next_cursor = page_of(report.rows, cursor, limit)
        return Response(
            SalesReportOut(
                group_by=group_by.value,
                start=start,
                end=end,
                statuses=sorted(s.value for s in flt.statuses),
                items=[SalesRowOut.of(r) for r in items],
                totals=[SalesRowOut.of(r) for r in report.totals],
                next_cursor=next_cursor,
            )
        )

    @get(
        "/credit-exposure",
        operation_id="creditExposureReport",
        sync_to_thread=True,
        summary="Per customer: limit, exposure and its parts, available, utilisation; over the limit first",
    )
    def credit_exposure(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        format_: FormatQuery = None,
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> Response[Page[ExposureOut]]:
        rows = crm.reports.credit_exposure(actor)
        answer = rows_answer(
            request, format_, rows, exposure_table, "credit-exposure", Page[ExposureOut], ExposureOut.of
        )
        return answer(cursor, limit)

    @get(
        "/credit-holds",
        operation_id="creditHoldsReport",
        sync_to_thread=True,
        summary="Orders on credit hold with customer, total, shortfall, reason and age; oldest first",
    )
    def credit_holds(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        format_: FormatQuery = None,
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> Response[Page[HoldOut]]:
        rows = crm.reports.credit_holds(actor)  # ages move with the clock: not cached
        tz = crm.ctx.config.tz
        answer = rows_answer(
            request, format_, rows, lambda r: holds_table(r, tz), "credit-holds", Page[HoldOut], HoldOut.of
        )
        return answer(cursor, limit)


class StatementController(Controller):
    path = "/customers"
    tags = ["reports"]

    @get(
        "/{customer_id:str}/statement",
        operation_id="customerStatement",
        sync_to_thread=True,
        summary="The dealer statement: orders, invoices and payments as known from the ERP, opening and closing "
        "balance",
    )
    def statement(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        customer_id: FromPath[str],
        from_: From = None,
        to: To = None,
        format_: FormatQuery = None,
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> Response[StatementOut]:
        start, end = report_days(crm, from_, to)
        statement = crm.reports.statement(actor, customer_id, start, end)
        fmt = negotiate(request, format_)
        if fmt is not ReportFormat.JSON:
            table = statement_table(statement, crm.ctx.config.tz)
            return cast(Response[StatementOut], file_response(table, fmt, "statement"))
        items, next_cursor = page_of(statement.lines, cursor, limit)
        return Response(StatementOut.of(statement, items, next_cursor))
