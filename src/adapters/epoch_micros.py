"""Instants as exact integer microseconds since the Unix epoch (UTC): the form every store keeps them in — the
SQLite files (`adapters.sqlite`, the sandbox ERP's own file in `adapters.erp.sandbox`), MongoDB documents
(`adapters.mongo`: BSON dates keep milliseconds only) and Redis (`adapters.redis`: below 2**53, so Lua's doubles
and sorted-set scores hold it exactly). Shared here so no adapter package imports another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    """Exact integer microseconds since the epoch; a naive datetime is refused (its instant is unknown)."""
    if at.utcoffset() is None:
        raise ValueError(f"datetime {at!r} has no time zone; the store keeps instants only")
    return (at - EPOCH) // _MICROSECOND


def instant(value: int | str) -> datetime:
    """The aware UTC datetime `value` microseconds after the epoch (the inverse of `micros`)."""
    return EPOCH + timedelta(microseconds=int(value))
