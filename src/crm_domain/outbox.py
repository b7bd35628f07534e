"""The outbox: events stored with the change that caused them, delivered at least once by `crm worker`."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs

from crm_domain.events import Event, event_type


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@attrs.define(kw_only=True)
class OutboxMessage:
    id: str
    event: str
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    delivered_at: datetime | None = None
    done: tuple[str, ...] = ()  # the handlers that have delivered it (a retry skips them)

    @property
    def event_type(self) -> type[Event] | None:
        """The class of the stored event (None for a name that no event has any more)."""
        return event_type(self.event)

    def is_one_of(self, events: tuple[type[Event], ...]) -> bool:
        """Whether the stored event is one of `events` (or a subclass of one): how a handler's subscription
        (`OutboxHandler.events`) is matched."""
        cls = event_type(self.event)
        return cls is not None and issubclass(cls, events)

    @classmethod
    def of(cls, event: Event, message_id: str) -> OutboxMessage:
        return cls(
            id=message_id,
            event=event.name,
            aggregate_id=event.aggregate_id,
            payload=event.payload(),
            occurred_at=event.occurred_at,
            next_attempt_at=event.occurred_at,
        )


@attrs.frozen
class RetryPolicy:
    """Exponential backoff with full jitter, capped, and a maximum number of attempts before dead letter."""

    base_seconds: float = 2.0
    cap_seconds: float = 600.0
    max_attempts: int = 10

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(attempts - 1, 0)))
        return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


@attrs.frozen(kw_only=True)
class OutboxStats:
    pending: int
    dead: int
    delivered: int
    oldest_pending_at: datetime | None
