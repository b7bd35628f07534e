"""SPEC §2.7, §8: the outbox dispatcher delivers at least once to each handler, keeps per-handler progress, backs
off with jitter, dead-letters after the last attempt, holds leases, and opens a circuit breaker per destination."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory import MemoryStore
from adapters.phones import PhonenumbersNormaliser
from adapters.system import FixedClock, SequentialIds
from crm_domain.outbox import OutboxMessage, OutboxStatus, RetryPolicy
from crm_domain.ports import OutboxHandler
from crm_domain.services.context import ServiceContext
from crm_domain.services.delivery import BreakerSettings, OutboxDispatcher, Outcome
from tests.unit.erp_fakes import RoutedHandler, ScriptedHandler

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
POLICY = RetryPolicy(base_seconds=2, cap_seconds=60, max_attempts=4)
NEVER_OPENS = BreakerSettings(failures=1000)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def ctx(clock: FixedClock) -> ServiceContext:
    return ServiceContext(uow=MemoryStore(), clock=clock, ids=SequentialIds("m"), mobiles=PhonenumbersNormaliser())


def put(ctx: ServiceContext, event: str = "order.submitted", **payload: Any) -> str:
    message = OutboxMessage(
        id=ctx.ids.new_id(),
        event=event,
        aggregate_id=str(payload.get("order_id", "O-1")),
        payload=payload,
        occurred_at=ctx.now(),
        next_attempt_at=ctx.now(),
    )

    def add(uow: Any) -> None:
        uow.outbox.add(message)

    ctx.write(add)
    return message.id


def stored(ctx: ServiceContext, message_id: str) -> OutboxMessage:
    message = ctx.read(lambda uow: uow.outbox.get(message_id))
    assert message is not None
    return message


def dispatcher(
    ctx: ServiceContext, *handlers: OutboxHandler, breaker: BreakerSettings = NEVER_OPENS, **kw: Any
) -> OutboxDispatcher:
    return OutboxDispatcher(ctx, list(handlers), policy=POLICY, breaker=breaker, rng=random.Random(1), **kw)


class TestDelivery:
    def test_a_message_nobody_handles_is_delivered_without_calling_anyone(self, ctx: ServiceContext) -> None:
        erp = ScriptedHandler("erp")
        message_id = put(ctx, "credit_limit.changed")

        report = dispatcher(ctx, erp).run_once()

        assert erp.received == []
        assert stored(ctx, message_id).status is OutboxStatus.DELIVERED
        assert report.count(Outcome.DELIVERED) == 1

    def test_each_handler_gets_the_message_once_and_a_retry_skips_those_done(
        self, ctx: ServiceContext, clock: FixedClock
    ) -> None:
        erp, sms = ScriptedHandler("erp", script=["down"]), ScriptedHandler("sms")
        message_id = put(ctx)
        worker = dispatcher(ctx, erp, sms)

        worker.run_once()
        after_first = stored(ctx, message_id)
        assert (after_first.status, after_first.done, after_first.attempts) == (OutboxStatus.PENDING, ("sms",), 1)
        clock.advance(timedelta(minutes=5))
        worker.run_once()

        assert sms.received == [message_id]
        assert erp.received == [message_id, message_id]
        delivered = stored(ctx, message_id)
        assert (delivered.status, set(delivered.done)) == (OutboxStatus.DELIVERED, {"erp", "sms"})
        assert delivered.delivered_at == clock.now()

    def test_a_failure_is_retried_after_a_jittered_exponential_delay(
        self, ctx: ServiceContext, clock: FixedClock
    ) -> None:
        erp = ScriptedHandler("erp", script=["down", "bug", "down"])
        message_id = put(ctx)
        worker = dispatcher(ctx, erp)

        for attempt in (1, 2, 3):
            worker.run_once()
            message = stored(ctx, message_id)
            ceiling = min(POLICY.cap_seconds, POLICY.base_seconds * 2 ** (attempt - 1))
            delay = (message.next_attempt_at - clock.now()).total_seconds()
            assert message.attempts == attempt
            assert ceiling / 2 <= delay <= ceiling
            assert worker.run_once().claimed == 0  # not due before its time
            clock.advance(timedelta(seconds=ceiling))
        assert stored(ctx, message_id).last_error == "erp: UpstreamUnavailable: erp is down"  # the latest one
        worker.run_once()
        assert stored(ctx, message_id).status is OutboxStatus.DELIVERED

    def test_the_message_is_dead_at_exactly_the_last_attempt_and_retry_dead_revives_it(
        self, ctx: ServiceContext, clock: FixedClock
    ) -> None:
        erp = ScriptedHandler("erp", script=["down"] * POLICY.max_attempts)
        message_id = put(ctx)
        worker = dispatcher(ctx, erp)
        for _ in range(POLICY.max_attempts - 1):
            worker.run_once()
            clock.advance(timedelta(minutes=5))
            assert stored(ctx, message_id).status is OutboxStatus.PENDING

        worker.run_once()
        clock.advance(timedelta(days=1))
        assert worker.run_once().claimed == 0

        dead = stored(ctx, message_id)
        assert (dead.status, dead.attempts) == (OutboxStatus.DEAD, POLICY.max_attempts)
        assert dead.last_error == "erp: UpstreamUnavailable: erp is down"
        assert [m.id for m in worker.dead_letters()] == [message_id]
        assert worker.stats().dead == 1
        assert worker.retry_dead() == 1
        revived = stored(ctx, message_id)
        assert (revived.status, revived.attempts) == (OutboxStatus.PENDING, 0)
        worker.run_once()
        assert stored(ctx, message_id).status is OutboxStatus.DELIVERED
        assert worker.stats().dead == 0

    def test_a_permanent_refusal_is_dead_at_once_but_the_other_handlers_still_get_it(self, ctx: ServiceContext) -> None:
        erp, sms = ScriptedHandler("erp", script=["refuse"]), ScriptedHandler("sms")
        message_id = put(ctx)

        report = dispatcher(ctx, erp, sms).run_once()

        dead = stored(ctx, message_id)
        assert (dead.status, dead.attempts, dead.done) == (OutboxStatus.DEAD, 1, ("sms",))
        assert report.count(Outcome.DEAD) == 1
        assert sms.delivered == [message_id]

    def test_giving_up_tells_a_handler_that_wants_to_know(self, ctx: ServiceContext, clock: FixedClock) -> None:
        told: list[tuple[str, str]] = []

        class Listening(ScriptedHandler):
            def gave_up(self, message: OutboxMessage, error: str) -> None:
                told.append((message.id, error))

        erp = Listening("erp", script=["down"] * 10)
        message_id = put(ctx)
        worker = dispatcher(ctx, erp)
        for _ in range(POLICY.max_attempts):
            assert told == []
            worker.run_once()
            clock.advance(timedelta(minutes=5))

        assert told == [(message_id, "erp: UpstreamUnavailable: erp is down")]


class TestLeases:
    def test_a_claimed_message_is_not_delivered_by_another_worker_until_the_lease_ends(
        self, ctx: ServiceContext, clock: FixedClock
    ) -> None:
        message_id = put(ctx)
        crashed_at = clock.now()
        ctx.write(lambda uow: uow.outbox.claim(crashed_at, 10, crashed_at + timedelta(seconds=120)))  # then died
        erp = ScriptedHandler("erp")
        worker = dispatcher(ctx, erp, lease=timedelta(seconds=120))

        clock.advance(timedelta(seconds=119))
        assert worker.run_once().claimed == 0
        clock.advance(timedelta(seconds=1))
        worker.run_once()

        assert erp.delivered == [message_id]
        assert stored(ctx, message_id).status is OutboxStatus.DELIVERED

    def test_a_second_worker_running_meanwhile_does_not_take_what_the_first_holds(self, ctx: ServiceContext) -> None:
        first_ids = [put(ctx) for _ in range(3)]
        second = ScriptedHandler("erp")
        other_worker = dispatcher(ctx, second)
        seen_by_other: list[int] = []

        class Meanwhile(ScriptedHandler):
            def handle(self, message: OutboxMessage) -> None:
                seen_by_other.append(other_worker.run_once().claimed)
                super().handle(message)

        first = Meanwhile("erp")
        dispatcher(ctx, first).run_once()

        assert first.delivered == first_ids
        assert second.received == []
        assert seen_by_other == [0, 0, 0]

    def test_stopping_hands_back_the_messages_not_started(self, ctx: ServiceContext, clock: FixedClock) -> None:
        ids = [put(ctx) for _ in range(3)]
        erp = ScriptedHandler("erp")
        stop_after_one = iter([False, True, True])

        report = dispatcher(ctx, erp).run_once(should_stop=lambda: next(stop_after_one))

        assert erp.delivered == ids[:1]
        assert report.count(Outcome.RELEASED) == 2
        assert [stored(ctx, i).next_attempt_at for i in ids[1:]] == [clock.now(), clock.now()]
        assert dispatcher(ctx, erp).run_once().claimed == 2  # due again at once for any worker

    def test_once_only_takes_what_was_due_when_it_started(self, ctx: ServiceContext, clock: FixedClock) -> None:
        started = clock.now()
        put(ctx)
        clock.advance(timedelta(seconds=1))
        later = put(ctx)

        report = dispatcher(ctx, ScriptedHandler("erp")).run_once(due_by=started)

        assert report.claimed == 1
        assert stored(ctx, later).status is OutboxStatus.PENDING


class TestCircuitBreaker:
    BREAKER = BreakerSettings(failures=2, cool_down=timedelta(seconds=30))

    def test_after_consecutive_failures_calls_stop_and_messages_wait_without_using_attempts(
        self, ctx: ServiceContext, clock: FixedClock
    ) -> None:
        erp = RoutedHandler("erp", script=["down", "down"])
        ids = [put(ctx, order_id=f"O-{n}", erp="sap") for n in range(4)]

        report = dispatcher(ctx, erp, breaker=self.BREAKER).run_once()

        assert erp.received == ids[:2]
        assert [report.count(o) for o in (Outcome.RETRY, Outcome.DEFERRED)] == [2, 2]
        for waiting in ids[2:]:
            message = stored(ctx, waiting)
            assert (message.attempts, message.next_attempt_at) == (0, clock.now() + timedelta(seconds=30))

    def test_half_open_lets_one_through_whose_success_closes_it(self, ctx: ServiceContext, clock: FixedClock) -> None:
        erp = RoutedHandler("erp", script=["down", "down"])
        ids = [put(ctx, order_id=f"O-{n}", erp="sap") for n in range(4)]
        worker = dispatcher(ctx, erp, breaker=self.BREAKER)
        worker.run_once()

        clock.advance(timedelta(seconds=29))
        assert worker.run_once().count(Outcome.DEFERRED) == 2  # the failed two are due again, but it is open
        assert len(erp.received) == 2
        clock.advance(timedelta(seconds=1))
        worker.run_once()

        assert [stored(ctx, i).status for i in ids] == [OutboxStatus.DELIVERED] * 4
        assert worker.breakers["erp:sap"].opened_at is None

    def test_a_failed_probe_opens_it_again_for_a_full_cool_down(self, ctx: ServiceContext, clock: FixedClock) -> None:
        erp = RoutedHandler("erp", script=["down", "down", "down"])
        ids = [put(ctx, order_id=f"O-{n}", erp="sap") for n in range(3)]
        worker = dispatcher(ctx, erp, breaker=self.BREAKER)
        worker.run_once()
        clock.advance(timedelta(seconds=30))

        report = worker.run_once()

        assert erp.received == [ids[0], ids[1], ids[0]]  # one probe (the oldest due), no other call
        assert [report.count(o) for o in (Outcome.RETRY, Outcome.DEFERRED)] == [1, 2]
        assert worker.breakers["erp:sap"].reopens_at == clock.now() + timedelta(seconds=30)

    def test_one_erp_down_does_not_hold_back_another(self, ctx: ServiceContext) -> None:
        erp = RoutedHandler("erp", script=["down", "down"])
        sap = [put(ctx, order_id=f"S-{n}", erp="sap") for n in range(3)]
        gennext = put(ctx, order_id="G-1", erp="gennext")

        dispatcher(ctx, erp, breaker=self.BREAKER).run_once()

        assert erp.delivered == [gennext]
        assert stored(ctx, sap[2]).attempts == 0  # deferred, not tried

    def test_an_open_breaker_does_not_hold_back_the_messages_other_handlers(
        self, ctx: ServiceContext, clock: FixedClock
    ) -> None:
        erp, sms = RoutedHandler("erp", script=["down", "down"]), ScriptedHandler("sms")
        ids = [put(ctx, order_id=f"O-{n}", erp="sap") for n in range(3)]

        dispatcher(ctx, erp, sms, breaker=self.BREAKER).run_once()

        assert sms.delivered == ids
        deferred = stored(ctx, ids[2])
        assert (deferred.status, deferred.done, deferred.attempts) == (OutboxStatus.PENDING, ("sms",), 0)


class TestRetention:
    def test_purges_delivered_messages_past_the_retention_in_bounded_batches(
        self, ctx: ServiceContext, clock: FixedClock
    ) -> None:
        old = [put(ctx) for _ in range(5)]
        dispatcher(ctx, ScriptedHandler("erp")).run_once()  # delivered now
        clock.advance(timedelta(days=8))
        recent = put(ctx)
        dispatcher(ctx, ScriptedHandler("erp")).run_once()
        waiting = put(ctx)  # pending: never purged
        retention = timedelta(days=7)

        assert dispatcher(ctx).purge_delivered(retention, batch=2, max_batches=2) == 4  # two writes of two
        assert dispatcher(ctx).purge_delivered(retention, batch=2) == 1  # the rest, until a short batch
        assert dispatcher(ctx).purge_delivered(retention, batch=2) == 0

        left = {m for m in [*old, recent, waiting] if ctx.read(lambda uow, m=m: uow.outbox.get(m)) is not None}
        assert left == {recent, waiting}
        assert stored(ctx, waiting).status is OutboxStatus.PENDING
