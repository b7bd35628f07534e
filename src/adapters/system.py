"""Clock and id generator of the running system, and fixed ones for tests."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta


class _Process:
    id = os.getpid()


def _forked() -> None:
    _Process.id = os.getpid()


os.register_at_fork(after_in_child=_forked)


def process_id() -> int:
    """`os.getpid()` without a system call on each use; kept true across `os.fork` (multiprocessing, servers)."""
    return _Process.id


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
#: every pair of Crockford characters, indexed by the 10 bits they encode
_PAIRS = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)
_PAIR_SHIFTS = tuple(range(115, 4, -10))  # 115, 105, …, 5


def ulid_text(value: int) -> str:
    """The 26 Crockford base32 characters of a 128-bit ULID: 130 bits (two leading zeros), the first and the
    last character alone and the 120 bits between as twelve 10-bit pairs (one table look-up each)."""
    pairs = _PAIRS
    middle = "".join([pairs[value >> shift & 1023] for shift in _PAIR_SHIFTS])
    return _CROCKFORD[value >> 125] + middle + _CROCKFORD[value & 31]


class UlidGenerator:
    """ULIDs: 48-bit millisecond time + 80 random bits, Crockford base32; sortable by creation time.

    Monotonic within a process: ids made in the same millisecond increase.
    """

    #: random bytes read from the system at a time (64 ids' worth), instead of one system call per id
    POOL = 640

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._pool = b""
        self._used = 0
        self._pool_pid = 0

    def new_id(self) -> str:
        with self._lock:
            # A forked child never reuses its parent's bytes: both would make the same ids.
            if self._used >= len(self._pool) or self._pool_pid != _Process.id:
                self._pool, self._used, self._pool_pid = os.urandom(self.POOL), 0, _Process.id
            random_bits = int.from_bytes(self._pool[self._used : self._used + 10], "big")
            self._used += 10
            value = (time.time_ns() // 1_000_000) << 80 | random_bits
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
