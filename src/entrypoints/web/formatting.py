"""How the pages show amounts and moments: Indian digit grouping (₹12,34,567.89) and the company time zone.

Template filters only: what an amount or a date *is* stays in `crm_domain`; this is how it reads.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Final
from zoneinfo import ZoneInfo

from crm_domain.money import Money

SYMBOLS: Final = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}


def indian_grouping(digits: str) -> str:
    """'1234567' → '12,34,567': the last three digits, then pairs (lakh, crore)."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    if head:
        pairs.insert(0, head)
    return ",".join([*pairs, tail])


def grouped(amount: Decimal, places: int = 2) -> str:
    """A decimal amount in Indian grouping with `places` decimals (half up): -1234567.891 → '-12,34,567.89'."""
    quantum = Decimal(1).scaleb(-places)
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    text = indian_grouping(whole)
    return f"{sign}{text}.{fraction}" if places else f"{sign}{text}"


def money(value: Money | Decimal | None, currency: str = "INR") -> str:
    """₹12,34,567.89 (a negative amount as −₹1,000.00); an empty string for no amount."""
    if value is None:
        return ""
    if isinstance(value, Money):
        amount, currency = value.amount, value.currency
    else:
        amount = value
    symbol = SYMBOLS.get(currency, f"{currency} ")
    text = grouped(amount)
    if text.startswith("-"):
        return f"−{symbol}{text[1:]}"
    return f"{symbol}{text}"


def quantity(value: Decimal) -> str:
    """A quantity without trailing zeros, grouped: 1500.000 → '1,500'."""
    exponent = value.normalize().as_tuple().exponent
    places = max(-exponent, 0) if isinstance(exponent, int) else 0
    return grouped(value, places)


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{grouped(value, 1)} %"


class LocalTime:
    """Moments shown in the company time zone (SPEC §2.6): '07 Dec 2026, 14:05' and '07 Dec 2026'."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def datetime(self, moment: dt.datetime | None) -> str:
        if moment is None:
            return ""
        return moment.astimezone(self.tz).strftime("%d %b %Y, %H:%M")

    def date(self, moment: dt.datetime | dt.date | None) -> str:
        if moment is None:
            return ""
        if isinstance(moment, dt.datetime):
            moment = moment.astimezone(self.tz).date()
        return moment.strftime("%d %b %Y")

    def iso(self, moment: dt.datetime | None) -> str:
        return "" if moment is None else moment.astimezone(self.tz).isoformat(timespec="minutes")
