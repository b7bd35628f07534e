"""Pure ASGI middleware: the API rate limits of SPEC §5, one limiter call per request, requests that fail
authentication included (Litestar's own limiter runs after authentication, so bad tokens were free).

Two halves around the JWT middleware, so the token is checked once:
- `after_auth` (inside it) counts every request that gets through: a signed-in one against its user, one on a
  public route against its client address (`client_address`);
- `before_auth` (outside it) finds the client address for both halves and for the sign-in limits, and counts the
  requests the JWT middleware turns away (missing, forged, expired or revoked token) against that address.
Over the rate the domain raises `TooManyRequests`: a 429 problem with `Retry-After`. Health probes, the
metrics scrape and static assets are not limited.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Receive, Scope, Send

from crm_domain.services.api_limits import ApiLimits
from crm_domain.users import Actor
from entrypoints.http.client_address import Network, client_address

UNLIMITED_PREFIXES = ("/health/", "/metrics", "/static/")
#: Where `before_auth` leaves the client address (for `after_auth` and the sign-in limits: `client_of`).
CLIENT_ADDRESS = "client_address"

Middleware = Callable[[ASGIApp], ASGIApp]


def client_of(scope: Scope) -> str:
    """The client address `before_auth` found (the peer's when it did not run)."""
    found = scope.get("state", {}).get(CLIENT_ADDRESS)
    if isinstance(found, str):
        return found
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _limited(scope: Scope) -> bool:
    return scope["type"] == ScopeType.HTTP and not scope["path"].startswith(UNLIMITED_PREFIXES)


def rate_limit_middleware(limits: ApiLimits, trusted: tuple[Network, ...]) -> tuple[Middleware, Middleware]:
    """(before_auth, after_auth): list the first before the JWT middleware and the second after it."""

    def before_auth(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if not _limited(scope):
                await app(scope, receive, send)
                return
            client = scope.get("client")
            address = client_address(client[0] if client else None, scope["headers"], trusted)
            scope.setdefault("state", {})[CLIENT_ADDRESS] = address
            try:
                await app(scope, receive, send)
            except NotAuthorizedException:
                limits.admit(user_id=None, address=address)  # 429 once over the rate, else the 401 goes on
                raise

        return middleware

    def after_auth(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if _limited(scope):
                user = scope.get("user")
                # One small write in the shared store (its own SQLite file, or Redis), inline like the session check.
                limits.admit(user_id=user.id if isinstance(user, Actor) else None, address=client_of(scope))
            await app(scope, receive, send)

        return middleware

    return before_auth, after_auth
