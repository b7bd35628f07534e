"""/api/v1/targets and /api/v1/performance: monthly targets, achieved figures with roll-ups, the leaderboard.

`period` defaults to the current month in the company time zone.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, put
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from crm_domain.app import Crm
from crm_domain.money import Money
from crm_domain.performance import period_of
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.http.list_params import UpdatedSince, since
from entrypoints.http.schemas.common import Items
from entrypoints.http.schemas.targets import PERIOD_PATTERN, PerformanceOut, TargetIn, TargetOut

PeriodQuery = Annotated[
    str | None,
    QueryParameter(
        required=False,
        pattern=PERIOD_PATTERN,
        description="Calendar month YYYY-MM (company time zone); default: the current month.",
    ),
]


def _period(crm: Crm, period: str | None) -> str:
    return period or period_of(crm.ctx.now(), crm.ctx.config.tz)


class TargetController(Controller):
    path = "/targets"
    tags = ["performance"]

    @put(
        "/",
        status_code=HTTP_200_OK,
        operation_id="setTarget",
        sync_to_thread=True,
        summary="Set a user's target for a month (managers for their team, admins for anyone)",
    )
    def set_target(self, crm: CrmDep, actor: ActorDep, data: JSONBody[TargetIn]) -> TargetOut:
        amount = Money.of(data.amount, data.currency or crm.ctx.config.default_currency)
        return TargetOut.of(crm.performance.set_target(actor, data.user_id, data.period, amount))

    @get("/", operation_id="listTargets", sync_to_thread=True, summary="Targets of a month for the users in scope")
    def list_targets(
        self, crm: CrmDep, actor: ActorDep, period: PeriodQuery = None, updated_since: UpdatedSince = None
    ) -> Items[TargetOut]:
        targets = crm.performance.targets(actor, _period(crm, period), updated_since=since(updated_since))
        return Items[TargetOut](items=[TargetOut.of(t) for t in targets])


class PerformanceController(Controller):
    path = "/performance"
    tags = ["performance"]

    @get(
        "/",
        operation_id="getPerformance",
        sync_to_thread=True,
        summary="Target, achieved, achievement % and orders per user in scope; a manager's row rolls up the team",
    )
    def figures(
        self,
        crm: CrmDep,
        actor: ActorDep,
        period: PeriodQuery = None,
        user_id: Annotated[str | None, QueryParameter(required=False, max_length=64)] = None,
        period_to: Annotated[
            str | None,
            QueryParameter(
                required=False,
                pattern=PERIOD_PATTERN,
                description="With `period`: the last month of a range; the figures are summed over it.",
            ),
        ] = None,
    ) -> Items[PerformanceOut]:
        if period_to is not None:
            rows = crm.performance.over_range(actor, _period(crm, period), period_to, user_id)
            return Items[PerformanceOut](items=[PerformanceOut.of(r) for r in rows])
        rows = crm.performance.figures(actor, _period(crm, period), user_id)
        return Items[PerformanceOut](items=[PerformanceOut.of(r) for r in rows])

    @get(
        "/leaderboard",
        operation_id="getLeaderboard",
        sync_to_thread=True,
        summary="Reps in scope ranked by achievement %, then achieved value",
    )
    def leaderboard(self, crm: CrmDep, actor: ActorDep, period: PeriodQuery = None) -> Items[PerformanceOut]:
        rows = crm.performance.leaderboard(actor, _period(crm, period))
        return Items[PerformanceOut](items=[PerformanceOut.of(r) for r in rows])

    @get(
        "/trend",
        operation_id="getPerformanceTrend",
        sync_to_thread=True,
        summary="A user's figures month by month (default the last six up to `period`), oldest first",
    )
    def trend(
        self,
        crm: CrmDep,
        actor: ActorDep,
        period: PeriodQuery = None,
        periods: Annotated[int, QueryParameter(ge=1, le=120, description="How many months (default 6).")] = 6,
        user_id: Annotated[
            str | None, QueryParameter(required=False, max_length=64, description="Default: yourself.")
        ] = None,
    ) -> Items[PerformanceOut]:
        rows = crm.performance.trend(actor, _period(crm, period), periods, user_id)
        return Items[PerformanceOut](items=[PerformanceOut.of(r) for r in rows])
