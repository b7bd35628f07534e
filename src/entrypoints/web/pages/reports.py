"""The reports of SPEC §2.8 as pages, with their CSV and XLSX downloads: sales (managers, admins, reps for their
dealers), credit exposure and credit holds (credit control), the dealer statement (a dealer's own; anyone's in
scope). The same `crm.reports` calls, scope and files as the API (entrypoints/http/report_downloads.py); a
download is signed in by the page's cookie, not a bearer token, and a refusal is the error page with the API's
status.

Each report is one handler for three paths: the page, and the page's path with `.csv` or `.xlsx` (the same query).
The handlers are `async` and run the services in a thread: a `sync_to_thread` handler with several paths gave the
app's `after_request` hook an un-awaited coroutine.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from anyio import to_thread
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter
from markupsafe import Markup

from crm_domain.app import Crm
from crm_domain.errors import NotFound
from crm_domain.reports import SalesGroup, SalesReport
from crm_domain.users import Actor
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
from entrypoints.report_charts import bar_chart
from entrypoints.report_tables import exposure_table, holds_table, sales_table, statement_table
from entrypoints.web.charts import Group, grouped_bars
from entrypoints.web.formatting import grouped, money
from entrypoints.web.rendering import page


def chart_number(report: SalesReport) -> Callable[[Decimal], str]:
    """How the sales chart writes its amounts: in the report's currency when it has one, else as plain grouped
    numbers (bars of several currencies carry no symbol rather than a wrong one)."""
    currencies = {row.currency for row in report.rows}
    if len(currencies) == 1:
        return functools.partial(money, currency=currencies.pop())
    return grouped


#: Rows a report page shows at most (the first ones in the report's order); the downloads carry every row.
PAGE_ROWS = 500
GroupBy = Annotated[SalesGroup, QueryParameter(required=False)]
#: Dealers drawn in the exposure chart (the table lists them all).
CHART_DEALERS = 12
#: Downloads carry a person's figures: never kept by a browser or a proxy.
PRIVATE = {"Cache-Control": "no-store"}


def _paths(path: str) -> list[str]:
    return [path, f"{path}.csv", f"{path}.xlsx"]


def _download(request: Request[Any, Any, Any]) -> ReportFormat | None:
    """CSV or XLSX for a path ending `.csv` or `.xlsx`; None for the page."""
    last = request.url.path.rsplit("/", 1)[-1]
    return ReportFormat(last.rsplit(".", 1)[1]) if "." in last else None


def _query(start: date, end: date, **more: str) -> str:
    return urlencode({"from": start.isoformat(), "to": end.isoformat(), **more})


class ReportPages(Controller):
    path = "/reports"

    @get(_paths("/sales"))
    async def sales(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        from_: From = None,
        to: To = None,
        group_by: GroupBy = SalesGroup.MONTH,
    ) -> Response[Any]:
        first, last = report_days(crm, from_, to)
        report = await cached_sales(request, crm, actor, sales_filter(first, last, group_by))
        if fmt := _download(request):
            return file_response(sales_table(report), fmt, "sales", PRIVATE)
        chart = bar_chart(sales_chart_table(report), chart_id="sales-chart", number=chart_number(report))
        return page(
            request,
            "reports/sales.html",
            report=report,
            chart=Markup(chart),  # noqa: S704 - drawn by report_charts, which escapes every text
            groups=list(SalesGroup),
            query=_query(first, last, group_by=group_by.value),
        )

    @get(_paths("/credit-exposure"))
    async def credit_exposure(self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep) -> Response[Any]:
        rows = await to_thread.run_sync(crm.reports.credit_exposure, actor)
        if fmt := _download(request):
            return file_response(exposure_table(rows), fmt, "credit-exposure", PRIVATE)
        chart = grouped_bars(
            "exposure",
            f"Exposure against limit, the {CHART_DEALERS} most used",
            [Group(r.code, {"limit": r.limit.amount, "exposure": r.exposure.amount}) for r in rows[:CHART_DEALERS]],
            ["limit", "exposure"],
            legend="light bars: limit; dark bars: exposure",
        )
        over = sum(1 for r in rows if r.over_limit)
        return page(request, "reports/exposure.html", rows=rows[:PAGE_ROWS], count=len(rows), over=over, chart=chart)

    @get(_paths("/credit-holds"))
    async def credit_holds(self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep) -> Response[Any]:
        rows = await to_thread.run_sync(crm.reports.credit_holds, actor)
        if fmt := _download(request):
            return file_response(holds_table(rows, crm.ctx.config.tz), fmt, "credit-holds", PRIVATE)
        return page(request, "reports/holds.html", rows=rows[:PAGE_ROWS], count=len(rows))


async def _statement(
    request: Request[Any, Any, Any], crm: Crm, actor: Actor, customer_id: str, start: date | None, end: date | None
) -> Response[Any]:
    first, last = report_days(crm, start, end)
    statement = await to_thread.run_sync(crm.reports.statement, actor, customer_id, first, last)
    if fmt := _download(request):
        name = "statement-" + re.sub(r"[^A-Za-z0-9_-]", "", statement.code)
        return file_response(statement_table(statement, crm.ctx.config.tz), fmt, name, PRIVATE)
    return page(
        request,
        "reports/statement.html",
        statement=statement,
        own=customer_id == actor.customer_id,
        query=_query(statement.start, statement.end),
    )


class StatementPages(Controller):
    path = "/"

    @get("/my-statement")
    async def mine(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, from_: From = None, to: To = None
    ) -> Response[Any]:
        if not actor.customer_id:
            raise NotFound("this page is for dealers")
        return await _statement(request, crm, actor, actor.customer_id, from_, to)

    @get(_paths("/dealers/{customer_id:str}/statement"))
    async def show(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        customer_id: FromPath[str],
        from_: From = None,
        to: To = None,
    ) -> Response[Any]:
        return await _statement(request, crm, actor, customer_id, from_, to)
