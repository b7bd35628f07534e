"""Exact money: integer minor units and an ISO 4217 currency code.

Every currency is handled with two decimal places (the API contract of SPEC §4 writes amounts as decimal
strings with two places); see docs/decisions/0002-money.md.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

import attrs

from crm_domain.errors import CurrencyMismatch, ValidationFailed

MINOR_UNITS_PER_MAJOR: Final = 100
_CENT: Final = Decimal("0.01")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_AMOUNT = re.compile(r"[+-]?[0-9]{1,15}(\.[0-9]{1,2})?")  # ASCII only (SPEC §5), matched in full


def round_half_up(value: Decimal) -> Decimal:
    """Round to the minor unit, half away from zero (SPEC §2.1)."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def check_currency(code: str) -> str:
    if not isinstance(code, str) or not _CURRENCY.fullmatch(code):
        raise ValidationFailed(f"currency must be an ISO 4217 code such as INR, got {code!r}", field="currency")
    return code


@attrs.frozen(order=False)
class Money:
    """An amount in minor units (paise for INR) with its currency.

    Arithmetic and ordering between different currencies raise `CurrencyMismatch`; equality never raises.
    """

    minor: int
    currency: str = "INR"

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        """Money from a decimal amount in major units; more than two places is a validation error."""
        check_currency(currency)
        if isinstance(amount, bool | float):
            raise ValidationFailed(f"amount {amount!r} must be a decimal string, an int or a Decimal", field="amount")
        if isinstance(amount, str):
            if not _AMOUNT.fullmatch(amount):
                raise ValidationFailed(
                    f"amount must be a decimal string (digits 0-9, one optional point and sign) with at most two "
                    f"places, got {amount!r}",
                    field="amount",
                )
            amount = Decimal(amount)
        try:
            value = Decimal(amount)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValidationFailed(f"amount {amount!r} is not a number", field="amount") from exc
        if not value.is_finite():
            raise ValidationFailed(f"amount {amount!r} is not a finite number", field="amount")
        scaled = value * MINOR_UNITS_PER_MAJOR
        if scaled != scaled.to_integral_value():
            raise ValidationFailed(f"amount {amount} has more than two decimal places", field="amount")
        return cls(int(scaled), currency)

    @classmethod
    def rounded(cls, amount: Decimal, currency: str) -> Money:
        """Money from any exact decimal, rounded half-up to the minor unit."""
        return cls(int(round_half_up(amount) * MINOR_UNITS_PER_MAJOR), currency)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-2)

    def __str__(self) -> str:
        return f"{self.decimal_string()} {self.currency}"

    def decimal_string(self) -> str:
        """The amount as a decimal string with two places, e.g. ``"1234.50"``."""
        sign = "-" if self.minor < 0 else ""
        whole, cents = divmod(abs(self.minor), MINOR_UNITS_PER_MAJOR)
        return f"{sign}{whole}.{cents:02d}"

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    def is_negative(self) -> bool:
        return self.minor < 0


def total(amounts: list[Money], currency: str) -> Money:
    """Sum of amounts that must all be in `currency`."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
