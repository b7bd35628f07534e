"""Outbox delivery (SPEC §2.7, §8): what `crm worker` runs. At least once, with leases, per-handler progress,
exponential backoff with jitter, dead letters, and a circuit breaker per destination.

One pass (`OutboxDispatcher.run_once`):
1. claim up to `limit` due messages with a lease (`OutboxRepository.claim`): no other worker takes them until the
   lease ends, and a crashed worker's messages come due again when it does;
2. give each message to every handler subscribed to its event's class (`OutboxHandler.events`, matched through the
   one registry of event names, `crm_domain.events.EVENT_TYPES`) and not yet in `message.done`; a handler that
   succeeds is added to `done`, so a retry never delivers to it again. A handler that sends several things for
   one message (`Stepwise`: the hold e-mail to each person) has each step recorded in `done` and saved before the
   next, so a crash repeats at most the one send in flight per handler, never the whole fan-out (SPEC §5);
3. all done → `delivered`. A failure → `attempts + 1` and the next attempt after `policy.delay(attempts)`, the
   error kept in `last_error`; after `policy.gives_up(attempts)`, or at once on a permanent refusal
   (`ErpRejected`, `RecipientRejected`), the message is `dead` until an operator runs `retry_dead`.

The circuit breaker is per handler and destination (`handler.circuit(message)`, e.g. the customer's ERP): after
`BreakerSettings.failures` consecutive `UpstreamUnavailable` it opens for `cool_down`; while open, that handler's
messages are rescheduled to when it closes, without calling it and without counting an attempt; then one message
goes through (half-open) and its result closes or re-opens the breaker. Breakers live in the worker process.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Protocol, runtime_checkable

import attrs

from crm_domain.erp import ErpRejected
from crm_domain.errors import RecipientRejected, UpstreamUnavailable
from crm_domain.outbox import OutboxMessage, OutboxStats, OutboxStatus, RetryPolicy
from crm_domain.ports import OutboxHandler, UnitOfWork
from crm_domain.services.context import ServiceContext

log = logging.getLogger("crm.worker")

#: Refusals that retrying cannot change: the message is dead-lettered at once.
PERMANENT: Final[tuple[type[Exception], ...]] = (ErpRejected, RecipientRejected)
_MAX_ERROR: Final = 1000


@runtime_checkable
class CircuitRouted(Protocol):
    """A handler with several destinations (ERPs) names the one a message goes to: one breaker each."""

    def circuit(self, message: OutboxMessage) -> str: ...


@runtime_checkable
class GiveUpAware(Protocol):
    """A handler told when the worker stops retrying a message it failed (e.g. to mark the order `dead`)."""

    def gave_up(self, message: OutboxMessage, error: str) -> None: ...


@attrs.frozen
class Step:
    """One send of a `Stepwise` handler for one message (the e-mail to one person). `key` tells it from the
    message's other steps and stays the same when the message is handled again."""

    key: str
    run: Callable[[], None]


@runtime_checkable
class Stepwise(Protocol):
    """A handler that may send several things for one message: the dispatcher runs its steps (instead of
    `handle`) and saves each step done before the next."""

    def steps(self, message: OutboxMessage) -> Sequence[Step]: ...


@attrs.frozen
class BreakerSettings:
    failures: int = 5  # consecutive transient failures that open the breaker
    cool_down: timedelta = timedelta(seconds=30)


@attrs.define
class CircuitBreaker:
    settings: BreakerSettings
    failures: int = 0
    opened_at: datetime | None = None

    def is_open(self, now: datetime) -> bool:
        reopens = self.reopens_at
        return reopens is not None and now < reopens

    @property
    def reopens_at(self) -> datetime | None:
        """When an open breaker lets the next call through (half-open); None while closed."""
        return None if self.opened_at is None else self.opened_at + self.settings.cool_down

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None

    def failed(self, now: datetime) -> None:
        """A transient failure. A failed half-open probe opens it again at once."""
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.settings.failures:
            self.opened_at = now


class Outcome(StrEnum):
    DELIVERED = "delivered"  # every handler has it
    RETRY = "retry"  # a handler failed; tried again later
    DEAD = "dead"  # given up (or refused for good)
    DEFERRED = "deferred"  # a breaker is open: rescheduled, no attempt counted
    RELEASED = "released"  # claimed but not started (stopping, or the lease running short): due again now


@attrs.frozen(kw_only=True)
class Delivery:
    message_id: str
    event: str
    aggregate_id: str
    outcome: Outcome
    attempts: int
    handlers: tuple[str, ...] = ()  # the handlers that took it in this pass
    error: str | None = None
    next_attempt_at: datetime | None = None


@attrs.frozen(kw_only=True)
class DeliveryReport:
    claimed: int
    deliveries: tuple[Delivery, ...]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for d in self.deliveries if d.outcome is outcome)


DEFAULT_POLICY: Final = RetryPolicy()
DEFAULT_BREAKER: Final = BreakerSettings()
DEFAULT_LEASE: Final = timedelta(seconds=120)


class OutboxDispatcher:
    def __init__(
        self,
        ctx: ServiceContext,
        handlers: Sequence[OutboxHandler],
        policy: RetryPolicy = DEFAULT_POLICY,
        breaker: BreakerSettings = DEFAULT_BREAKER,
        lease: timedelta = DEFAULT_LEASE,
        rng: random.Random | None = None,
    ) -> None:
        names = [h.name for h in handlers]
        if len(set(names)) != len(names):
            raise ValueError(f"handler names must be unique, got {names}")
        self._ctx = ctx
        self._handlers = tuple(handlers)
        self._policy = policy
        self._breaker_settings = breaker
        self._lease = lease
        self._rng = rng or random.Random()
        self.breakers: dict[str, CircuitBreaker] = {}
        self._routes: dict[str, tuple[OutboxHandler, ...]] = {}

    # --- delivering ---------------------------------------------------------------------------------------

    def run_once(
        self, limit: int = 20, *, due_by: datetime | None = None, should_stop: Callable[[], bool] | None = None
    ) -> DeliveryReport:
        """Claim up to `limit` messages due by `due_by` (default: now) and deliver them. `should_stop` is asked
        before each message: once it says yes, the rest are released (due again at once) and the pass ends."""
        now = self._ctx.now()
        lease_until = now + self._lease
        due = now if due_by is None else min(due_by, now)
        claimed = self._ctx.write(lambda uow: uow.outbox.claim(due, limit, lease_until))
        idle = [m for m in claimed if not self._pending(m)]
        busy = [m for m in claimed if self._pending(m)]
        deliveries = self._deliver_idle(idle) if idle else []
        start_by = now + self._lease / 2  # each message started keeps at least half a lease to finish
        for index, message in enumerate(busy):
            if (should_stop is not None and should_stop()) or self._ctx.now() >= start_by:
                deliveries += self._release(busy[index:])
                break
            deliveries.append(self._deliver(message))
        return DeliveryReport(claimed=len(claimed), deliveries=tuple(deliveries))

    def _pending(self, message: OutboxMessage) -> list[OutboxHandler]:
        return [h for h in self.subscribers(message) if h.name not in message.done]

    def subscribers(self, message: OutboxMessage) -> tuple[OutboxHandler, ...]:
        """The handlers subscribed to the class of `message`'s event (none for a name no event has)."""
        routed = self._routes.get(message.event)
        if routed is None:
            routed = self._routes[message.event] = tuple(h for h in self._handlers if message.is_one_of(h.events))
        return routed

    def _deliver_idle(self, messages: list[OutboxMessage]) -> list[Delivery]:
        """Messages no handler (still) wants: delivered, in one write."""
        now = self._ctx.now()
        for message in messages:
            message.status, message.delivered_at = OutboxStatus.DELIVERED, now
        self._ctx.write(lambda uow: _save_all(uow, messages))
        return [_delivery(m, Outcome.DELIVERED) for m in messages]

    def _release(self, messages: list[OutboxMessage]) -> list[Delivery]:
        now = self._ctx.now()
        for message in messages:
            message.next_attempt_at = now
        self._ctx.write(lambda uow: _save_all(uow, messages))
        return [_delivery(m, Outcome.RELEASED) for m in messages]

    def _deliver(self, message: OutboxMessage) -> Delivery:
        pending = self._pending(message)
        failures: list[tuple[OutboxHandler, Exception]] = []
        took: list[str] = []
        deferred_until: datetime | None = None
        for position, handler in enumerate(pending):
            breaker = self._breaker(handler, message)
            if breaker.is_open(self._ctx.now()):
                reopens = breaker.reopens_at
                assert reopens is not None
                deferred_until = reopens if deferred_until is None else max(deferred_until, reopens)
                continue
            try:
                self._handle(handler, message)
            except UpstreamUnavailable as exc:
                breaker.failed(self._ctx.now())
                failures.append((handler, exc))
            except PERMANENT as exc:
                breaker.succeeded()  # the destination answered
                failures.append((handler, exc))
            except Exception as exc:  # noqa: BLE001 - a bug or an odd answer: retried like a transient failure
                failures.append((handler, exc))
            else:
                breaker.succeeded()
                steps_done = f"{handler.name}:"
                message.done = (*(d for d in message.done if not d.startswith(steps_done)), handler.name)
                took.append(handler.name)
                if position < len(pending) - 1:  # keep the progress should the worker die before the rest
                    self._ctx.write(lambda uow: uow.outbox.save(message))
        outcome = self._settle(message, failures, deferred_until)
        self._ctx.write(lambda uow: uow.outbox.save(message))
        if outcome is Outcome.DEAD:
            self._tell_gave_up(message, failures)
        delivery = _delivery(message, outcome, tuple(took))
        _log(delivery)
        return delivery

    def _handle(self, handler: OutboxHandler, message: OutboxMessage) -> None:
        """Give `message` to `handler`; a `Stepwise` one step by step, each step done saved before the next (as
        `name:key` in `message.done`), so a crash or a failure repeats only the step in flight."""
        if not isinstance(handler, Stepwise):
            handler.handle(message)
            return
        for step in handler.steps(message):
            mark = f"{handler.name}:{step.key}"
            if mark in message.done:
                continue
            step.run()
            message.done = (*message.done, mark)
            self._ctx.write(lambda uow: uow.outbox.save(message))

    def _settle(
        self,
        message: OutboxMessage,
        failures: list[tuple[OutboxHandler, Exception]],
        deferred_until: datetime | None,
    ) -> Outcome:
        now = self._ctx.now()
        if failures:
            message.attempts += 1
            message.last_error = "; ".join(f"{h.name}: {_describe(exc)}" for h, exc in failures)[:_MAX_ERROR]
            if any(isinstance(exc, PERMANENT) for _, exc in failures) or self._policy.gives_up(message.attempts):
                message.status = OutboxStatus.DEAD
                return Outcome.DEAD
            retry_at = now + self._policy.delay(message.attempts, self._rng)
            message.next_attempt_at = retry_at if deferred_until is None else max(retry_at, deferred_until)
            return Outcome.RETRY
        if deferred_until is not None:
            message.next_attempt_at = deferred_until
            return Outcome.DEFERRED
        message.status, message.delivered_at = OutboxStatus.DELIVERED, now
        return Outcome.DELIVERED

    def _tell_gave_up(self, message: OutboxMessage, failures: list[tuple[OutboxHandler, Exception]]) -> None:
        for handler, exc in failures:
            if isinstance(exc, PERMANENT) or not isinstance(handler, GiveUpAware):
                continue  # a handler refused for good has recorded that itself
            try:
                handler.gave_up(message, message.last_error or _describe(exc))
            except Exception:
                log.exception("outbox: %s could not record giving up on message %s", handler.name, message.id)

    def _breaker(self, handler: OutboxHandler, message: OutboxMessage) -> CircuitBreaker:
        key = handler.name
        if isinstance(handler, CircuitRouted):
            try:
                key = f"{handler.name}:{handler.circuit(message)}"
            except Exception:  # noqa: BLE001 - cannot tell the destination: the handler's own breaker
                log.warning("outbox: %s could not name the destination of message %s", handler.name, message.id)
        breaker = self.breakers.get(key)
        if breaker is None:
            breaker = self.breakers[key] = CircuitBreaker(self._breaker_settings)
        return breaker

    # --- operating ----------------------------------------------------------------------------------------

    def retry_dead(self, limit: int = 1000) -> int:
        """Put up to `limit` dead letters back to pending, attempts reset, due now; returns how many."""

        def step(uow: UnitOfWork) -> int:
            now = self._ctx.now()
            dead = uow.outbox.dead(limit)
            for message in dead:
                message.status, message.attempts, message.next_attempt_at = OutboxStatus.PENDING, 0, now
                uow.outbox.save(message)
            return len(dead)

        return self._ctx.write(step)

    def purge_delivered(self, older_than: timedelta, batch: int = 1000, max_batches: int | None = None) -> int:
        """Delete the messages delivered more than `older_than` ago (retention), `batch` per write so no write
        holds the store for long, until none is left or `max_batches` writes were made; returns how many."""
        before = self._ctx.now() - older_than
        purged = batches = 0
        while max_batches is None or batches < max_batches:
            count = self._ctx.write(lambda uow: uow.outbox.purge_delivered(before, batch))
            purged += count
            batches += 1
            if count < batch:
                break
        return purged

    def stats(self) -> OutboxStats:
        return self._ctx.read(lambda uow: uow.outbox.stats())

    def dead_letters(self, limit: int = 100) -> list[OutboxMessage]:
        return self._ctx.read(lambda uow: uow.outbox.dead(limit))


def _save_all(uow: UnitOfWork, messages: list[OutboxMessage]) -> None:
    for message in messages:
        uow.outbox.save(message)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _delivery(message: OutboxMessage, outcome: Outcome, handlers: tuple[str, ...] = ()) -> Delivery:
    return Delivery(
        message_id=message.id,
        event=message.event,
        aggregate_id=message.aggregate_id,
        outcome=outcome,
        attempts=message.attempts,
        handlers=handlers,
        error=message.last_error if outcome in (Outcome.RETRY, Outcome.DEAD) else None,
        next_attempt_at=message.next_attempt_at if outcome in (Outcome.RETRY, Outcome.DEFERRED) else None,
    )


def _log(delivery: Delivery) -> None:
    fields = {"outbox": attrs.asdict(delivery)}
    what = f"{delivery.event} {delivery.aggregate_id} (message {delivery.message_id})"
    if delivery.outcome is Outcome.DELIVERED:
        log.debug("delivered %s to %s", what, ", ".join(delivery.handlers) or "nobody", extra=fields)
    elif delivery.outcome is Outcome.DEFERRED:
        log.debug("deferred %s until %s: circuit open", what, delivery.next_attempt_at, extra=fields)
    elif delivery.outcome is Outcome.RETRY:
        log.warning(
            "attempt %d of %s failed, next at %s: %s",
            delivery.attempts,
            what,
            delivery.next_attempt_at,
            delivery.error,
            extra=fields,
        )
    else:
        log.error("dead letter %s after %d attempts: %s", what, delivery.attempts, delivery.error, extra=fields)
