"""Pure ASGI middleware: the API rate limits of SPEC §5, before authentication (so that requests with a bad token
are counted too) and in one limiter call per request.

A request with a valid access token counts against its user; any other against its client address
(`client_address`). Over the rate the domain raises `TooManyRequests`: a 429 problem with `Retry-After`. Health
probes, the metrics scrape and static assets are not limited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Receive, Scope, Send

from crm_domain.services.api_limits import ApiLimits
from entrypoints.http.client_address import Network, client_address
from entrypoints.http.security import ACCESS, ALGORITHM, REQUIRED_CLAIMS, CrmToken, TokenSettings

UNLIMITED_PREFIXES = ("/health/", "/metrics", "/static/")
#: Where the middleware leaves the client address for the sign-in limits (`client_of`).
CLIENT_ADDRESS = "client_address"


def client_of(scope: Scope) -> str:
    """The client address the middleware found (the peer's when it did not run)."""
    found = scope.get("state", {}).get(CLIENT_ADDRESS)
    if isinstance(found, str):
        return found
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def bearer_subject(headers: Iterable[tuple[bytes, bytes]], settings: TokenSettings) -> str | None:
    """The user id of a valid access token in `Authorization: Bearer …`; None for anything else."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            try:
                decoded = CrmToken.decode(
                    token.strip(),
                    settings.secret,
                    ALGORITHM,
                    audience=settings.audience,
                    issuer=[settings.issuer],
                    require_claims=REQUIRED_CLAIMS,
                    strict_audience=True,
                )
            except (NotAuthorizedException, ValueError):
                return None
            return decoded.sub if decoded.typ == ACCESS else None
    return None


def rate_limit_middleware(
    limits: ApiLimits, tokens: TokenSettings, trusted: tuple[Network, ...]
) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP and not scope["path"].startswith(UNLIMITED_PREFIXES):
                headers = scope["headers"]
                client = scope.get("client")
                address = client_address(client[0] if client else None, headers, trusted)
                scope.setdefault("state", {})[CLIENT_ADDRESS] = address
                # One small write in the shared store (the embedded file or Redis), inline like the session check.
                limits.admit(user_id=bearer_subject(headers, tokens), address=address)
            await app(scope, receive, send)

        return middleware

    return wrap
