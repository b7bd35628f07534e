"""Events by type (SPEC §2.7): one registry of event classes by the name the outbox stores, handlers that
subscribe by class, and no event name typed anywhere but crm_domain/events.py."""

from __future__ import annotations

import ast
import inspect
import random
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from adapters.memory import MemoryStore
from adapters.phones import PhonenumbersNormaliser
from adapters.system import FixedClock, SequentialIds
from crm_domain import events
from crm_domain.events import (
    EVENT_TYPES,
    CreditLimitChanged,
    Event,
    OrderCancelled,
    OrderEvent,
    OrderSubmitted,
    _registry,
    event_type,
)
from crm_domain.money import Money
from crm_domain.outbox import OutboxMessage, OutboxStatus
from crm_domain.services.context import ServiceContext
from crm_domain.services.delivery import OutboxDispatcher, Outcome
from tests.unit.erp_fakes import ScriptedHandler

SRC = Path(__file__).resolve().parents[2] / "src"
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def concrete_event_classes() -> list[type[Event]]:
    """The classes of events.py that name an event of their own, found without the registry."""
    return [
        cls
        for _, cls in inspect.getmembers(events, inspect.isclass)
        if issubclass(cls, Event) and cls.__module__ == events.__name__ and "name" in vars(cls) and cls is not Event
    ]


_SAMPLES: dict[str, Any] = {
    "datetime": T0,
    "date": T0.date(),
    "Money": Money.of("12.50", "INR"),
    "str": "x-1",
    "str | None": "x-1",
    "bool": True,
    "int": 3,
}


def sample(cls: type[Event]) -> Event:
    """An instance of `cls` with a plain value for each field (by its annotation)."""
    return cls(**{f.name: _SAMPLES[str(f.type)] for f in attrs.fields(cls)})


class TestRegistry:
    def test_every_concrete_event_class_is_registered_under_its_own_unique_name(self) -> None:
        classes = concrete_event_classes()
        assert len(classes) >= 14
        assert len({cls.name for cls in classes}) == len(classes)
        assert dict(EVENT_TYPES) == {cls.name: cls for cls in classes}

    @pytest.mark.parametrize("cls", concrete_event_classes(), ids=lambda cls: cls.__name__)
    def test_name_and_class_round_trip_through_a_stored_message(self, cls: type[Event]) -> None:
        event = sample(cls)
        message = OutboxMessage.of(event, "m-1")

        assert message.event == cls.name
        assert EVENT_TYPES[message.event] is cls
        assert message.event_type is cls
        assert message.is_one_of((cls,))

    def test_a_shared_base_is_not_an_event_of_its_own(self) -> None:
        assert OrderEvent not in EVENT_TYPES.values()
        assert Event not in EVENT_TYPES.values()

    def test_a_name_no_event_has_is_of_no_type(self) -> None:
        assert event_type("order.teleported") is None
        message = OutboxMessage.of(sample(OrderSubmitted), "m-1")
        message.event = "order.teleported"
        assert message.event_type is None
        assert not message.is_one_of((Event,))

    def test_two_classes_with_one_name_are_refused(self) -> None:
        @attrs.frozen(kw_only=True)
        class Again(Event):
            name = OrderSubmitted.name

        with pytest.raises(TypeError, match="both name the event"):
            _registry([OrderSubmitted, Again])

    def test_the_registry_cannot_be_changed(self) -> None:
        assert isinstance(EVENT_TYPES, types.MappingProxyType)


def _names_outside_audit(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants of `tree` that are event names, leaving out the arguments of `….audit(…)` calls (audit
    actions are a vocabulary of their own, some spelt like events)."""
    in_audit: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "audit":
            in_audit.update(id(n) for n in ast.walk(node))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in EVENT_TYPES and id(node) not in in_audit
    ]


class TestNoNameTypedTwice:
    def test_no_event_name_literal_outside_events_py(self) -> None:
        found = {
            f"{path.relative_to(SRC)}:{line}": name
            for path in sorted(SRC.rglob("*.py"))
            if path != SRC / "crm_domain" / "events.py"
            for line, name in _names_outside_audit(ast.parse(path.read_text(), str(path)))
        }
        assert found == {}

    def test_the_check_sees_a_typed_name(self) -> None:
        tree = ast.parse('KIND = "order.submitted"\nctx.audit(uow, "u", "order.released", "order", "o")\n')
        assert _names_outside_audit(tree) == [(1, "order.submitted")]


class TestRoutingByClass:
    @pytest.fixture
    def ctx(self) -> ServiceContext:
        return ServiceContext(
            uow=MemoryStore(), clock=FixedClock(T0), ids=SequentialIds("m"), mobiles=PhonenumbersNormaliser()
        )

    def put(self, ctx: ServiceContext, event: Event) -> str:
        message = OutboxMessage.of(event, ctx.ids.new_id())
        ctx.write(lambda uow: uow.outbox.add(message))
        return message.id

    def test_each_message_goes_to_the_handlers_subscribed_to_its_class_or_a_base(self, ctx: ServiceContext) -> None:
        submits = ScriptedHandler("submits", events=(OrderSubmitted,))
        orders = ScriptedHandler("orders", events=(OrderEvent,))
        submitted = self.put(ctx, sample(OrderSubmitted))
        cancelled = self.put(ctx, sample(OrderCancelled))
        changed = self.put(ctx, sample(CreditLimitChanged))

        report = OutboxDispatcher(ctx, [submits, orders], rng=random.Random(1)).run_once()

        assert submits.delivered == [submitted]
        assert sorted(orders.delivered) == sorted([submitted, cancelled])
        assert report.count(Outcome.DELIVERED) == 3
        stored = ctx.read(lambda uow: uow.outbox.get(changed))
        assert stored is not None and stored.status is OutboxStatus.DELIVERED and stored.done == ()

    def test_a_stored_name_no_event_has_goes_to_nobody(self, ctx: ServiceContext) -> None:
        everything = ScriptedHandler("all", events=(Event,))
        message = OutboxMessage.of(sample(OrderSubmitted), ctx.ids.new_id())
        message.event = "order.teleported"
        ctx.write(lambda uow: uow.outbox.add(message))

        OutboxDispatcher(ctx, [everything], rng=random.Random(1)).run_once()

        assert everything.received == []
