"""Shapes shared by every resource."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

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


#: A JSON true/false, nothing else.
ExactBool = Annotated[bool, _exactly(bool)]
#: A whole number of days (0 to 3650), as a JSON integer.
Days = Annotated[int, _exactly(int), Field(ge=0, le=3650)]
#: A percentage 0–100 with at most two places, as a decimal string ("2.50") or a JSON integer.
Pct = Annotated[Decimal, _exactly(str, int), Field(ge=0, le=100, decimal_places=2, allow_inf_nan=False)]


#: A decimal amount with at most two places, as a string ("1234.50").
MoneyStr = Annotated[str, StringConstraints(pattern=r"^\d{1,13}(\.\d{1,2})?$", max_length=16)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Text = Annotated[str, StringConstraints(max_length=2000)]
ShortText = Annotated[str, StringConstraints(max_length=200)]


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
