"""Signed tokens over server-side sessions (SPEC §5), with Litestar's JWT middleware (pyjwt underneath).

Access tokens are short-lived and carry the actor (`sub`, `roles`, `cid`) and the session id (`sid`); every
request checks the JWT (algorithm pinned, `exp`/`iat`/`iss`/`aud`/`sub`/`sid`/`jti` required) and then that
the session is still live, so logout, deactivation and refresh-token reuse take effect at once. Refresh tokens
are JWTs of type `refresh` whose `jti` is the session's current refresh id; rotating it is a compare-and-set in
the session store.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import attrs
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from crm_domain.errors import Unauthenticated
from crm_domain.services.auth import AuthService, SignedIn
from crm_domain.users import Actor, Role

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "sid", "typ"]
#: Checked tokens a route's middleware remembers at most (each a few hundred bytes).
_VERIFIED_KEPT = 4096
PUBLIC_PATHS = [
    "^/api/v1/auth/otp/",
    "^/api/v1/auth/refresh$",
    "^/api/v1/integrations/",
    "^/health/",
    "^/metrics$",
    "^/schema",
    "^/$",
    "^/static/",
]


@dataclass
class CrmToken(Token):
    """Our claims sit at the top level of the JWT, beside the registered ones."""

    sid: str = ""
    typ: str = ""
    roles: list[str] = field(default_factory=list)
    cid: str | None = None
    name: str = ""


class BearerOnlyMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware takes whatever follows the first space of `Authorization`, so `Basic <jwt>`
    passed as a bearer token (issue 12). Only the `Bearer` scheme (any case, RFC 9110 §11.1) carries ours.

    A token whose signature and claims were checked is remembered until its `exp` (its exact text, in this
    middleware: one per route): checking it again gives the same answer, and cost about 160 µs of CPU per request
    (pyjwt checks every character of the base64 segments). The session check and the user's roles are still
    worked out on every request, so logout and revocation take effect at once as before."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._verified: dict[str, CrmToken] = {}

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, token = (connection.headers.get(self.auth_header) or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("send the access token as `Authorization: Bearer <token>`")
        return await self.authenticate_token(encoded_token=token.strip(), connection=connection)

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        """Litestar's `authenticate_token`, with the decoded token of a token already checked taken as it was."""
        token = self._verified.get(encoded_token)
        if token is None or token.exp.timestamp() <= time.time():
            decoded = self.token_cls.decode(
                encoded_token=encoded_token,
                secret=self.token_secret,
                algorithm=self.algorithm,
                audience=self.token_audience,
                issuer=self.token_issuer,
                require_claims=self.require_claims,
                verify_exp=self.verify_expiry,
                verify_nbf=self.verify_not_before,
                strict_audience=self.strict_audience,
            )
            if not isinstance(decoded, CrmToken):  # never: `token_cls` is ours
                raise NotAuthorizedException()
            token = decoded
            if len(self._verified) >= _VERIFIED_KEPT:
                self._verified.clear()  # a burst of distinct tokens: start again rather than grow
            self._verified[encoded_token] = token
        user = await self.retrieve_user_handler(token, connection)
        revoked = await self.revoked_token_handler(token, connection) if self.revoked_token_handler else False
        if not user or revoked:
            raise NotAuthorizedException()
        return AuthenticationResult(user=user, auth=token)


@attrs.frozen(kw_only=True)
class TokenSettings:
    secret: str
    issuer: str
    audience: str
    access_ttl: int
    refresh_ttl: int


class Tokens:
    """Issues and checks the token pair of a session."""

    def __init__(self, settings: TokenSettings, auth: AuthService) -> None:
        self.settings = settings
        self._auth = auth
        self.jwt = JWTAuth[Actor, CrmToken](
            retrieve_user_handler=self._actor,
            revoked_token_handler=self._revoked,
            token_secret=settings.secret,
            algorithm=ALGORITHM,
            accepted_audiences=[settings.audience],
            accepted_issuers=[settings.issuer],
            require_claims=REQUIRED_CLAIMS,
            strict_audience=True,
            default_token_expiration=timedelta(seconds=settings.access_ttl),
            exclude=PUBLIC_PATHS,
            token_cls=CrmToken,
            authentication_middleware_class=BearerOnlyMiddleware,
            description="An access token from POST /api/v1/auth/otp/verify or /api/v1/auth/refresh.",
        )

    def issue(self, signed: SignedIn) -> dict[str, Any]:
        s = self.settings
        user = signed.user
        session = signed.session
        access = self.jwt.create_token(
            identifier=user.id,
            token_expiration=timedelta(seconds=s.access_ttl),
            token_issuer=s.issuer,
            token_audience=s.audience,
            token_unique_jwt_id=secrets.token_urlsafe(12),
            sid=session.id,
            typ=ACCESS,
            roles=sorted(user.roles),
            cid=user.customer_id,
            name=user.name,
        )
        refresh = self.jwt.create_token(
            identifier=user.id,
            token_expiration=timedelta(seconds=s.refresh_ttl),
            token_issuer=s.issuer,
            token_audience=s.audience,
            token_unique_jwt_id=session.refresh_jti,
            sid=session.id,
            typ=REFRESH,
        )
        return {"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": s.access_ttl}

    def read_refresh(self, encoded: str) -> tuple[str, str]:
        """(session id, refresh jti) of a valid refresh token; `Unauthenticated` otherwise."""
        s = self.settings
        try:
            token = CrmToken.decode(
                encoded,
                s.secret,
                ALGORITHM,
                audience=s.audience,
                issuer=[s.issuer],
                require_claims=REQUIRED_CLAIMS,
                strict_audience=True,
            )
        except (NotAuthorizedException, ValueError) as exc:
            raise Unauthenticated("the refresh token is not valid") from exc
        if token.typ != REFRESH or not isinstance(token.jti, str) or not token.sid:
            raise Unauthenticated("the refresh token is not valid")
        return token.sid, token.jti

    async def _actor(self, token: CrmToken, _connection: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
        if token.typ != ACCESS:
            return None
        try:
            roles = frozenset(Role(r) for r in token.roles)
        except ValueError:
            return None
        return Actor(id=token.sub, roles=roles, customer_id=token.cid, name=token.name)

    async def _revoked(self, token: CrmToken, _connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
        # One session-store read per request (in the event loop: it is a local SQLite or Redis round trip).
        return not token.sid or not self._auth.session_active(token.sid)
