"""Credit control: the hold queue (release or reject with a note, oldest first) and credit-term requests to
approve. The exposure and holds reports are in pages/reports.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_301_MOVED_PERMANENTLY, HTTP_303_SEE_OTHER

from crm_domain.app import Crm
from crm_domain.credit_governance import LimitRequestStatus
from crm_domain.errors import DomainError, NotFound, PermissionDenied
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from crm_domain.users import Actor, Permission
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.http.metrics import count_decision
from entrypoints.http.problems import status_of
from entrypoints.web.forms import FormDep
from entrypoints.web.names import Names
from entrypoints.web.rendering import page

#: The hold queue shows this many orders (the oldest); the API's holds report pages through all of them.
QUEUE_SIZE = 200


def _held_oldest_first(crm: Crm, actor: Actor) -> list[Order]:
    held = crm.orders.list(actor, PageRequest(limit=QUEUE_SIZE), OrderQuery(status=OrderStatus.ON_CREDIT_HOLD))
    return sorted(held.items, key=lambda o: (o.held_at or o.created_at, o.number))


class CreditPages(Controller):
    path = "/credit"

    @get("/holds", sync_to_thread=True)
    def holds(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, done: FromQuery[str] = ""
    ) -> Template:
        actor.require(Permission.ORDER_RELEASE)
        return page(
            request, "credit/holds.html", orders=_held_oldest_first(crm, actor), names=Names(crm, actor), done=done
        )

    @post("/holds/{order_id:str}", sync_to_thread=True, status_code=200)
    def decide(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, order_id: FromPath[str], form: FormDep
    ) -> Response[Any]:
        """Release or reject one held order; for htmx the row is replaced by what happened."""
        decision, note = form.get("decision"), form.get("note")
        error, status = "", 400
        order = None
        try:
            if decision == "release":
                order = count_decision("released", crm.orders.release(actor, order_id, note))
            elif decision == "reject":
                order = count_decision("rejected", crm.orders.reject(actor, order_id, note))
            else:
                error = "choose release or reject"
        except DomainError as exc:
            if isinstance(exc, NotFound | PermissionDenied):
                raise
            error, status = exc.message, status_of(exc)[0]
        if request.headers.get("hx-request"):
            held = order or crm.orders.get(actor, order_id)
            return page(request, "credit/_hold_row.html", o=held, names=Names(crm, actor), error=error)
        if error:
            return page(
                request,
                "credit/holds.html",
                status_code=status,
                orders=_held_oldest_first(crm, actor),
                names=Names(crm, actor),
                error=error,
            )
        assert order is not None
        return Redirect(f"/credit/holds?done={order.number}+{order.status.value}", status_code=HTTP_303_SEE_OTHER)

    @get("/requests", sync_to_thread=True)
    def requests(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        done: FromQuery[str] = "",
        error: FromQuery[str] = "",
    ) -> Template:
        pending = crm.credit.list_requests(actor, PageRequest(limit=100), LimitRequestStatus.PENDING)
        decided = crm.credit.list_requests(actor, PageRequest(limit=20), LimitRequestStatus.APPROVED)
        return page(
            request,
            "credit/requests.html",
            pending=pending.items,
            decided=decided.items,
            names=Names(crm, actor),
            done=done,
            error=error,
        )

    @post("/requests/{request_id:str}", sync_to_thread=True, status_code=200)
    def decide_request(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, request_id: FromPath[str], form: FormDep
    ) -> Response[Any]:
        decision, note = form.get("decision"), form.get("note")
        try:
            if decision == "approve":
                crm.credit.approve_request(actor, request_id, note)
            else:
                crm.credit.reject_request(actor, request_id, note)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            pending = crm.credit.list_requests(actor, PageRequest(limit=100), LimitRequestStatus.PENDING)
            return page(
                request,
                "credit/requests.html",
                status_code=status_of(exc)[0],
                pending=pending.items,
                decided=[],
                names=Names(crm, actor),
                error=exc.message,
            )
        verb = "approved" if decision == "approve" else "rejected"
        return Redirect(f"/credit/requests?done={verb}", status_code=HTTP_303_SEE_OTHER)

    @get("/exposure")
    async def exposure(self) -> Redirect:
        """The exposure report moved to /reports/credit-exposure (on the reports service, with its downloads)."""
        return Redirect("/reports/credit-exposure", status_code=HTTP_301_MOVED_PERMANENTLY)
