"""Text people type into the CRM: names, notes, reasons (SPEC §5 "Added after review").

Control characters — C0, DEL and C1 — are refused: they corrupt terminals, logs, CSV exports and e-mails that
show the text later. A note may span lines, so tab, line feed and carriage return are allowed there; a name or a
one-line reason takes none of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from crm_domain.errors import ValidationFailed

_ANY_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control(text: str, *, multiline: bool = False) -> bool:
    """True when `text` holds a control character (tab and line breaks are fine when `multiline`)."""
    return (_CONTROL_BUT_LINES if multiline else _ANY_CONTROL).search(text) is not None


def check_text(text: str, field: str, *, multiline: bool = False) -> str:
    """`text` unchanged, or `ValidationFailed` when it holds a control character."""
    if has_control(text, multiline=multiline):
        allowed = " (tab and line breaks are fine)" if multiline else ""
        raise ValidationFailed(f"{field} must not contain control characters{allowed}", field=field)
    return text


def text_validator(*, multiline: bool = False) -> Callable[[Any, Any, Any], None]:
    """An attrs validator applying `check_text` to a str field (other values — None, UNSET — pass)."""

    def validate(_instance: Any, attribute: Any, value: Any) -> None:
        if isinstance(value, str):
            check_text(value, attribute.name, multiline=multiline)

    return validate
