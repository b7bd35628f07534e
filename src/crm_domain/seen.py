"""The aggregates a unit of work has stored, and how their events reach the outbox (SPEC §2.7).

Repositories of aggregates that record events (orders, credit accounts) note each aggregate they add or save;
at commit the unit of work pulls the events of everything it noted and writes them to the outbox in the same
transaction, in one `add_all` (cosmicpython's `collect_new_events`, into the outbox instead of a message bus).
Use cases never publish their aggregates' events by hand, so none is forgotten. The few events that no aggregate
records (a user changed, a credit-limit request made or decided) are handed to the unit of work
(`UnitOfWork.publish`) and go out with the others, in the order they were handed over. Work that is rolled back
(or a step of a batch that fails) forgets what it noted: no event of it is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from crm_domain.events import Event
from crm_domain.orders import Order
from crm_domain.outbox import OutboxMessage
from crm_domain.ports import IdGenerator, OutboxRepository, SalesLedger
from crm_domain.sales import SalesMove, SalesState


class RecordsEvents(Protocol):
    """An aggregate that records what happened to it until they are pulled."""

    def pull_events(self) -> list[Event]: ...


class _Published:
    """Events handed over by a use case, held like an aggregate's until the commit."""

    __slots__ = ("_events",)

    def __init__(self, events: list[Event]) -> None:
        self._events = events

    def pull_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events


class SeenAggregates:
    """The aggregates noted by one unit of work, each once, in the order first noted."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[int, RecordsEvents] = {}

    def note(self, aggregate: RecordsEvents) -> None:
        """Remember `aggregate` (added or saved): its events go to the outbox at commit."""
        self._seen.setdefault(id(aggregate), aggregate)

    def publish(self, events: list[Event]) -> None:
        """Events no aggregate records: written at commit after those of the aggregates noted so far."""
        if events:
            self.note(_Published(list(events)))

    def forget(self) -> None:
        """Drop what was noted (rollback): none of its events is written."""
        self._seen = {}

    def write_to(self, outbox: OutboxRepository, ids: IdGenerator, sales: SalesLedger | None = None) -> None:
        """Pull the events of every aggregate noted, and add them to `outbox` in one call (none when there are
        none); with `sales`, hand it the orders that moved (their sales buckets change in the same commit); then
        forget the aggregates. The caller commits."""
        seen = self._seen
        if not seen:
            return
        self._seen = {}
        if sales is not None:
            moves = _sales_moves(seen.values())
            if moves:
                sales.record_moves(moves)
        new_id = ids.new_id
        messages = [
            OutboxMessage.of(event, new_id()) for aggregate in seen.values() for event in aggregate.pull_events()
        ]
        if messages:
            outbox.add_all(messages)


def _sales_moves(aggregates: Iterable[RecordsEvents]) -> list[SalesMove]:
    moves: list[SalesMove] = []
    for aggregate in aggregates:
        if isinstance(aggregate, Order):
            before = aggregate.pull_sales_before()
            if before is not None:
                status, at, rep_id = before
                moves.append(SalesMove(aggregate, SalesState(status=status, at=at, rep_id=rep_id)))
    return moves
