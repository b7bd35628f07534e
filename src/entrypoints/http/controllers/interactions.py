"""/api/v1/customers/{customer_id}/interactions: the call log (SPEC §2.8), scope as the customer's."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from crm_domain.records import PageRequest
from entrypoints.http.controllers.orders import Cursor, Limit
from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.http.list_params import UpdatedSince, since
from entrypoints.http.schemas.common import Page
from entrypoints.http.schemas.interactions import InteractionIn, InteractionOut


class InteractionController(Controller):
    path = "/customers/{customer_id:str}/interactions"
    tags = ["call log"]

    @get(
        "/",
        operation_id="listInteractions",
        sync_to_thread=True,
        summary="The customer's calls, newest first (interaction:read; a dealer's own staff do not see them)",
    )
    def list_interactions(
        self,
        crm: CrmDep,
        actor: ActorDep,
        customer_id: FromPath[str],
        cursor: Cursor = None,
        limit: Limit = 50,
        updated_since: UpdatedSince = None,
    ) -> Page[InteractionOut]:
        page = crm.call_log.list(
            actor, customer_id, PageRequest(limit=limit, cursor=cursor), updated_since=since(updated_since)
        )
        return Page[InteractionOut](items=[InteractionOut.of(i) for i in page.items], next_cursor=page.next_cursor)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        operation_id="logInteraction",
        sync_to_thread=True,
        summary="Log a call with the customer (interaction:log: call-center agents, reps)",
    )
    def log(
        self, crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], data: JSONBody[InteractionIn]
    ) -> InteractionOut:
        return InteractionOut.of(crm.call_log.log(actor, customer_id, data.command()))
