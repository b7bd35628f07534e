"""Rates for the API limits (SPEC §5): GCRA, the generic cell rate algorithm, on integer microseconds.

A key keeps one number, the theoretical arrival time (TAT) of its next call. A call at `now` would move it to
`max(TAT, now) + period / rate`; it is accepted while that is at most `period` ahead of `now`. So a key may
spend `rate` calls at once and then one every `period / rate`: on average never more than `rate` a period,
kept in one small record that one atomic step updates (a SQLite upsert, a Redis script). The adapters implement
this same arithmetic; the memory adapter calls `gcra` directly.
"""

from __future__ import annotations

import attrs

MICROS = 1_000_000


@attrs.frozen
class GcraVerdict:
    """`arrival` is the key's new TAT when accepted; `retry_after` (seconds, at least 1) when refused."""

    accepted: bool
    arrival: int
    retry_after: int


def emission_interval(rate: int, period_seconds: int) -> int:
    """Microseconds one call adds to the TAT; rounded down so that `rate` calls fit in one period."""
    if rate < 1 or period_seconds < 1:
        raise ValueError("a rate needs at least one call in a period of at least one second")
    return period_seconds * MICROS // rate


def gcra(arrival: int | None, now: int, rate: int, period_seconds: int) -> GcraVerdict:
    """The verdict on one call at `now` (µs) for a key whose TAT is `arrival` (None: never seen)."""
    step = emission_interval(rate, period_seconds)
    period = period_seconds * MICROS
    after = max(arrival if arrival is not None else now, now) + step
    if after - now > period:
        wait = after - now - period
        return GcraVerdict(accepted=False, arrival=arrival or now, retry_after=max(-(-wait // MICROS), 1))
    return GcraVerdict(accepted=True, arrival=after, retry_after=0)
