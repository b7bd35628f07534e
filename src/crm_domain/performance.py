"""Targets and performance: achieved figures per rep and month, roll-ups and the leaderboard (SPEC §2.6)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import attrs

from crm_domain.errors import ValidationFailed
from crm_domain.money import Money

_PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def check_period(value: str) -> str:
    if not isinstance(value, str) or not _PERIOD.fullmatch(value):
        raise ValidationFailed(f"period must be a month as YYYY-MM, got {value!r}", field="period")
    return value


def period_of(moment: datetime, tz: ZoneInfo) -> str:
    """The calendar month of `moment` in the company time zone."""
    return moment.astimezone(tz).strftime("%Y-%m")


@attrs.define(kw_only=True)
class Target:
    user_id: str
    period: str = attrs.field(converter=check_period)
    amount: Money
    set_by: str
    updated_at: datetime

    def __attrs_post_init__(self) -> None:
        if self.amount.is_negative():
            raise ValidationFailed("a target cannot be negative", field="amount")


@attrs.frozen(kw_only=True)
class Achieved:
    """Running total of one rep's counted orders in one month and currency."""

    user_id: str
    period: str
    currency: str
    amount: int  # minor units
    orders: int


@attrs.frozen(kw_only=True)
class PerformanceRow:
    user_id: str
    name: str
    period: str
    target: Money | None
    achieved: Money
    achievement_pct: Decimal | None
    orders: int
    team_size: int = 0  # reps rolled up under this user (0 for a rep)


def achievement_pct(achieved: Money, target: Money | None) -> Decimal | None:
    """achieved / target × 100, two places; None where there is no (or a zero) target."""
    if target is None or target.minor == 0:
        return None
    pct = Decimal(achieved.minor) * 100 / Decimal(target.minor)
    return pct.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rank(rows: list[PerformanceRow]) -> list[PerformanceRow]:
    """Leaderboard order: achievement % (no target last), then achieved value, then name for stability."""
    return sorted(
        rows,
        key=lambda r: (
            r.achievement_pct is None,
            -(r.achievement_pct or Decimal(0)),
            -r.achieved.minor,
            r.name,
            r.user_id,
        ),
    )
