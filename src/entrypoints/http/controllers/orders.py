"""/api/v1/orders: create (optionally submitting), quote, list, read, submit, release, reject, cancel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from crm_domain.errors import ValidationFailed
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from entrypoints.http.deps import ActorDep, CrmDep, WritesDep
from entrypoints.http.list_params import UpdatedSince, since
from entrypoints.http.metrics import count_decision, count_order, count_replay
from entrypoints.http.schemas.common import Page
from entrypoints.http.schemas.orders import NoteIn, OrderIn, OrderOut, QuoteOut, ReasonIn
from entrypoints.logs import bind

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Makes retries safe: the same key and body return the first result; another body is 409.",
    ),
]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size (default 50, at most 200).")]
Cursor = Annotated[str | None, QueryParameter(required=False, max_length=512, description="From `next_cursor`.")]


class OrderController(Controller):
    path = "/orders"
    tags = ["orders"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        operation_id="createOrder",
        summary="Create an order (a draft, or submitted at once with `submit: true`)",
    )
    async def create(
        self,
        crm: CrmDep,
        actor: ActorDep,
        writes: WritesDep,
        data: JSONBody[OrderIn],
        idempotency_key: IdempotencyKey = None,
    ) -> OrderOut:
        command = data.command()
        replays: list[Order] = []
        order = await writes.perform(lambda: crm.orders.plan_create(actor, command, idempotency_key, replays.append))
        bind(order_id=order.id)  # the rest of the request's log lines, the access line too, name the order
        if replays:  # an earlier request's order, answered again: not a new order
            return OrderOut.of(count_replay("create", order))
        return OrderOut.of(count_order("create", order))

    @post(
        "/quote",
        status_code=HTTP_200_OK,
        operation_id="quoteOrder",
        sync_to_thread=True,
        summary="Totals and the credit verdict a submit would get now; stores nothing",
    )
    def quote(self, crm: CrmDep, actor: ActorDep, data: JSONBody[OrderIn]) -> QuoteOut:
        return QuoteOut.of(crm.orders.quote(actor, data.command()))

    @get("/", operation_id="listOrders", sync_to_thread=True, summary="Orders in scope, newest first")
    def list_orders(
        self,
        crm: CrmDep,
        actor: ActorDep,
        status: FromQuery[OrderStatus | None] = None,
        customer_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        rep_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        from_: Annotated[
            date | None, QueryParameter(name="from", description="Created on or after (UTC date).")
        ] = None,
        to: Annotated[date | None, QueryParameter(description="Created on or before (UTC date).")] = None,
        updated_since: UpdatedSince = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> Page[OrderOut]:
        if from_ and to and from_ > to:
            raise ValidationFailed("`from` must not be after `to`", field="from")
        query = OrderQuery(
            status=status,
            customer_id=customer_id,
            rep_id=rep_id,
            created_from=_start(from_),
            created_to=_start(to, next_day=True),
            updated_since=since(updated_since),
        )
        page = crm.orders.list(actor, PageRequest(limit=limit, cursor=cursor), query)
        return Page[OrderOut](items=[OrderOut.of(o) for o in page.items], next_cursor=page.next_cursor)

    @get(
        "/{order_id:str}",
        operation_id="getOrder",
        sync_to_thread=True,
        summary="An order with lines, totals, credit decision, history and ERP sync state",
    )
    def get_order(self, crm: CrmDep, actor: ActorDep, order_id: FromPath[str]) -> OrderOut:
        return OrderOut.of(crm.orders.get(actor, order_id))

    @post(
        "/{order_id:str}/submit",
        status_code=HTTP_200_OK,
        operation_id="submitOrder",
        sync_to_thread=True,
        summary="Submit a draft: credit-checked, `submitted` or `on_credit_hold`",
    )
    def submit(
        self, crm: CrmDep, actor: ActorDep, order_id: FromPath[str], idempotency_key: IdempotencyKey = None
    ) -> OrderOut:
        replays: list[Order] = []
        order = crm.orders.submit(actor, order_id, idempotency_key, replays.append)
        if replays:  # an earlier request's submit, answered again: not a second submit
            return OrderOut.of(count_replay("submit", order))
        return OrderOut.of(count_order("submit", order))

    @post(
        "/{order_id:str}/release",
        status_code=HTTP_200_OK,
        operation_id="releaseOrder",
        sync_to_thread=True,
        summary="Release a credit hold (not by the order's creator); the override is recorded",
    )
    def release(self, crm: CrmDep, actor: ActorDep, order_id: FromPath[str], data: JSONBody[NoteIn]) -> OrderOut:
        return OrderOut.of(count_decision("released", crm.orders.release(actor, order_id, data.note)))

    @post(
        "/{order_id:str}/reject",
        status_code=HTTP_200_OK,
        operation_id="rejectOrder",
        sync_to_thread=True,
        summary="Reject an order on credit hold",
    )
    def reject(self, crm: CrmDep, actor: ActorDep, order_id: FromPath[str], data: JSONBody[ReasonIn]) -> OrderOut:
        return OrderOut.of(count_decision("rejected", crm.orders.reject(actor, order_id, data.reason)))

    @post(
        "/{order_id:str}/cancel",
        status_code=HTTP_200_OK,
        operation_id="cancelOrder",
        sync_to_thread=True,
        summary="Cancel an order; its credit reservation is released",
    )
    def cancel(self, crm: CrmDep, actor: ActorDep, order_id: FromPath[str], data: JSONBody[ReasonIn]) -> OrderOut:
        return OrderOut.of(crm.orders.cancel(actor, order_id, data.reason))


def _start(day: date | None, *, next_day: bool = False) -> datetime | None:
    if day is None:
        return None
    moment = datetime.combine(day, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if next_day else moment
