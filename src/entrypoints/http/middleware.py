"""Pure ASGI middleware and the app's `before_send` hook.

- `request_id_middleware` binds the request id to the log context of a routed request.
- `response_headers` (a `before_send` hook, so it sees every answer: also the 401 of the token check, the 404 of
  an unknown path, 405 and CORS preflights, which never reach route middleware) sets `X-Request-ID` (the caller's,
  when it sent a sane one), the headers every answer carries (`nosniff`, `Referrer-Policy`, HSTS in production) and
  `Cache-Control: no-store` on token and signed-in answers (SPEC §5).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        with structlog.contextvars.bound_contextvars(request_id=request_id_of(scope)):
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
