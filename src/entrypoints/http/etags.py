"""ETags on GET answers and `If-None-Match` → 304 (SPEC §4: delta sync for mobile clients).

- `tag_response` (an `after_request` hook) gives each successful GET answer with a JSON body a weak ETag: a hash
  of the body's content before it is encoded or compressed, so the same resource (or the same page of a list)
  always has the same tag, gzipped or not.
- `not_modified_middleware` (outermost but for the request id) answers 304 with no body when the caller's
  `If-None-Match` names the answer's ETag. It looks at the answer's headers, so it works for answers served from
  the response cache too (they keep the ETag they were stored with).
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from litestar import Response
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from pydantic_core import to_json

_KEEP_ON_304: Final = frozenset({b"etag", b"cache-control", b"vary", b"x-request-id", b"date", b"expires"})


def weak_etag(content: Any) -> str:
    digest = hashlib.sha256(to_json(content, by_alias=True)).hexdigest()[:32]
    return f'W/"{digest}"'


def tag_response(response: Response[Any]) -> Response[Any]:
    """`after_request`: a weak ETag on a 200 answer with a JSON body (a model, a list or a dict). Answers that are
    not a `Response` with content (static files: an `ASGIFileResponse`) pass untouched."""
    content = getattr(response, "content", None)
    if not isinstance(response, Response):
        return response
    if response.status_code != 200 or content is None or isinstance(content, bytes | str) or "etag" in response.headers:
        return response
    try:
        response.headers["ETag"] = weak_etag(content)
    except Exception:  # noqa: BLE001 - a body pydantic cannot hash goes untagged, never fails
        return response
    return response


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    wanted = [tag.strip() for tag in if_none_match.split(b",")]
    opaque = etag.removeprefix(b"W/")
    return b"*" in wanted or any(tag.removeprefix(b"W/") == opaque for tag in wanted)  # weak comparison


def not_modified_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") not in ("GET", "HEAD"):
            await app(scope, receive, send)
            return
        if_none_match = next((v for k, v in scope.get("headers", ()) if k == b"if-none-match"), None)
        if if_none_match is None:
            await app(scope, receive, send)
            return
        swallowing = False

        async def send_or_304(message: Message) -> None:
            nonlocal swallowing
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = list(message.get("headers", ()))
                etag = next((v for k, v in headers if k.lower() == b"etag"), None)
                if etag is not None and _matches(if_none_match, etag):
                    swallowing = True
                    kept = [(k, v) for k, v in headers if k.lower() in _KEEP_ON_304]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    return
            if swallowing and message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await app(scope, receive, send_or_304)

    return middleware
