"""Forms posted by pages: every one carries a CSRF token, checked before the handler runs (SPEC §12).

The token is an HMAC over a random per-browser nonce (the `crm_csrf` cookie, HttpOnly, SameSite=Strict) and the
session id (empty before sign-in), so a token works only with the browser's own cookie and only for its own
session. A handler declares `form: FormDep`; a post without a valid token never reaches it: `CsrfRefused`, a 403
page.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

import attrs
from litestar import Request
from litestar.datastructures import Cookie, UploadFile
from litestar.di import NamedDependency

from entrypoints.web.session import CSRF_COOKIE, WebSession, WebSessions

CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
_NONCE_LENGTH: Final = 32


class CsrfRefused(Exception):
    """A form came without the token of this browser's session: not from one of our pages, or too old."""


@attrs.frozen(kw_only=True)
class WebForm:
    """The fields of a posted form (each a list: a field may repeat), and its uploaded files."""

    fields: Mapping[str, tuple[str, ...]]
    files: Mapping[str, UploadFile] = attrs.field(factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0].strip() if values else default

    def all(self, name: str) -> tuple[str, ...]:
        return self.fields.get(name, ())


def session_id_of(request: Request[Any, Any, Any]) -> str:
    auth = request.scope.get("auth")
    return auth.session_id if isinstance(auth, WebSession) else ""


def nonce_of(request: Request[Any, Any, Any]) -> str | None:
    nonce = request.cookies.get(CSRF_COOKIE)
    return nonce if nonce and len(nonce) == _NONCE_LENGTH and nonce.isalnum() else None


def csrf_pair(request: Request[Any, Any, Any], sessions: WebSessions) -> tuple[str, Cookie | None]:
    """The token for this page's forms, and the nonce cookie to set when the browser has none yet."""
    nonce = nonce_of(request)
    cookie = None
    if nonce is None:
        nonce = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(_NONCE_LENGTH))
        cookie = Cookie(
            key=CSRF_COOKIE, value=nonce, path="/", httponly=True, samesite="strict", secure=sessions.secure
        )
    return sessions.mac("csrf", nonce, session_id_of(request)), cookie


async def provide_form(request: Request[Any, Any, Any]) -> WebForm:
    """The posted form, once its CSRF token checks out; `CsrfRefused` otherwise."""
    sessions: WebSessions = request.app.state["web_sessions"]
    raw = await request.form()
    fields: dict[str, list[str]] = {}
    files: dict[str, UploadFile] = {}
    for key, value in raw.multi_items():
        if isinstance(value, UploadFile):
            files[key] = value
        else:
            fields.setdefault(key, []).append(str(value))
    nonce = nonce_of(request)
    # htmx requests may carry it as a header instead (base.html's hx-headers); plain forms as a field.
    sent = fields.pop(CSRF_FIELD, [""])[0] or request.headers.get(CSRF_HEADER, "")
    expected = sessions.mac("csrf", nonce, session_id_of(request)) if nonce else ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused
    return WebForm(fields={k: tuple(v) for k, v in fields.items()}, files=files)


FormDep: TypeAlias = NamedDependency[WebForm]
