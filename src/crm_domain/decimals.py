"""Decimal numbers as people and programs write them to the CRM (SPEC §5 "Added after review").

A decimal string is ASCII digits with one optional point and an optional sign — no exponent, no `_`, no other
scripts' digits, no spaces — which is narrower than Python's `Decimal()` (it takes `"1_000"`, `"١٢"`, `"1e3"` and
`" 12"`). Accepted values are kept in canonical form: no exponent, no trailing fractional zeros, no negative zero.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from crm_domain.errors import ValidationFailed

#: At most 20 digits on either side of the point: more than any amount, quantity or rate can use.
_PLAIN: Final = re.compile(r"[+-]?[0-9]{1,20}(?:\.[0-9]{1,20})?")


def is_plain_decimal(text: str) -> bool:
    """True when `text` is written with ASCII digits, one optional point and an optional sign only."""
    return _PLAIN.fullmatch(text) is not None


def decimal_of(value: Decimal | int | str, field: str) -> Decimal:
    """The finite `Decimal` of a decimal string, an int or a Decimal; `ValidationFailed` for anything else."""
    if isinstance(value, str):
        if not is_plain_decimal(value):
            raise ValidationFailed(
                f"{field} must be written with digits 0-9, one optional point and sign, got {value!r}", field=field
            )
        return Decimal(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValidationFailed(f"{field} must be a decimal string, got {value!r}", field=field)
    result = Decimal(value)
    if not result.is_finite():
        raise ValidationFailed(f"{field} must be a finite number, got {value!r}", field=field)
    return result


def canonical(value: Decimal) -> Decimal:
    """`value` without trailing fractional zeros or a negative zero, printed without an exponent: `1.500` → `1.5`,
    `1E+3` → `1000`, `-0` → `0`."""
    if value.is_zero():
        return Decimal(0)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
