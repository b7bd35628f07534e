"""Domain events: past-tense facts, written to the outbox in the same unit of work as the change (§2.7)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, ClassVar, Final

import attrs

from crm_domain.money import Money


@attrs.frozen(kw_only=True)
class Event:
    name: ClassVar[str] = "event"
    occurred_at: datetime

    @property
    def aggregate_id(self) -> str:
        return str(getattr(self, "order_id", None) or getattr(self, "customer_id", None) or "")

    def payload(self) -> dict[str, Any]:
        """A JSON-ready dict of the event's fields (Money as {amount, currency}, times as ISO strings)."""
        return {name: plain(getattr(self, name)) for name in _field_names(type(self))}


_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}


def _field_names(cls: type[Event]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(field.name for field in attrs.fields(cls))
    return names


_JSON_SCALARS = frozenset({str, int, float, bool})


def plain(value: object) -> Any:
    """`value` as JSON-ready data, the one way domain values are written out: Money as {amount, currency}, dates
    and times as ISO strings, Decimals as strings, enums by value, collections as lists; anything else as it is."""
    if value is None or type(value) in _JSON_SCALARS:
        return value
    if isinstance(value, Money):
        return {"amount": value.decimal_string(), "currency": value.currency}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(v) for v in value]
    return value


@attrs.frozen(kw_only=True)
class OrderEvent(Event):
    order_id: str
    order_number: str
    customer_id: str
    actor_id: str


@attrs.frozen(kw_only=True)
class OrderCreated(OrderEvent):
    name = "order.created"
    total: Money


@attrs.frozen(kw_only=True)
class OrderSubmitted(OrderEvent):
    name = "order.submitted"
    total: Money
    rep_id: str | None


@attrs.frozen(kw_only=True)
class OrderPutOnCreditHold(OrderEvent):
    name = "order.on_credit_hold"
    total: Money
    reason: str
    shortfall: Money


@attrs.frozen(kw_only=True)
class OrderReleased(OrderEvent):
    name = "order.released"
    total: Money
    by_system: bool
    shortfall: Money
    note: str


@attrs.frozen(kw_only=True)
class OrderRejected(OrderEvent):
    name = "order.rejected"
    reason: str


@attrs.frozen(kw_only=True)
class OrderCancelled(OrderEvent):
    name = "order.cancelled"
    previous_status: str
    reason: str
    erp_order_id: str | None


@attrs.frozen(kw_only=True)
class OrderConfirmed(OrderEvent):
    name = "order.confirmed"
    erp_order_id: str


@attrs.frozen(kw_only=True)
class OrderStatusChanged(OrderEvent):
    name = "order.status_changed"
    previous_status: str
    status: str


@attrs.frozen(kw_only=True)
class OrderErpSyncChanged(OrderEvent):
    name = "order.erp_sync_changed"
    erp_sync: str
    error: str | None


@attrs.frozen(kw_only=True)
class CreditLimitChanged(Event):
    name = "credit_limit.changed"
    customer_id: str
    kind: str
    old: str | None
    new: str | None
    changed_by: str
    reason: str


@attrs.frozen(kw_only=True)
class CreditLimitRequested(Event):
    name = "credit_limit.requested"
    request_id: str
    customer_id: str
    new_limit: Money  # the amount asked for; the current base limit for a kind without an amount
    requested_by: str
    kind: str = "limit"  # limit | temporary_limit | tolerance | unblock | policy


@attrs.frozen(kw_only=True)
class CreditLimitRequestDecided(Event):
    name = "credit_limit.request_decided"
    request_id: str
    customer_id: str
    status: str
    decided_by: str


@attrs.frozen(kw_only=True)
class CustomerBalanceUpdated(Event):
    name = "customer.balance_updated"
    customer_id: str
    receivables: Money
    overdue_days: int


@attrs.frozen(kw_only=True)
class UserChanged(Event):
    name = "user.changed"
    user_id: str
    active: bool
    changed_by: str


@attrs.frozen(kw_only=True)
class DigestDue(Event):
    """A manager's daily digest (SPEC §2.6, §2.8) is due for `day` (company time zone); the `digest` handler
    composes and sends it. Written once per manager and day (an idempotency record guards it)."""

    name = "report.digest_due"
    manager_id: str
    day: date

    @property
    def aggregate_id(self) -> str:
        return self.manager_id


# --- the registry: event name <-> class ------------------------------------------------------------------------


def _registry(candidates: Iterable[object]) -> dict[str, type[Event]]:
    """The event classes among `candidates` that name an event of their own (`OrderEvent` only shares fields),
    by name; two classes with one name are a programming error."""
    registry: dict[str, type[Event]] = {}
    for cls in candidates:
        if not (isinstance(cls, type) and issubclass(cls, Event) and cls is not Event and "name" in cls.__dict__):
            continue
        if cls.name in registry:
            raise TypeError(f"{cls.__name__} and {registry[cls.name].__name__} both name the event {cls.name!r}")
        registry[cls.name] = cls
    return registry


#: Every event class of this module by its name: the one place an outbox message's stored name is read back.
EVENT_TYPES: Final[Mapping[str, type[Event]]] = MappingProxyType(_registry(list(globals().values())))


def event_type(name: str) -> type[Event] | None:
    """The event class stored under `name` in the outbox, or None for a name no event has (any more)."""
    return EVENT_TYPES.get(name)
