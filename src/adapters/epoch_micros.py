"""Instants as exact integer microseconds since the Unix epoch (UTC), the form the SQLite files keep them in:
the CRM's store (`adapters.sqlite`) and the sandbox ERP's own file (`adapters.erp.sandbox`). Shared here so
neither adapter package imports the other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    """Exact integer microseconds since the epoch; a naive datetime is refused (its instant is unknown)."""
    if at.utcoffset() is None:
        raise ValueError(f"datetime {at!r} has no time zone; the store keeps instants only")
    return (at - EPOCH) // _MICROSECOND


def instant(value: int) -> datetime:
    """The aware UTC datetime `value` microseconds after the epoch (the inverse of `micros`)."""
    return EPOCH + timedelta(microseconds=value)
