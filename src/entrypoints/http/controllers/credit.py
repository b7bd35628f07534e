"""/api/v1 credit: a customer's credit position and history, the credit controller's direct actions that lower
credit (temporary limit down or ended, block), and credit-term change requests decided with four eyes."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from crm_domain.credit_governance import LimitRequestStatus
from crm_domain.records import PageRequest
from entrypoints.http.controllers.orders import Cursor, Limit
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.http.list_params import UpdatedSince, since
from entrypoints.http.schemas.common import Items, Page
from entrypoints.http.schemas.credit import (
    CreditPositionOut,
    CreditReasonIn,
    DecisionIn,
    LimitChangeOut,
    LimitRequestIn,
    LimitRequestOut,
    TemporaryLimitIn,
)


class CustomerCreditController(Controller):
    path = "/customers/{customer_id:str}"
    tags = ["credit"]

    @get(
        "/credit",
        operation_id="getCreditPosition",
        sync_to_thread=True,
        summary="Credit position: limit, receivables, open orders, exposure, available, block",
    )
    def position(self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str]) -> CreditPositionOut:
        return CreditPositionOut.of(crm.credit.position(actor, customer_id))

    @get(
        "/credit/history",
        operation_id="listCreditHistory",
        sync_to_thread=True,
        summary="Every change of the credit terms, oldest first: who, when, why, old and new",
    )
    def history(self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str]) -> Items[LimitChangeOut]:
        changes = crm.credit.limit_history(actor, customer_id)
        return Items[LimitChangeOut](items=[LimitChangeOut.of(c) for c in changes])

    @post(
        "/credit/temporary-limit",
        status_code=HTTP_200_OK,
        operation_id="setTemporaryLimit",
        sync_to_thread=True,
        summary="Lower or end a temporary limit at once (credit controller); raising one is a request",
        description="Requires `credit_limit:approve`. The temporary limit replaces the base limit through "
        "`valid_until` (inclusive); afterwards the base limit applies again. A change that lets the customer owe "
        "more on any day is refused (403 `credit_raise_needs_approval`): ask for it with "
        "`POST /customers/{customer_id}/credit-limit-requests`, kind `temporary_limit`. Answers the new credit "
        "position.",
    )
    def temporary_limit(
        self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], data: JSONBody[TemporaryLimitIn]
    ) -> CreditPositionOut:
        position = crm.credit.set_temporary_limit(actor, customer_id, data.money(), data.valid_until, data.reason)
        return CreditPositionOut.of(position)

    @post(
        "/credit/block",
        status_code=HTTP_200_OK,
        operation_id="blockCredit",
        sync_to_thread=True,
        summary="Block the customer's credit: every submit goes on hold (credit controller)",
        description="Requires `credit_limit:approve`. Submits go `on_credit_hold` with reason "
        "`customer_blocked` until unblocked. Answers the new credit position.",
    )
    def block(
        self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], data: JSONBody[CreditReasonIn]
    ) -> CreditPositionOut:
        return CreditPositionOut.of(crm.credit.block(actor, customer_id, data.reason))

    @post(
        "/credit/unblock",
        status_code=HTTP_200_OK,
        operation_id="unblockCredit",
        sync_to_thread=True,
        summary="Lift a credit block: only through an approved request (kind unblock)",
        description="Requires `credit_limit:approve`. Unblocking a blocked customer raises credit: refused (403 "
        "`credit_raise_needs_approval`); ask with `POST /customers/{customer_id}/credit-limit-requests`, kind "
        "`unblock`. On a customer that is not blocked it changes nothing. Answers the credit position.",
    )
    def unblock(
        self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], data: JSONBody[CreditReasonIn]
    ) -> CreditPositionOut:
        return CreditPositionOut.of(crm.credit.unblock(actor, customer_id, data.reason))

    @post(
        "/credit-limit-requests",
        status_code=HTTP_201_CREATED,
        operation_id="requestCreditLimitChange",
        sync_to_thread=True,
        summary="Ask for a change of the credit terms; someone else with credit_limit:approve decides",
        description="Requires `credit_limit:request`. Every raise of what a customer may owe is asked for here "
        "(kind limit, temporary_limit, tolerance, unblock or policy) and applies when a credit controller who did "
        "not ask approves it. A temporary limit ends at most `CRM_MAX_TEMP_LIMIT_DAYS` ahead; tolerance is at "
        "most `CRM_MAX_TOLERANCE_PCT`.",
    )
    def request_change(
        self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], data: JSONBody[LimitRequestIn]
    ) -> LimitRequestOut:
        request = crm.credit.request_term_change(actor, customer_id, data.term_request(), data.reason)
        return LimitRequestOut.of(request)


class CreditLimitRequestController(Controller):
    path = "/credit-limit-requests"
    tags = ["credit"]

    @get(
        "/",
        operation_id="listCreditLimitRequests",
        sync_to_thread=True,
        summary="Credit-limit requests of customers in scope, newest first",
    )
    def list_requests(
        self,
        crm: CrmDep,
        actor: ActorDep,
        status: FromQuery[LimitRequestStatus | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
        updated_since: UpdatedSince = None,
    ) -> Page[LimitRequestOut]:
        page = crm.credit.list_requests(
            actor, PageRequest(limit=limit, cursor=cursor), status, updated_since=since(updated_since)
        )
        return Page[LimitRequestOut](items=[LimitRequestOut.of(r) for r in page.items], next_cursor=page.next_cursor)

    @get(
        "/{request_id:str}",
        operation_id="getCreditLimitRequest",
        sync_to_thread=True,
        summary="A credit-limit request",
    )
    def get_request(self, crm: CrmDep, actor: ActorDep, request_id: FromPath[str]) -> LimitRequestOut:
        return LimitRequestOut.of(crm.credit.get_request(actor, request_id))

    @post(
        "/{request_id:str}/approve",
        status_code=HTTP_200_OK,
        operation_id="approveCreditLimitRequest",
        sync_to_thread=True,
        summary="Approve a pending request (not one's own): the terms change and held orders that fit are "
        "released on the approver's behalf, except those the requester or the approver created",
    )
    def approve(
        self, crm: CrmDep, actor: ActorDep, request_id: FromPath[str], data: JSONBody[DecisionIn | None] = None
    ) -> LimitRequestOut:
        return LimitRequestOut.of(crm.credit.approve_request(actor, request_id, data.note if data else ""))

    @post(
        "/{request_id:str}/reject",
        status_code=HTTP_200_OK,
        operation_id="rejectCreditLimitRequest",
        sync_to_thread=True,
        summary="Reject a pending request (not one's own)",
    )
    def reject(
        self, crm: CrmDep, actor: ActorDep, request_id: FromPath[str], data: JSONBody[DecisionIn | None] = None
    ) -> LimitRequestOut:
        return LimitRequestOut.of(crm.credit.reject_request(actor, request_id, data.note if data else ""))
