"""Rendering a page: the template, the signed-in user, the menu for their roles and the CSRF token of its forms.

Page handlers return `page(request, "area/name.html", **view)`; an htmx request for a fragment gets
`fragment(...)`. Signed-in pages are never stored by a browser or a proxy (`Cache-Control: no-store`).
"""

from __future__ import annotations

from typing import Any, Final

import attrs
from litestar import Request
from litestar.enums import MediaType
from litestar.response import Template

from crm_domain.users import Actor, Role
from entrypoints.web.forms import CSRF_FIELD, csrf_pair
from entrypoints.web.session import WebSessions


@attrs.frozen
class Link:
    label: str
    href: str


#: The menu of each role (SPEC §12), in the order a person of that role works through the day.
MENUS: Final[dict[Role, tuple[Link, ...]]] = {
    Role.SALES_REP: (
        Link("My dealers", "/dealers"),
        Link("New order", "/orders/new"),
        Link("My orders", "/orders"),
        Link("My target", "/performance"),
        Link("My sales", "/reports/sales"),
    ),
    Role.SALES_MANAGER: (
        Link("Team", "/team"),
        Link("Leaderboard", "/team/leaderboard"),
        Link("Reports", "/reports"),
        Link("Sales report", "/reports/sales"),
        Link("Dealers", "/dealers"),
        Link("Targets", "/admin/targets"),
        Link("Orders", "/orders"),
    ),
    Role.CREDIT_CONTROLLER: (
        Link("Hold queue", "/credit/holds"),
        Link("Credit requests", "/credit/requests"),
        Link("Exposure", "/reports/credit-exposure"),
        Link("Holds report", "/reports/credit-holds"),
        Link("Orders", "/orders"),
    ),
    Role.DEALER: (
        Link("My orders", "/orders"),
        Link("My credit", "/my-credit"),
        Link("My statement", "/my-statement"),
        Link("Place an order", "/orders/new"),
    ),
    Role.CALL_CENTER_AGENT: (Link("Call center", "/call-center"), Link("Orders", "/orders")),
    Role.ADMIN: (
        Link("Users", "/admin/users"),
        Link("Customers", "/admin/customers"),
        Link("Products", "/admin/products"),
        Link("Targets", "/admin/targets"),
        Link("Imports", "/admin/imports"),
        Link("Reports", "/reports"),
        Link("Orders", "/orders"),
    ),
}


def menu_for(actor: Actor | None) -> list[Link]:
    if actor is None:
        return []
    links: list[Link] = []
    for role in Role:
        if role in actor.roles:
            links.extend(link for link in MENUS[role] if link not in links)
    return links


def signed_in(request: Request[Any, Any, Any]) -> Actor | None:
    user = request.scope.get("user")
    return user if isinstance(user, Actor) else None


def page(request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **view: Any) -> Template:
    """A whole page (or, for htmx, whatever `template` renders) with the context every page needs."""
    sessions: WebSessions = request.app.state["web_sessions"]
    token, cookie = csrf_pair(request, sessions)
    me = signed_in(request)
    menu = menu_for(me)
    path = request.url.path
    matching = [link.href for link in menu if path == link.href or path.startswith(link.href + "/")]
    context = {
        "me": me,
        "menu": menu,
        "current": max(matching, key=len) if matching else "",
        "path": request.url.path,
        "csrf_field": CSRF_FIELD,
        "csrf_token": token,
        "htmx": bool(request.headers.get("hx-request")),
        **view,
    }
    return Template(
        template_name=template,
        context=context,
        status_code=status_code,
        cookies=[cookie] if cookie else [],
        headers={"Cache-Control": "no-store"},
        media_type=MediaType.HTML,
    )
