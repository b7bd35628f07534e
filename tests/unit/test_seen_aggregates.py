"""The events a unit of work writes at commit (crm_domain.seen): each noted aggregate's events once, aggregates
in the order first noted, published events where they were handed over, all in one `add_all`."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from adapters.system import SequentialIds
from crm_domain.events import Event, UserChanged
from crm_domain.outbox import OutboxMessage
from crm_domain.seen import SeenAggregates

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


class _Aggregate:
    def __init__(self, name: str, count: int) -> None:
        self.events: list[Event] = [_event(f"{name}.{n}") for n in range(count)]

    def pull_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events


class _Outbox:
    def __init__(self) -> None:
        self.calls: list[list[OutboxMessage]] = []

    def add_all(self, messages: list[OutboxMessage]) -> None:
        self.calls.append(messages)


def _event(label: str) -> Event:
    return UserChanged(occurred_at=T0, user_id=label, active=True, changed_by="u")


def _labels(outbox: _Outbox) -> list[str]:
    return [m.payload["user_id"] for call in outbox.calls for m in call]


#: A unit of work's notes: which of four aggregates is stored (again), or a publish of one event.
steps = st.lists(st.one_of(st.integers(0, 3), st.just(-1)), max_size=20)


@given(steps, st.lists(st.integers(0, 3), min_size=4, max_size=4))
def test_each_event_is_written_once_in_the_order_first_noted(notes: list[int], counts: list[int]) -> None:
    aggregates = [_Aggregate(f"a{i}", count) for i, count in enumerate(counts)]
    seen, outbox = SeenAggregates(), _Outbox()
    expected: list[str] = []
    noted: set[int] = set()
    for index, which in enumerate(notes):
        if which < 0:
            seen.publish([_event(f"p{index}")])
            expected.append(f"p{index}")
        else:
            seen.note(aggregates[which])
            if which not in noted:
                noted.add(which)
                expected.extend(f"a{which}.{n}" for n in range(counts[which]))

    seen.write_to(outbox, SequentialIds("m"))  # type: ignore[arg-type]  # only add_all is called

    assert _labels(outbox) == expected
    assert len(outbox.calls) == (1 if expected else 0)  # one add_all, none for nothing
    ids = [m.id for call in outbox.calls for m in call]
    assert len(set(ids)) == len(ids)
    assert all(not aggregates[i].events for i in noted)  # pulled


def test_forget_drops_what_was_noted_and_writing_twice_writes_once() -> None:
    kept, dropped = _Aggregate("kept", 1), _Aggregate("dropped", 2)
    seen, outbox = SeenAggregates(), _Outbox()
    seen.note(dropped)
    seen.publish([_event("published")])
    seen.forget()
    seen.note(kept)

    seen.write_to(outbox, SequentialIds("m"))  # type: ignore[arg-type]
    seen.write_to(outbox, SequentialIds("m"))  # type: ignore[arg-type]

    assert _labels(outbox) == ["kept.0"]
    assert len(dropped.events) == 2  # never pulled
