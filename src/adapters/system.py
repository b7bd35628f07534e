"""Clock and id generator of the running system, and fixed ones for tests."""

from __future__ import annotations

import base64
import os
import threading
import time
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and the demo data generator."""

    def __init__(self, at: datetime | None = None) -> None:
        self._at = at or datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: base64's base32 alphabet → Crockford's, so that encoding runs in C (`ulid_text`).
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())


def ulid_text(value: int) -> str:
    """The 26 Crockford base32 characters of a 128-bit ULID. Four zero bytes in front make 160 bits, which
    base32 encodes in 32 characters without padding; the last 26 are the ULID's 130 bits (two leading zeros)."""
    encoded = base64.b32encode(b"\0\0\0\0" + value.to_bytes(16, "big"))
    return encoded[6:].translate(_TO_CROCKFORD).decode("ascii")


class UlidGenerator:
    """ULIDs: 48-bit millisecond time + 80 random bits, Crockford base32; sortable by creation time.

    Monotonic within a process: ids made in the same millisecond increase.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def new_id(self) -> str:
        with self._lock:
            value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
            if value <= self._last:
                value = self._last + 1
            self._last = value
        return ulid_text(value)


class SequentialIds:
    """Predictable ids (`prefix-000001`, …) for tests."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._next = 0
        self._lock = threading.Lock()

    def new_id(self) -> str:
        with self._lock:
            self._next += 1
            return f"{self._prefix}-{self._next:06d}"
