"""The first page after sign-in: what needs the person's attention today, by role."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from crm_domain.credit_governance import LimitRequestStatus
from crm_domain.orders import OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from crm_domain.users import Permission, Role
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.web.names import Names
from entrypoints.web.pages.performance import current_period
from entrypoints.web.rendering import page

RECENT = 5


class HomePages(Controller):
    path = "/home"

    @get("/", sync_to_thread=True)
    def home(self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep) -> Template:
        view: dict[str, Any] = {"names": Names(crm, actor)}
        if actor.can(Permission.ORDER_READ):
            view["recent"] = crm.orders.list(actor, PageRequest(limit=RECENT)).items
        if actor.has_role(Role.SALES_REP) or actor.has_role(Role.SALES_MANAGER):
            period = current_period(crm)
            view["period"] = period
            view["figures"] = crm.performance.figures(actor, period, actor.id)[0]
        if actor.can(Permission.ORDER_RELEASE):
            held = crm.orders.list(actor, PageRequest(limit=100), OrderQuery(status=OrderStatus.ON_CREDIT_HOLD))
            view["held"] = len(held.items)
        if actor.can(Permission.CREDIT_LIMIT_APPROVE):
            pending = crm.credit.list_requests(actor, PageRequest(limit=100), LimitRequestStatus.PENDING)
            view["pending"] = len(pending.items)
        if actor.has_role(Role.DEALER) and actor.customer_id:
            view["position"] = crm.credit.position(actor, actor.customer_id)
        return page(request, "home.html", **view)
