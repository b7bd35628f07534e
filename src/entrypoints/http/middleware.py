"""Pure ASGI middleware and the app's `before_send` hook.

- `access_log` (wrapped around the whole app, so it sees every request, routed or not) starts each request's log
  context with its request id and writes one access line when the answer has gone: method, path (never the
  query string, which may carry a secret), status and duration.
- `log_context_middleware` (after the token check) binds the signed-in user's id, and the order's id on an
  order's routes, for every line logged while the request runs.
- `response_headers` (a `before_send` hook, so it sees every answer: also the 401 of the token check, the 404 of
  an unknown path, 405 and CORS preflights, which never reach route middleware) sets `X-Request-ID` (the caller's,
  when it sent a sane one), the headers every answer carries (`nosniff`, `Referrer-Policy`, HSTS in production) and
  `Cache-Control: no-store` on token and signed-in answers (SPEC §5).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from crm_domain.users import Actor
from entrypoints.logs import ACCESS_LOGGER, bind, info_line

_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
#: Answers of these paths hand out or concern tokens: never stored by a browser or a proxy.
_TOKEN_PATHS = ("/api/v1/auth/",)
HSTS = b"max-age=31536000; includeSubDomains"


def request_id_of(scope: Scope) -> str:
    """The id of this request: the caller's `X-Request-ID` when it is sane, else a new one; kept in the scope."""
    state: dict[str, Any] = scope.setdefault("state", {})
    known = state.get("request_id")
    if isinstance(known, str):
        return known
    incoming = None
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            break
    request_id = incoming if incoming and _SANE.match(incoming) else secrets.token_hex(8)
    state["request_id"] = request_id
    return request_id


def access_log(app: ASGIApp) -> ASGIApp:
    """`app` with a fresh log context per request (its request id bound) and one access line per request."""
    write = info_line(ACCESS_LOGGER, "request")

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        structlog.contextvars.clear_contextvars()
        bind(request_id=request_id_of(scope))
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, send_status)
        finally:
            write(
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()

    return middleware


def log_context_middleware(app: ASGIApp) -> ASGIApp:
    """Bind the signed-in user (and the order of an order's route) for the rest of the request's log lines."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        params = scope.get("path_params") or {}
        bind(
            user_id=user.id if isinstance(user, Actor) else None,
            order_id=params.get("order_id") if scope["path"].startswith("/api/v1/orders/") else None,
        )
        await app(scope, receive, send)

    return middleware


def response_headers(*, hsts: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """The `before_send` hook that sets the headers of SPEC §5 on every HTTP answer (replacing any the app set:
    a cached answer carries the headers of the request that filled the cache)."""
    fixed = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
    if hsts:
        fixed.append((b"strict-transport-security", HSTS))

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope["type"] != ScopeType.HTTP:
            return
        ours = [*fixed, (b"x-request-id", request_id_of(scope).encode())]
        if _personal(scope):
            ours.append((b"cache-control", b"no-store"))
        headers = message.get("headers", ())
        if _html(headers):
            ours.append((b"content-security-policy", DOCS_CSP if scope["path"].startswith(_DOCS_PATH) else CSP))
        names = {name for name, _ in ours}
        kept = [(name, value) for name, value in headers if name.lower() not in names]
        message["headers"] = [*kept, *ours]

    return hook


#: HTML pages load scripts, styles, images and fonts from the app's own origin only, and no one frames them
#: (SPEC §5).
CSP: Final = (
    b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    b"frame-ancestors 'none'"
)
#: The OpenAPI docs pages (`/schema`, entrypoints/http/docs_pages.py) load their assets from the app too; Swagger
#: UI and ReDoc set element styles from script and ReDoc runs its search in a worker made from a blob, so styles may
#: be inline and workers blobs; still no other origin.
DOCS_CSP: Final = (
    b"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    b"worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_DOCS_PATH: Final = "/schema"


def _html(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers)


def _personal(scope: Scope) -> bool:
    """A token answer or a signed-in one (the caller sent credentials): personal data, not to be stored."""
    if scope["path"].startswith(_TOKEN_PATHS):
        return True
    return any(name == b"authorization" for name, _ in scope.get("headers", ()))
