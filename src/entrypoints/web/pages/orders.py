"""Orders: the list in scope, one order (lines, credit decision, history, attachments), and a new order with a live
quote and credit verdict (htmx swaps the quote as lines change; without script the Quote button does the same)."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from crm_domain.errors import DomainError, ValidationFailed
from crm_domain.orders import LineRequest, Order, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from crm_domain.services.orders import NewOrder
from crm_domain.users import Actor, Role
from entrypoints.http.controllers.attachments import attachment_download, store_attachment
from entrypoints.http.deps import ActorDep, CrmDep, FilesDep, WritesDep
from entrypoints.http.metrics import count_order, count_replay
from entrypoints.web.forms import FormDep, WebForm
from entrypoints.web.names import Names
from entrypoints.web.rendering import page

DEFAULT_ROWS = 5
MAX_ROWS = 50


def order_form(form: WebForm, actor: Actor, *, submit: bool) -> NewOrder:
    """The order the form describes: its non-empty line rows (SKU, quantity, discount)."""
    customer_id = actor.customer_id if actor.has_role(Role.DEALER) and actor.customer_id else form.get("customer_id")
    if not customer_id:
        raise ValidationFailed("choose a dealer", field="customer_id")
    skus, quantities, discounts = form.all("sku"), form.all("quantity"), form.all("discount_pct")
    lines = []
    for index, raw_sku in enumerate(skus):
        sku = raw_sku.strip().upper()
        quantity = quantities[index].strip() if index < len(quantities) else ""
        if not sku and not quantity:
            continue
        discount = (discounts[index].strip() if index < len(discounts) else "") or "0"
        lines.append(LineRequest(sku=sku, quantity=quantity or "0", discount_pct=discount))
    if not lines:
        raise ValidationFailed("add at least one line with a SKU and a quantity", field="sku")
    return NewOrder(customer_id=customer_id, lines=tuple(lines), notes=form.get("notes"), submit=submit)


def _rows(form: WebForm | None, wanted: int) -> list[dict[str, str]]:
    """The line rows to show again: what was typed, padded with empty rows."""
    rows = []
    if form is not None:
        for sku, quantity, discount in zip(
            form.all("sku"), form.all("quantity"), form.all("discount_pct"), strict=False
        ):
            if sku.strip() or quantity.strip():
                rows.append({"sku": sku, "quantity": quantity, "discount_pct": discount})
    while len(rows) < wanted:
        rows.append({"sku": "", "quantity": "", "discount_pct": ""})
    return rows


class OrderPages(Controller):
    path = "/orders"

    @get("/", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        status: FromQuery[OrderStatus | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        orders = crm.orders.list(actor, PageRequest(limit=50, cursor=cursor), OrderQuery(status=status))
        return page(
            request,
            "orders/index.html",
            orders=orders.items,
            next_cursor=orders.next_cursor,
            status=status.value if status else "",
            statuses=[s.value for s in OrderStatus],
            names=Names(crm, actor),
            mine=actor.has_role(Role.SALES_REP) or actor.has_role(Role.DEALER),
        )

    def _new_page(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: Actor,
        form: WebForm | None = None,
        *,
        rows: int = DEFAULT_ROWS,
        customer_id: str = "",
        error: str = "",
        quote: Any = None,
        status_code: int = 200,
    ) -> Template:
        names = Names(crm, actor)
        dealer = actor.customer_id if actor.has_role(Role.DEALER) else None
        products = crm.catalogue.list(actor, PageRequest(limit=200), active_only=True).items
        return page(
            request,
            "orders/new.html",
            status_code=status_code,
            customers=[] if dealer else sorted(names.customers().values(), key=lambda c: c.code),
            dealer=names.customer(dealer) if dealer else None,
            customer_id=(form.get("customer_id") if form else "") or customer_id,
            products=products,
            rows=_rows(form, max(rows, DEFAULT_ROWS)),
            notes=form.get("notes") if form else "",
            idempotency_key=(form.get("idempotency_key") if form else "") or secrets.token_urlsafe(16),
            error=error,
            quote=quote,
        )

    @get("/new", sync_to_thread=True)
    def new(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        customer_id: FromQuery[str] = "",
        rows: FromQuery[int] = DEFAULT_ROWS,
    ) -> Template:
        return self._new_page(request, crm, actor, rows=min(max(rows, 1), MAX_ROWS), customer_id=customer_id)

    @post("/quote", sync_to_thread=True, status_code=200)
    def quote(self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, form: FormDep) -> Template:
        """The live quote: a fragment for htmx, else the whole form again with the quote under it."""
        fragment = bool(request.headers.get("hx-request"))
        try:
            quote = crm.orders.quote(actor, order_form(form, actor, submit=False))
        except (DomainError, ValueError) as exc:
            message = exc.message if isinstance(exc, DomainError) else str(exc)
            if fragment:
                return page(request, "orders/_quote.html", quote=None, error=message)
            return self._new_page(request, crm, actor, form, error=message, status_code=400)
        if fragment:
            return page(request, "orders/_quote.html", quote=quote, names=Names(crm, actor))
        return self._new_page(request, crm, actor, form, quote=quote)

    @post("/", status_code=200)
    async def create(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        writes: WritesDep,
        form: FormDep,
    ) -> Response[Any]:
        submit = form.get("action", "submit") != "draft"
        try:
            command = order_form(form, actor, submit=submit)
            key = form.get("idempotency_key") or None
            replays: list[Order] = []
            order = await writes.perform(lambda: crm.orders.plan_create(actor, command, key, replays.append))
        except (DomainError, ValueError) as exc:
            message = exc.message if isinstance(exc, DomainError) else str(exc)
            return self._new_page(request, crm, actor, form, error=message, status_code=400)
        (count_replay if replays else count_order)("create", order)  # a form sent twice: one order
        return Redirect(f"/orders/{order.id}", status_code=HTTP_303_SEE_OTHER)

    @get("/{order_id:str}", sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        order_id: FromPath[str],
        done: FromQuery[str] = "",
    ) -> Template:
        order = crm.orders.get(actor, order_id)
        return page(request, "orders/show.html", order=order, names=Names(crm, actor), done=done)

    @post("/{order_id:str}/submit", sync_to_thread=True, status_code=200)
    def submit(self, crm: CrmDep, actor: ActorDep, order_id: FromPath[str], form: FormDep) -> Response[Any]:
        replays: list[Order] = []
        order = crm.orders.submit(actor, order_id, form.get("idempotency_key") or None, replays.append)
        (count_replay if replays else count_order)("submit", order)
        return Redirect(f"/orders/{order.id}?done=submitted", status_code=HTTP_303_SEE_OTHER)

    @post("/{order_id:str}/cancel", sync_to_thread=True, status_code=200)
    def cancel(self, crm: CrmDep, actor: ActorDep, order_id: FromPath[str], form: FormDep) -> Response[Any]:
        crm.orders.cancel(actor, order_id, form.get("reason"))
        return Redirect(f"/orders/{order_id}?done=cancelled", status_code=HTTP_303_SEE_OTHER)

    @post("/{order_id:str}/attachments", sync_to_thread=True, status_code=200)
    def attach(
        self, crm: CrmDep, actor: ActorDep, files: FilesDep, order_id: FromPath[str], form: FormDep
    ) -> Response[Any]:
        upload = form.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationFailed("choose a file to attach", field="file")
        store_attachment(crm, actor, files, order_id, upload)
        return Redirect(f"/orders/{order_id}?done=attached", status_code=HTTP_303_SEE_OTHER)

    @get("/{order_id:str}/attachments/{attachment_id:str}", sync_to_thread=True)
    def download(
        self, crm: CrmDep, actor: ActorDep, files: FilesDep, order_id: FromPath[str], attachment_id: FromPath[str]
    ) -> Response[bytes]:
        return attachment_download(crm, actor, files, order_id, attachment_id)
