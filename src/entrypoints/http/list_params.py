"""Query parameters shared by lists (SPEC §4): `q` (text search) and `updated_since` (delta sync)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar.params import QueryParameter

from crm_domain.search import MAX_QUERY, TextQuery

Search = Annotated[
    str | None,
    QueryParameter(
        required=False,
        min_length=1,
        max_length=MAX_QUERY,
        description="Search: a code or SKU prefix, words of the name (each the start of a word, any order), or, "
        "for customers, the digits of the mobile (international or national). Case is ignored.",
    ),
]
UpdatedSince = Annotated[
    datetime | None,
    QueryParameter(
        required=False,
        description="Only records changed at or after this instant (ISO 8601; without an offset, UTC): pass the "
        "time of the last sync to fetch only what changed.",
    ),
]


def text_query(q: str | None) -> TextQuery | None:
    return None if q is None else TextQuery.parse(q)


def since(updated_since: datetime | None) -> datetime | None:
    if updated_since is None or updated_since.tzinfo is not None:
        return updated_since
    return updated_since.replace(tzinfo=UTC)
