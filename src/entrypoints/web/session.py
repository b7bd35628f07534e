"""The browser's session: a cookie naming a session of the API's session store (SPEC §5, §12).

The cookie holds the session id and the user id with an HMAC over both (keyed with the app's token secret), so a
forged or edited cookie is ignored. Every request checks that the session is still live in the store (logout,
deactivation and revocation end it at once, as for an access token) and reads the user again, so a changed role
or a deactivated user takes effect on the next page. `web_session_middleware` puts the signed-in `Actor` in the
scope where the API's JWT middleware puts it, so the same `actor` dependency, scope rules and per-user rate limit
apply to pages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Final

import attrs
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from crm_domain.app import Crm
from crm_domain.services.auth import AuthService, SignedIn
from crm_domain.users import Actor

SESSION_COOKIE: Final = "crm_session"
CSRF_COOKIE: Final = "crm_csrf"
#: Paths the pages never use: the API has its own (bearer) authentication.
NOT_PAGES: Final = ("/api/", "/static/", "/health/", "/metrics", "/schema")


@attrs.frozen(kw_only=True)
class WebSession:
    """A live browser session: its id in the session store, and who it belongs to."""

    session_id: str
    actor: Actor


def cookies_of(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                continue
    return {key: morsel.value for key, morsel in jar.items()}


class WebSessions:
    """Signs, reads and ends the session cookie over the AuthService's session store."""

    def __init__(self, crm: Crm, auth: AuthService, secret: str, *, secure: bool) -> None:
        self._crm = crm
        self._auth = auth
        self._key = hashlib.sha256(b"crm-web-session:" + secret.encode()).digest()
        self.secure = secure

    def mac(self, purpose: str, *parts: str) -> str:
        message = "\x1f".join((purpose, *parts)).encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def cookie_for(self, signed: SignedIn) -> Cookie:
        session, user = signed.session, signed.user
        value = f"{session.id}.{user.id}.{self.mac('session', session.id, user.id)}"
        return Cookie(
            key=SESSION_COOKIE,
            value=value,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure,
            max_age=int((session.expires_at - session.created_at).total_seconds()),
        )

    def cleared(self) -> Cookie:
        return Cookie(key=SESSION_COOKIE, value="", path="/", httponly=True, samesite="lax", max_age=0)

    def resolve(self, cookie: str | None) -> WebSession | None:
        """The live session the cookie names, with its user as an actor; None for anything else."""
        if not cookie or cookie.count(".") != 2:
            return None
        session_id, user_id, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self.mac("session", session_id, user_id)):
            return None
        if not self._auth.session_active(session_id):
            return None
        user = self._crm.users.find(user_id)
        if user is None or not user.active:
            return None
        return WebSession(session_id=session_id, actor=user.actor())

    def end(self, session: WebSession) -> None:
        self._auth.logout(session.session_id)


def web_session_middleware(sessions: WebSessions) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware (listed after the JWT middleware, before the per-caller rate limit) that signs pages in."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP and not scope["path"].startswith(NOT_PAGES):
                # One session-store read and one user read, inline like the API's per-request session check.
                session = sessions.resolve(cookies_of(scope).get(SESSION_COOKIE))
                if session is not None:
                    scope["user"] = session.actor
                    scope["auth"] = session
            await app(scope, receive, send)

        return middleware

    return wrap
