"""Sign-in by SMS code (the API's AuthService) and sign-out; the session becomes an HttpOnly cookie."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from crm_domain.errors import TooManyRequests, Unauthenticated, ValidationFailed
from entrypoints.http.deps import AuthDep
from entrypoints.http.rate_limits import client_of
from entrypoints.web.forms import FormDep
from entrypoints.web.rendering import page, signed_in
from entrypoints.web.session import WebSession, WebSessions


def _next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host, no `//`) is followed after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/home"


class SignInPages(Controller):
    path = "/"

    @get("/")
    async def root(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if signed_in(request) is not None:
            return Redirect("/home", status_code=HTTP_303_SEE_OTHER)
        return page(request, "signin/mobile.html", next="/home")

    @get("/sign-in")
    async def sign_in_page(self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template:
        return page(request, "signin/mobile.html", next=_next(next))

    @post("/sign-in", sync_to_thread=True, status_code=200)
    def request_code(self, request: Request[Any, Any, Any], auth: AuthDep, form: FormDep) -> Template:
        mobile, target = form.get("mobile"), _next(form.get("next"))
        try:
            issued = auth.request_otp(mobile, client_of(request.scope))
        except (ValidationFailed, TooManyRequests) as exc:
            return page(request, "signin/mobile.html", status_code=400, next=target, mobile=mobile, error=exc.message)
        return page(request, "signin/code.html", mobile=mobile, next=target, expires_in=issued.expires_in)

    @post("/sign-in/verify", sync_to_thread=True, status_code=200)
    def verify_code(self, request: Request[Any, Any, Any], auth: AuthDep, form: FormDep) -> Response[Any]:
        mobile, target = form.get("mobile"), _next(form.get("next"))
        try:
            signed = auth.verify_otp(mobile, form.get("code"), client_of(request.scope))
        except (Unauthenticated, TooManyRequests) as exc:
            return page(request, "signin/code.html", status_code=400, mobile=mobile, next=target, error=exc.message)
        sessions: WebSessions = request.app.state["web_sessions"]
        return Redirect(target, status_code=HTTP_303_SEE_OTHER, cookies=[sessions.cookie_for(signed)])

    @post("/sign-out", sync_to_thread=True, status_code=200)
    def sign_out(self, request: Request[Any, Any, Any], form: FormDep) -> Response[Any]:
        del form  # checked for its CSRF token: no one signs a browser out from another site
        sessions: WebSessions = request.app.state["web_sessions"]
        session = request.scope.get("auth")
        if isinstance(session, WebSession):
            sessions.end(session)
        return Redirect("/sign-in", status_code=HTTP_303_SEE_OTHER, cookies=[sessions.cleared()])
