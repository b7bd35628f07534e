"""JSON request bodies are read only when they say they are JSON and are not nested too deeply (SPEC §5).

Litestar decodes a body with msgspec and the pydantic plugin validates it; a document nested thousands of levels
deep makes that recursion fail with a 500 (issue 12, finding 2). `JsonRequest` (the app's request class) checks
the raw bytes first: the declared media type (else 415) and the nesting depth (else 400), both before decoding.
The depth check is on the hot path of `POST /orders`, so it stays O(n) and in C (`bytes` methods, see
`depth_within`); a body with few brackets skips it.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Request
from litestar.exceptions import ClientException, HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE
from litestar.types import Empty

MAX_JSON_DEPTH: Final = 32
_SQUARE: Final = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_JSON_TYPES: Final = ("application/json",)


class JsonTooDeep(ClientException):
    """A JSON body nested deeper than `MAX_JSON_DEPTH` (answered 400 `json_too_deep`)."""

    problem_code = "json_too_deep"


class NotJson(HTTPException):
    """A body read as JSON that is declared as something else (answered 415)."""

    status_code = HTTP_415_UNSUPPORTED_MEDIA_TYPE


def depth_within(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when no container in `body` sits deeper than `limit` levels; an unbalanced body counts as too deep
    (it is not JSON either, and the decoder would refuse it anyway).

    A body with at most `limit` openers is within the limit. Otherwise the strings are cut out (escaped
    backslashes and quotes first, then every other piece between quotes), objects and arrays are made alike
    (`{}` become `[]`) and only the brackets kept; a run of `limit + 1` openers proves the body too deep, and each
    `replace` removes the innermost pairs — exactly one level — so `limit` of them empty a body within it. All of
    it runs in C (`bytes` methods): this is on the hot path of `POST /orders`.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return True
    if b'"' in body:
        if b"\\" in body:
            body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
        body = b"".join(body.split(b'"')[::2])
    brackets = body.translate(_SQUARE, _NOT_BRACKETS)
    for passes in range(limit):
        brackets = brackets.replace(b"[]", b"")
        if not brackets:
            return True
        if passes == 0 and b"[" * (limit + 1) in brackets:  # a plainly deep body: no need for more passes
            return False
    return False


def is_json_media_type(media_type: str) -> bool:
    """`application/json` or a structured-syntax `+json` type such as `application/merge-patch+json`."""
    media_type = media_type.strip().lower()
    return media_type in _JSON_TYPES or (media_type.startswith("application/") and media_type.endswith("+json"))


class JsonRequest(Request[Any, Any, Any]):
    """The app's request class: `json()` checks the declared type and the depth before Litestar decodes."""

    async def json(self) -> Any:
        if self._connection_state.json is not Empty:
            return await super().json()
        body = await self.body()
        if body:
            if not is_json_media_type(self.content_type[0]):
                raise NotJson(detail="send the body as application/json")
            if not depth_within(body):
                raise JsonTooDeep(detail=f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels (or unbalanced)")
        return await super().json()
