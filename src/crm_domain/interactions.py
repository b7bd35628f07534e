"""The call log (SPEC §2.8): one entry per call between the call center (or a rep) and a dealer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final, TypeVar

import attrs

from crm_domain.errors import ValidationFailed
from crm_domain.text import check_text

E = TypeVar("E", bound=StrEnum)

#: The longest note kept with a call (a few paragraphs; a transcript belongs elsewhere).
MAX_NOTE: Final = 2000


class Direction(StrEnum):
    IN = "in"  # the dealer called us
    OUT = "out"  # we called the dealer


class CallOutcome(StrEnum):
    ORDER_PLACED = "order_placed"
    CALLBACK = "callback"
    COMPLAINT = "complaint"
    ENQUIRY = "enquiry"
    NO_ANSWER = "no_answer"


def _one_of(kind: type[E], field: str, value: object) -> E:
    if isinstance(value, str) and value in kind._value2member_map_:
        return kind(value)
    allowed = ", ".join(v.value for v in kind)
    raise ValidationFailed(f"{field} must be one of {allowed}, got {value!r}", field=field)


def _direction(value: object) -> Direction:
    return _one_of(Direction, "direction", value)


def _outcome(value: object) -> CallOutcome:
    return _one_of(CallOutcome, "outcome", value)


def check_note(note: str) -> str:
    """The note stripped of surrounding blanks; `ValidationFailed` when too long or holding control characters."""
    if not isinstance(note, str):
        raise ValidationFailed("note must be text", field="note")
    check_text(note, "note", multiline=True)
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"note must be at most {MAX_NOTE} characters", field="note")
    return note


@attrs.frozen(kw_only=True)
class Interaction:
    """One call: with which customer, by which user (`agent_id`), when, which way, how it ended, a note, and the
    order it produced when it produced one."""

    id: str
    customer_id: str
    agent_id: str
    at: datetime
    direction: Direction = attrs.field(converter=_direction)
    outcome: CallOutcome = attrs.field(converter=_outcome)
    note: str = attrs.field(default="", converter=check_note)
    order_id: str | None = None
