"""ETags on GET answers and `If-None-Match` → 304 (SPEC §4: delta sync for mobile clients).

- `TaggingCompression` (the app's compression middleware, which Litestar puts innermost on every route, inside the
  response cache) gives each successful GET answer with a JSON body a weak ETag: a hash of the body as encoded,
  before it is compressed, so the same resource (or the same page of a list) always has the same tag, gzipped or
  not, and a cached answer keeps the tag it was stored with. The body is hashed as it goes out, so the answer is
  encoded once (an `after_request` hook hashed the content by encoding it a second time; decision 0021).
- `not_modified_middleware` (outermost but for the request id) answers 304 with no body when the caller's
  `If-None-Match` names the answer's ETag. It looks at the answer's headers, so it works for answers served from
  the response cache too (they keep the ETag they were stored with).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final

from litestar.enums import ScopeType
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from litestar.config.compression import CompressionConfig

_KEEP_ON_304: Final = frozenset({b"etag", b"cache-control", b"vary", b"x-request-id", b"date", b"expires"})
_JSON: Final = b"application/json"


def weak_etag(body: bytes) -> bytes:
    """The weak ETag of an encoded body."""
    return b'W/"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'


def _untagged_json(headers: list[tuple[bytes, bytes]]) -> bool:
    json = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"etag":
            return False
        if lowered == b"content-type":
            json = value.split(b";", 1)[0].strip() == _JSON
    return json


def tag_json_answers(app: ASGIApp) -> ASGIApp:
    """`app` with a weak ETag on its 200 GET answers with a JSON body sent in one piece (not files, not pages,
    not problems, not streams). Nothing is computed for other methods."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "GET":
            await app(scope, receive, send)
            return
        held: HTTPResponseStartEvent | None = None

        async def send_tagged(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                if message["status"] == 200 and _untagged_json(list(message.get("headers", ()))):
                    held = message  # until the body is known
                    return
            elif held is not None:
                start, held = held, None
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    tag = (b"etag", weak_etag(message.get("body", b"")))
                    start["headers"] = [*start.get("headers", ()), tag]
                await send(start)
            await send(message)

        await app(scope, receive, send_tagged)

    return middleware


class TaggingCompression(CompressionMiddleware):
    """Litestar's compression middleware around `tag_json_answers`: tags are computed before compression."""

    def __init__(self, app: ASGIApp, config: CompressionConfig) -> None:
        super().__init__(app=tag_json_answers(app), config=config)


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
