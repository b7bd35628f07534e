"""Properties of outbox delivery (SPEC §2.7): backoff delays stay within [ceiling/2, ceiling] and never beyond the
cap; over any sequence of handler answers a message is dead exactly when it used its last attempt (or was refused
for good), delivered exactly when every handler has it, and never handed to a handler that already has it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory import MemoryStore
from adapters.phones import PhonenumbersNormaliser
from adapters.system import FixedClock, SequentialIds
from crm_domain.outbox import OutboxMessage, OutboxStatus, RetryPolicy
from crm_domain.ports import UnitOfWork
from crm_domain.services.context import ServiceContext
from crm_domain.services.delivery import BreakerSettings, OutboxDispatcher
from tests.unit.erp_fakes import ScriptedHandler

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
ANSWERS = st.sampled_from(["ok", "down", "down", "bug", "refuse"])


@settings(max_examples=500, deadline=None)
@given(
    attempts=st.integers(min_value=1, max_value=80),
    base=st.floats(min_value=0.001, max_value=120, allow_nan=False),
    cap=st.floats(min_value=0.001, max_value=7200, allow_nan=False),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_delay_is_between_half_its_ceiling_and_the_ceiling_and_never_beyond_the_cap(
    attempts: int, base: float, cap: float, seed: int
) -> None:
    policy = RetryPolicy(base_seconds=base, cap_seconds=cap)
    ceiling = min(cap, base * 2 ** (attempts - 1))

    delay = policy.delay(attempts, random.Random(seed)).total_seconds()

    tolerance = 1e-6  # timedelta keeps microseconds
    assert ceiling / 2 - tolerance <= delay <= ceiling + tolerance
    assert delay <= cap + tolerance


@settings(max_examples=200, deadline=None)
@given(max_attempts=st.integers(min_value=1, max_value=12))
def test_gives_up_exactly_from_the_maximum_number_of_attempts(max_attempts: int) -> None:
    policy = RetryPolicy(max_attempts=max_attempts)
    assert [policy.gives_up(n) for n in range(max_attempts + 2)] == [n >= max_attempts for n in range(max_attempts + 2)]


@settings(max_examples=150, deadline=None)
@given(
    scripts=st.lists(st.lists(ANSWERS, max_size=8), min_size=1, max_size=3),
    messages=st.integers(min_value=1, max_value=4),
    max_attempts=st.integers(min_value=1, max_value=5),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_over_any_answers_delivery_and_dead_letters_keep_their_invariants(
    scripts: list[list[str]], messages: int, max_attempts: int, seed: int
) -> None:
    clock = FixedClock(T0)
    ctx = ServiceContext(uow=MemoryStore(), clock=clock, ids=SequentialIds("m"), mobiles=PhonenumbersNormaliser())
    handlers = [ScriptedHandler(f"h{n}", script=list(script)) for n, script in enumerate(scripts)]
    policy = RetryPolicy(base_seconds=1, cap_seconds=8, max_attempts=max_attempts)
    worker = OutboxDispatcher(
        ctx, handlers, policy=policy, breaker=BreakerSettings(failures=10_000), rng=random.Random(seed)
    )
    ids = [_put(ctx) for _ in range(messages)]

    for _ in range(len(handlers) * 8 + max_attempts + 2):
        before = {i: _get(ctx, i) for i in ids}
        failed_at = clock.now()
        worker.run_once(limit=10)
        for message_id in ids:
            old, new = before[message_id], _get(ctx, message_id)
            assert set(old.done) <= set(new.done)  # progress is never lost
            assert new.attempts <= max_attempts
            if new.attempts > old.attempts and new.status is OutboxStatus.PENDING:
                ceiling = min(policy.cap_seconds, policy.base_seconds * 2 ** (new.attempts - 1))
                delay = (new.next_attempt_at - failed_at).total_seconds()
                assert ceiling / 2 - 1e-6 <= delay <= ceiling + 1e-6
        clock.advance(timedelta(seconds=policy.cap_seconds))

    for handler in handlers:
        # never handed a message it had in `done`, and never delivered one twice
        assert all(handler.name not in done for done in handler.done_seen)
        assert len(handler.delivered) == len(set(handler.delivered))
    for message_id in ids:
        final = _get(ctx, message_id)
        refused = final.last_error is not None and "ErpRejected" in final.last_error
        if final.status is OutboxStatus.DELIVERED:
            assert set(final.done) == {h.name for h in handlers}
            assert all(message_id in h.delivered for h in handlers)
        elif final.status is OutboxStatus.DEAD:
            assert final.attempts == max_attempts or refused
        else:
            raise AssertionError(f"message {message_id} still pending after every script ran out: {final}")


def _put(ctx: ServiceContext) -> str:
    message = OutboxMessage(
        id=ctx.ids.new_id(),
        event="order.submitted",
        aggregate_id="O-1",
        payload={"order_id": "O-1"},
        occurred_at=ctx.now(),
        next_attempt_at=ctx.now(),
    )

    def add(uow: UnitOfWork) -> None:
        uow.outbox.add(message)

    ctx.write(add)
    return message.id


def _get(ctx: ServiceContext, message_id: str) -> OutboxMessage:
    message = ctx.read(lambda uow: uow.outbox.get(message_id))
    assert message is not None
    return message
