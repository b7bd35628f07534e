"""The small part of MongoDB's query language this adapter uses, evaluated in Python as well, so that one
filter selects both stored documents (on the server) and a unit of work's not-yet-written ones (in memory);
and keyset cursors as filters.

Supported: equality (including None), `$in`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte` on top-level fields, and
`$or` / `$and`. Values compared are strings, integers, booleans or None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.pagination import decode_cursor, encode_cursor
from crm_domain.errors import ValidationFailed

Filter = dict[str, Any]
Sort = list[tuple[str, int]]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: a is not None and a > b,
    "$gte": lambda a, b: a is not None and a >= b,
    "$lt": lambda a, b: a is not None and a < b,
    "$lte": lambda a, b: a is not None and a <= b,
    "$in": lambda a, b: a in b,
}


def matches(doc: Mapping[str, Any], query: Filter) -> bool:
    """Whether `doc` satisfies `query`, as the server would decide."""
    for field, condition in query.items():
        if field == "$or":
            if not any(matches(doc, sub) for sub in condition):
                return False
        elif field == "$and":
            if not all(matches(doc, sub) for sub in condition):
                return False
        elif isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
            value = doc.get(field)
            if not all(_COMPARE[op](value, operand) for op, operand in condition.items()):
                return False
        elif doc.get(field) != condition:
            return False
    return True


def sort_key(sort: Sort) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A Python sort key for a one-direction sort spec (every field ascending, or every field descending)."""
    fields = [name for name, _ in sort]
    return lambda doc: tuple(doc.get(name) for name in fields)


def after_cursor(cursor: str | None, sort: Sort, types: tuple[type, ...]) -> Filter:
    """The filter that continues a keyset-paginated list after `cursor` (empty for the first page);
    `ValidationFailed` for a cursor this store never handed out."""
    key = decode_cursor(cursor, len(sort))
    if key is None:
        return {}
    if any(type(value) is not kind for value, kind in zip(key, types, strict=True)) or any(
        isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX for value in key
    ):
        raise ValidationFailed("cursor is not valid", field="cursor")
    branches = []
    for i, (name, direction) in enumerate(sort):
        branch: Filter = {sort[j][0]: key[j] for j in range(i)}
        branch[name] = {"$gt" if direction > 0 else "$lt": key[i]}
        branches.append(branch)
    return {"$or": branches}


def next_cursor(doc: Mapping[str, Any], sort: Sort) -> str:
    return encode_cursor([doc[name] for name, _ in sort])


def conjunction(*filters: Filter) -> Filter:
    """All of `filters` (empty ones left out)."""
    present = [f for f in filters if f]
    if not present:
        return {}
    return present[0] if len(present) == 1 else {"$and": present}
