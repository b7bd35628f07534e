"""Targets and performance: a rep's own target (target against achieved, month by month), a manager's team and
leaderboard, and the reports page (performance as CSV; links to the reports of pages/reports.py)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery
from litestar.response import Template

from crm_domain.app import Crm
from crm_domain.performance import PerformanceRow, check_period, period_of
from crm_domain.reports import SalesGroup
from crm_domain.users import Actor
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.web.charts import Group, grouped_bars
from entrypoints.web.rendering import page

MONTHS_SHOWN = 6


def current_period(crm: Crm) -> str:
    return period_of(crm.ctx.now(), crm.ctx.config.tz)


def months_back(period: str, count: int) -> list[str]:
    """`count` periods ending with `period`, oldest first."""
    year, month = int(period[:4]), int(period[5:])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def _period(crm: Crm, period: str | None) -> str:
    return check_period(period) if period else current_period(crm)


def _history(crm: Crm, actor: Actor, user_id: str, period: str) -> list[tuple[str, PerformanceRow]]:
    return [(p, crm.performance.figures(actor, p, user_id)[0]) for p in months_back(period, MONTHS_SHOWN)]


def _label(period: str) -> str:
    return datetime.strptime(period, "%Y-%m").strftime("%b %y")  # noqa: DTZ007 - a month label, no moment


class PerformancePages(Controller):
    path = "/"

    @get("/performance", sync_to_thread=True)
    def mine(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, period: FromQuery[str | None] = None
    ) -> Template:
        chosen = _period(crm, period)
        history = _history(crm, actor, actor.id, chosen)
        chart = grouped_bars(
            "mine",
            "Target and achieved by month",
            [
                Group(_label(p), {"target": r.target.amount if r.target else None, "achieved": r.achieved.amount})
                for p, r in history
            ],
            ["target", "achieved"],
            legend="light bars: target; green bars: achieved",
        )
        return page(request, "performance/mine.html", row=history[-1][1], history=history, chart=chart, period=chosen)

    @get("/team", sync_to_thread=True)
    def team(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, period: FromQuery[str | None] = None
    ) -> Template:
        chosen = _period(crm, period)
        rows = crm.performance.figures(actor, chosen)
        mine = next((r for r in rows if r.user_id == actor.id), None)
        history = _history(crm, actor, actor.id, chosen) if mine else []
        sales = grouped_bars(
            "sales",
            "Team sales by month",
            [
                Group(_label(p), {"achieved": r.achieved.amount, "target": r.target.amount if r.target else None})
                for p, r in history
            ],
            ["target", "achieved"],
            legend="light bars: target; green bars: achieved",
        )
        others = [r for r in rows if r.user_id != actor.id]
        reps = grouped_bars(
            "reps",
            f"Target and achieved per person, {chosen}",
            [
                Group(
                    r.name.split()[0], {"target": r.target.amount if r.target else None, "achieved": r.achieved.amount}
                )
                for r in others
            ],
            ["target", "achieved"],
        )
        return page(
            request,
            "performance/team.html",
            mine=mine,
            rows=others,
            sales=sales,
            reps=reps,
            period=chosen,
            periods=months_back(current_period(crm), 12)[::-1],
        )

    @get("/team/leaderboard", sync_to_thread=True)
    def leaderboard(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, period: FromQuery[str | None] = None
    ) -> Template:
        chosen = _period(crm, period)
        return page(
            request,
            "performance/leaderboard.html",
            rows=crm.performance.leaderboard(actor, chosen),
            period=chosen,
            periods=months_back(current_period(crm), 12)[::-1],
        )

    @get("/reports", sync_to_thread=True)
    def reports(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, period: FromQuery[str | None] = None
    ) -> Template:
        chosen = _period(crm, period)
        crm.performance.figures(actor, chosen)  # the same permission as the downloads below
        return page(
            request,
            "performance/reports.html",
            period=chosen,
            periods=months_back(current_period(crm), 12)[::-1],
            groups=list(SalesGroup),
        )

    @get("/reports/performance.csv", sync_to_thread=True)
    def performance_csv(self, crm: CrmDep, actor: ActorDep, period: FromQuery[str | None] = None) -> Response[str]:
        chosen = _period(crm, period)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["rank", "user_id", "name", "period", "target", "achieved", "achievement_pct", "orders"])
        for rank, r in enumerate(crm.performance.leaderboard(actor, chosen), start=1):
            writer.writerow(
                [
                    rank,
                    r.user_id,
                    r.name,
                    r.period,
                    r.target.decimal_string() if r.target else "",
                    r.achieved.decimal_string(),
                    "" if r.achievement_pct is None else str(r.achievement_pct),
                    r.orders,
                ]
            )
        return Response(
            out.getvalue(),
            media_type="text/csv",  # Litestar adds the charset
            headers={
                "Content-Disposition": f'attachment; filename="performance-{chosen}.csv"',
                "Cache-Control": "no-store",
            },
        )
