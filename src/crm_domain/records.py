"""Small records kept by the store: idempotency keys, the audit trail, and list pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from crm_domain.errors import ValidationFailed

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class IdempotencyRecord:
    """A request already answered: the same key and body get the same result; another body is a conflict."""

    key: str
    actor_id: str
    operation: str
    fingerprint: str
    result_id: str
    created_at: datetime
    expires_at: datetime


@attrs.frozen(kw_only=True)
class AuditEntry:
    id: str
    at: datetime
    actor_id: str
    action: str
    entity: str
    entity_id: str
    details: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Page(Generic[T]):
    """One page of a list; `next_cursor` is opaque and None on the last page."""

    items: list[T]
    next_cursor: str | None = None


@attrs.frozen
class PageRequest:
    limit: int = 50
    cursor: str | None = None

    MAX_LIMIT = 200

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.limit <= self.MAX_LIMIT:
            raise ValidationFailed(f"limit must be between 1 and {self.MAX_LIMIT}", field="limit")
