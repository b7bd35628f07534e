"""Opaque keyset cursors shared by the store adapters: the last row's sort key, JSON, URL-safe base64."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from crm_domain.errors import ValidationFailed


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    """The sort key inside `cursor`, or None for the first page; `ValidationFailed` for a forged cursor."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid", field="cursor") from exc
    if not isinstance(key, list) or len(key) != size or not all(isinstance(v, str | int) for v in key):
        raise ValidationFailed("cursor is not valid", field="cursor")
    return key
