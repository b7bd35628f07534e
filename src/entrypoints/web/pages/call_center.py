"""The call-center portal (SPEC §12): find the caller → the dealer card → take the order → log the call.

Keyboard only, in under a minute for a repeat order: the search has the focus; Enter on a number, code or name
that finds one dealer opens the card (several: the first result has the focus); on the card "Repeat last order"
has the focus and pre-fills the order form; Enter there places the order (its quote is live with htmx, and
recomputed by "Update total" without script); the next page logs the call with its outcome and note and comes
back to the search. Every rule is the services' (`crm.dealer_cards`, `crm.orders`, `crm.call_log`), with the
agent's scope and permissions; the channel of the order follows from the agent's role.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Final

from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from crm_domain.errors import ValidationFailed
from crm_domain.interactions import CallOutcome, Direction
from crm_domain.orders import LineRequest, Order
from crm_domain.records import PageRequest
from crm_domain.services.call_log import NewInteraction
from crm_domain.services.orders import NewOrder
from entrypoints.http.deps import ActorDep, CrmDep, WritesDep
from entrypoints.web.forms import FormDep, WebForm
from entrypoints.web.names import Names
from entrypoints.web.rendering import page

BLANK_ROWS: Final = 3
MAX_ROWS: Final = 100
BASE: Final = "/call-center"

#: What the agent typed (the service refuses more than 100 characters with a message on the page).
Query = Annotated[str, QueryParameter(max_length=200)]
#: An order id in a link of the portal.
OrderRef = Annotated[str, QueryParameter(max_length=64)]


def _card_url(customer_id: str) -> str:
    return f"{BASE}/dealers/{customer_id}"


def _rows(form: WebForm) -> list[dict[str, str]]:
    """The line rows as typed (blank rows dropped), to show again."""
    skus, qtys, discs = form.all("sku"), form.all("qty"), form.all("disc")
    rows = []
    for n, sku in enumerate(skus[:MAX_ROWS]):
        row = {"sku": sku.strip(), "qty": _at(qtys, n), "disc": _at(discs, n)}
        if row["sku"] or row["qty"]:
            rows.append(row)
    return rows


def _at(values: tuple[str, ...], n: int) -> str:
    return values[n].strip() if n < len(values) else ""


def _lines(rows: list[dict[str, str]]) -> tuple[LineRequest, ...]:
    lines = []
    for n, row in enumerate(rows, start=1):
        if not row["sku"] or not row["qty"]:
            raise ValidationFailed(f"line {n}: give both the SKU and the quantity", field="lines")
        try:
            lines.append(LineRequest(sku=row["sku"].upper(), quantity=row["qty"], discount_pct=row["disc"] or "0"))
        except ValidationFailed as exc:
            raise ValidationFailed(f"line {n}: {exc.message}", field="lines") from exc
    return tuple(lines)


def _rows_of(order: Order) -> list[dict[str, str]]:
    return [
        {"sku": line.sku, "qty": str(line.quantity.normalize()), "disc": str(line.discount_pct.normalize())}
        for line in order.lines
    ]


class CallCenterPages(Controller):
    path = BASE

    @get("/", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        q: Query = "",
        logged: Annotated[str, QueryParameter(max_length=1)] = "",
    ) -> Template | Response[Any]:
        found, error = self._lookup(crm, actor, q)
        if len(found) == 1 and not request.headers.get("hx-request"):
            return Redirect(_card_url(found[0].id), status_code=HTTP_303_SEE_OTHER)
        return page(request, "call_center/index.html", q=q, found=found, error=error, logged=bool(logged))

    @get("/search", sync_to_thread=True)
    def search(self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, q: Query = "") -> Template:
        found, error = self._lookup(crm, actor, q)
        return page(request, "call_center/_results.html", q=q, found=found, error=error, focus_first=False)

    @staticmethod
    def _lookup(crm: CrmDep, actor: ActorDep, q: str) -> tuple[list[Any], str]:
        try:
            return crm.dealer_cards.lookup(actor, q), ""
        except ValidationFailed as exc:
            return [], exc.message

    @get("/dealers/{customer_id:str}", sync_to_thread=True)
    def card(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, customer_id: FromPath[str]
    ) -> Template:
        card = crm.dealer_cards.card(actor, customer_id)
        return page(request, "call_center/card.html", card=card, names=Names(crm, actor))

    @get("/dealers/{customer_id:str}/order", sync_to_thread=True)
    def order_form(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        customer_id: FromPath[str],
        repeat: OrderRef = "",
    ) -> Template:
        rows: list[dict[str, str]] = []
        if repeat:
            previous = crm.orders.get(actor, repeat)
            if previous.customer_id == customer_id:
                rows = _rows_of(previous)
        return self._order_page(request, crm, actor, customer_id, rows, key=secrets.token_urlsafe(18))

    @post("/dealers/{customer_id:str}/quote", sync_to_thread=True, status_code=200)
    def quote(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], form: FormDep
    ) -> Template:
        """The live quote (htmx: the fragment), or the whole form again with it ("Update total" without script)."""
        rows = _rows(form)
        if request.headers.get("hx-request"):
            quote, error = self._quote(crm, actor, customer_id, rows, form.get("notes"))
            return page(request, "call_center/_quote.html", quote=quote, error=error)
        return self._order_page(request, crm, actor, customer_id, rows, key=form.get("key"), notes=form.get("notes"))

    @post("/dealers/{customer_id:str}/order", status_code=200)
    async def place(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        writes: WritesDep,
        customer_id: FromPath[str],
        form: FormDep,
    ) -> Template | Response[Any]:
        rows, notes, key = _rows(form), form.get("notes"), form.get("key") or None
        try:
            new = NewOrder(customer_id=customer_id, lines=_lines(rows), notes=notes, submit=True)
            order = await writes.perform(lambda: crm.orders.plan_create(actor, new, key))
        except ValidationFailed as exc:
            return self._order_page(request, crm, actor, customer_id, rows, key=key, notes=notes, error=exc.message)
        return Redirect(f"{_card_url(customer_id)}/call?order={order.id}", status_code=HTTP_303_SEE_OTHER)

    def _order_page(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        customer_id: str,
        rows: list[dict[str, str]],
        *,
        key: str | None,
        notes: str = "",
        error: str = "",
    ) -> Template:
        card = crm.dealer_cards.card(actor, customer_id)
        products = crm.catalogue.list(actor, PageRequest(limit=PageRequest.MAX_LIMIT), active_only=True).items
        quote, quote_error = self._quote(crm, actor, customer_id, rows, notes) if rows else (None, "")
        blank = {"sku": "", "qty": "", "disc": ""}
        return page(
            request,
            "call_center/order.html",
            status_code=400 if error else 200,
            card=card,
            rows=[*rows, *([blank] * BLANK_ROWS)],
            products=products,
            quote=quote,
            quote_error=quote_error,
            key=key or secrets.token_urlsafe(18),
            notes=notes,
            error=error,
        )

    @staticmethod
    def _quote(
        crm: CrmDep, actor: ActorDep, customer_id: str, rows: list[dict[str, str]], notes: str
    ) -> tuple[Any, str]:
        if not rows:
            return None, ""
        try:
            return crm.orders.quote(actor, NewOrder(customer_id=customer_id, lines=_lines(rows), notes=notes)), ""
        except ValidationFailed as exc:
            return None, exc.message

    @get("/dealers/{customer_id:str}/call", sync_to_thread=True)
    def call_form(
        self,
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        customer_id: FromPath[str],
        order: OrderRef = "",
    ) -> Template:
        return self._call_page(request, crm, actor, customer_id, order or None)

    @post("/dealers/{customer_id:str}/calls", sync_to_thread=True, status_code=200)
    def log_call(
        self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep, customer_id: FromPath[str], form: FormDep
    ) -> Template | Response[Any]:
        new = NewInteraction(
            direction=form.get("direction", "in"),
            outcome=form.get("outcome"),
            note=form.get("note"),
            order_id=form.get("order_id") or None,
        )
        try:
            crm.call_log.log(actor, customer_id, new)
        except ValidationFailed as exc:
            return self._call_page(
                request, crm, actor, customer_id, new.order_id, status_code=400, error=exc.message, note=new.note
            )
        return Redirect(f"{BASE}/?logged=1", status_code=HTTP_303_SEE_OTHER)

    @staticmethod
    def _call_page(
        request: Request[Any, Any, Any],
        crm: CrmDep,
        actor: ActorDep,
        customer_id: str,
        order_id: str | None,
        *,
        status_code: int = 200,
        **extra: str,
    ) -> Template:
        """The call-log form, with the order just placed (when it is this dealer's)."""
        card = crm.dealer_cards.card(actor, customer_id)
        placed = crm.orders.get(actor, order_id) if order_id else None
        return page(
            request,
            "call_center/call.html",
            status_code=status_code,
            card=card,
            placed=placed if placed is not None and placed.customer_id == customer_id else None,
            outcomes=list(CallOutcome),
            directions=list(Direction),
            names=Names(crm, actor),
            **extra,
        )
