"""Shapes shared by every resource."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Final, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from crm_domain.decimals import is_plain_decimal
from crm_domain.text import has_control

T = TypeVar("T")

_JSON_NAMES = {bool: "true or false", int: "a whole number", str: "a string"}


def _exactly(*kinds: type) -> BeforeValidator:
    """Refuse coercion whatever the validation mode: Litestar validates bodies with `strict=False`, which
    would otherwise turn `"false"` into False or `"7"` into 7."""

    def check(value: Any) -> Any:
        if value is None or (isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)):
            return value
        raise ValueError(f"must be {' or '.join(_JSON_NAMES[k] for k in kinds)}")

    return BeforeValidator(check)


def _plain(value: Any) -> Any:
    """A decimal string as SPEC §5 allows it (ASCII digits, one optional point and sign; no exponent, `_`, other
    scripts' digits or spaces) or a JSON integer; checked before pydantic strips or parses anything."""
    if isinstance(value, str) and is_plain_decimal(value):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError('must be a decimal string of digits 0-9 with one optional point and sign, e.g. "12.50"')


def _plain_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError('must be a decimal string, e.g. "1234.50"')
    return _plain(value)


#: How the OpenAPI document shows a decimal input: a decimal string or a JSON integer (not a JSON number, which
#: would lose places); only documentation, the validators above decide.
DECIMAL_IN_SCHEMA: Final[dict[str, Any]] = {
    "type": ["string", "integer"],
    "pattern": r"^[+-]?[0-9]{1,20}(\.[0-9]{1,20})?$",
}
#: A decimal as a plain decimal string ("2.5") or a JSON integer; the domain checks range and places.
PlainDecimal = Annotated[
    Decimal,
    BeforeValidator(_plain),
    Field(strict=False, allow_inf_nan=False, json_schema_extra=DECIMAL_IN_SCHEMA),
]
#: A JSON true/false, nothing else.
ExactBool = Annotated[bool, _exactly(bool)]
#: A whole number of days (0 to 3650), as a JSON integer.
Days = Annotated[int, _exactly(int), Field(ge=0, le=3650)]
#: A percentage 0–100 with at most two places, as a decimal string ("2.50") or a JSON integer.
Pct = Annotated[
    Decimal,
    BeforeValidator(_plain),
    Field(ge=0, le=100, decimal_places=2, allow_inf_nan=False, json_schema_extra=DECIMAL_IN_SCHEMA),
]


#: A decimal amount with at most two places, as a string ("1234.50").
MoneyStr = Annotated[
    str, BeforeValidator(_plain_string), StringConstraints(pattern=r"^[0-9]{1,13}(\.[0-9]{1,2})?$", max_length=16)
]
#: A signed decimal amount with at most two places, as a string ("-1234.50").
SignedMoneyStr = Annotated[
    str, BeforeValidator(_plain_string), StringConstraints(pattern=r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$", max_length=17)
]
#: A percentage with at most two places, as a string ("18.00"); the domain checks 0–100.
RateStr = Annotated[str, BeforeValidator(_plain_string), StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

# Output shapes: documentation only (the values come from the domain, already canonical).
#: A money amount with two places, e.g. "1234.50" or "-80.00".
MoneyOut = Annotated[str, Field(json_schema_extra={"pattern": r"^-?[0-9]+\.[0-9]{2}$"})]
#: A decimal in canonical form (a quantity, a rate or a percentage), e.g. "18.00" or "2.5".
DecimalOut = Annotated[str, Field(json_schema_extra={"pattern": r"^-?[0-9]+(\.[0-9]+)?$"})]
#: An ISO 4217 currency code.
CurrencyOut = Annotated[str, Field(json_schema_extra={"pattern": r"^[A-Z]{3}$"})]
#: Doc-only patterns are shared dicts: Litestar mutates a field's `json_schema_extra` when the field has examples,
#: so these aliases carry none (the component examples are in openapi_examples.py).
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


def _one_line(value: Any) -> Any:
    if isinstance(value, str) and has_control(value):
        raise ValueError("must not contain control characters")
    return value


def _lines(value: Any) -> Any:
    if isinstance(value, str) and has_control(value, multiline=True):
        raise ValueError("must not contain control characters (tab and line breaks are fine)")
    return value


#: A note: several lines allowed, no other control characters (SPEC §5).
Text = Annotated[str, BeforeValidator(_lines), StringConstraints(max_length=2000)]
#: A name or a one-line reason: no control characters at all.
ShortText = Annotated[str, BeforeValidator(_one_line), StringConstraints(max_length=200)]


class In(BaseModel):
    """Base of request bodies: strict types, unknown fields are an error (nothing is ignored silently)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=False)


class Page(Out, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null on the last.")


class Items(Out, Generic[T]):
    items: list[T]
