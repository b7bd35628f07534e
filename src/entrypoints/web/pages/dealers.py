"""Dealers: the list in scope with their credit, a dealer's card (credit, limit history, recent orders, a limit
request), and the dealer's own credit page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from crm_domain.app import Crm
from crm_domain.errors import DomainError, NotFound, ValidationFailed
from crm_domain.money import Money
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from crm_domain.search import TextQuery
from crm_domain.users import Actor
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.web.forms import FormDep
from entrypoints.web.names import Names
from entrypoints.web.rendering import page

RECENT_ORDERS = 10
_ONE_PAGE = 200


def _card(request: Request[Any, Any, Any], crm: Crm, actor: Actor, customer_id: str, **extra: Any) -> Template:
    view = crm.customers.get(actor, customer_id)
    recent = crm.orders.list(actor, PageRequest(limit=RECENT_ORDERS), OrderQuery(customer_id=customer_id))
    return page(
        request,
        "dealers/show.html",
        customer=view.customer,
        position=crm.credit.position(actor, customer_id),
        history=crm.credit.limit_history(actor, customer_id)[-10:][::-1],
        orders=recent.items,
        names=Names(crm, actor),
        **extra,
    )


class DealerPages(Controller):
    path = "/"

    @get("/dealers", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, q: FromQuery[str] = "") -> Template:
        """Search as you type is the one customer search (crm_domain.search), as `q` on the API's list."""
        customers, error = [], ""
        try:
            text = TextQuery.parse(q) if q.strip() else None
            customers = crm.customers.list(actor, PageRequest(limit=_ONE_PAGE), text=text).items
        except ValidationFailed as exc:
            error = exc.message
        rows = [(c, crm.credit.position(actor, c.id)) for c in customers]
        return page(request, "dealers/index.html", rows=rows, q=q, error=error)

    @get("/dealers/{customer_id:str}", sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        customer_id: FromPath[str],
        done: FromQuery[str] = "",
    ) -> Template:
        return _card(request, crm, actor, customer_id, done=done)

    @post("/dealers/{customer_id:str}/limit-request", sync_to_thread=True, status_code=200)
    def request_limit(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], form: FormDep
    ) -> Response[Any]:
        try:
            currency = crm.customers.get(actor, customer_id).customer.currency
            amount = form.get("new_limit")
            if not amount:
                raise ValidationFailed("give the new limit", field="new_limit")
            crm.credit.request_limit_change(actor, customer_id, Money.of(amount, currency), form.get("reason"))
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return _card(request, crm, actor, customer_id, error=exc.message)
        return Redirect(f"/dealers/{customer_id}?done=requested", status_code=HTTP_303_SEE_OTHER)

    @get("/my-credit", sync_to_thread=True)
    def my_credit(self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep) -> Template:
        if not actor.customer_id:
            raise NotFound("this page is for dealers")
        return _card(request, crm, actor, actor.customer_id, own=True)
