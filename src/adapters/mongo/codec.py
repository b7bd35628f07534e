"""Domain objects to MongoDB documents and back, driven by the attrs fields and type hints of each class, so
that one mapping covers users, customers, orders, credit accounts and the records.

Money is `{"minor": int, "currency": str}` (integer minor units); Decimals are strings, so `Decimal("2.500")`
comes back as written; datetimes are integer microseconds since the Unix epoch, UTC (exact, and they sort:
BSON dates keep milliseconds only, which would break microsecond-wide windows and round trips); dates are ISO
strings; enums are stored by value; sets as sorted lists. Mapping keys are escaped because BSON field names
may not contain `.` or start with `$`. An order's pending `events` and what part of a credit account was read
(`loaded`) are never stored.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import attrs

from adapters.epoch_micros import instant, micros
from crm_domain.money import Money

T = TypeVar("T")

#: Fields that are not state: events an aggregate collected and the caller pulls before saving, and which part
#: of an aggregate was read (a credit account's `loaded`).
_TRANSIENT = frozenset({"events", "loaded", "_sales_before"})


def escape_key(key: str) -> str:
    return key.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def unescape_key(key: str) -> str:
    return key.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


# --- encoding --------------------------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A BSON-ready form of a domain value (attrs instance, Money, Decimal, datetime, enum, collections)."""
    if isinstance(value, Enum):  # before str: a StrEnum is a str too
        return value.value
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, Money):
        return {"minor": value.minor, "currency": value.currency}
    if isinstance(value, datetime):
        return micros(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if attrs.has(type(value)):
        return {f.name: encode(getattr(value, f.name)) for f in attrs.fields(type(value)) if f.name not in _TRANSIENT}
    if isinstance(value, Mapping):
        return {escape_key(str(k)): encode(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(encode(v) for v in value)
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    raise TypeError(f"{type(value).__name__} cannot be stored in MongoDB")


# --- decoding --------------------------------------------------------------------------------------------------


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type[T], doc: Mapping[str, Any]) -> T:
    """The `cls` instance that `encode` turned into `doc` (extra keys such as `_id` are ignored)."""
    target: Any = cls
    hints = _hints(target)
    kwargs = {
        f.name: _decode_value(hints[f.name], doc[f.name])
        for f in attrs.fields(target)
        if f.name not in _TRANSIENT and f.name in doc
    }
    return cls(**kwargs)


def _decode_value(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode_value(inner, value)
    if hint is Any:
        return value
    if origin is None:
        return _decode_scalar(hint, value)
    if origin is tuple:
        return tuple(_decode_value(args[0], v) for v in value)
    if origin is list:
        return [_decode_value(args[0], v) for v in value]
    if origin in (frozenset, set):
        return origin(_decode_value(args[0], v) for v in value)
    if origin is dict:
        return {unescape_key(k): _decode_value(args[1], v) for k, v in value.items()}
    raise TypeError(f"cannot decode {hint!r}")


def _decode_scalar(hint: Any, value: Any) -> Any:
    if hint is datetime:
        return instant(value)
    if hint is date:
        return date.fromisoformat(value)
    if hint is Decimal:
        return Decimal(value)
    if hint is Money:
        return Money(int(value["minor"]), str(value["currency"]))
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if isinstance(hint, type) and attrs.has(hint):
        return decode(hint, value)
    return value
