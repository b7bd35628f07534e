"""GCRA, the arithmetic of the API rates (`crm_domain.rates`, SPEC §5): never more than a burst of `rate` plus one
call per interval since the first, and a refused caller told exactly when the next call is accepted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crm_domain.rates import MICROS, emission_interval, gcra

gaps = st.lists(st.integers(min_value=0, max_value=5 * MICROS), min_size=1, max_size=200)


@given(rate=st.integers(min_value=1, max_value=50), period=st.integers(min_value=1, max_value=120), gaps=gaps)
def test_accepted_calls_never_exceed_the_burst_plus_the_rate(rate: int, period: int, gaps: list[int]) -> None:
    step = emission_interval(rate, period)
    arrival: int | None = None
    now = 10**15
    accepted: list[int] = []
    for gap in gaps:
        now += gap
        verdict = gcra(arrival, now, rate, period)
        if verdict.accepted:
            arrival = verdict.arrival
            accepted.append(now)
        else:
            assert verdict.retry_after >= 1
            # waiting the answer (rounded up to a second) is always enough
            assert gcra(arrival, now + verdict.retry_after * MICROS, rate, period).accepted
    for i, start in enumerate(accepted):  # from any accepted call on
        for j in range(i, len(accepted)):
            assert j - i + 1 <= rate + (accepted[j] - start) // step


def test_a_burst_of_rate_is_accepted_at_once() -> None:
    arrival = None
    for _ in range(5):
        verdict = gcra(arrival, 0, 5, 60)
        assert verdict.accepted
        arrival = verdict.arrival
    assert gcra(arrival, 0, 5, 60).retry_after == 12
