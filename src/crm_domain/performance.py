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
    rank: int | None = None  # on a leaderboard: 1 for the first; ties share a rank ("1, 2, 2, 4")


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


def _standing(row: PerformanceRow) -> tuple[bool, Decimal, int]:
    return (row.achievement_pct is None, -(row.achievement_pct or Decimal(0)), -row.achieved.minor)


def ranked(rows: list[PerformanceRow]) -> list[PerformanceRow]:
    """The leaderboard (SPEC §2.6): ordered as `rank` orders, numbered from 1; rows equal in achievement % and
    achieved value share a rank and the next rank skips accordingly (competition ranking: 1, 2, 2, 4)."""
    out: list[PerformanceRow] = []
    for index, row in enumerate(rank(rows)):
        tied = out and _standing(out[-1]) == _standing(row)
        out.append(attrs.evolve(row, rank=out[-1].rank if tied else index + 1))
    return out


def periods_between(start: str, end: str) -> list[str]:
    """Every month from `start` to `end` (YYYY-MM, inclusive); `ValidationFailed` when `end` is before `start`
    or the range is longer than ten years."""
    check_period(start)
    check_period(end)
    year, month = int(start[:4]), int(start[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if len(out) > 120:
            raise ValidationFailed("a period range covers at most 120 months", field="to")
    if not out:
        raise ValidationFailed("the last period is before the first", field="to")
    return out


def last_periods(end: str, count: int) -> list[str]:
    """The `count` months up to and including `end`, oldest first."""
    check_period(end)
    if not 1 <= count <= 120:
        raise ValidationFailed("periods must be 1 to 120", field="periods")
    year, month = int(end[:4]), int(end[5:])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]
