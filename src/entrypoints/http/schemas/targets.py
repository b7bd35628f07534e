"""Target and performance shapes (SPEC §2.6, §4): money as decimal strings, achievement % with two places."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from crm_domain.performance import PerformanceRow, Target
from entrypoints.http.schemas.common import Currency, CurrencyOut, DecimalOut, Id, In, MoneyOut, MoneyStr, Out

PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
Period = Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]


class TargetIn(In):
    user_id: Id
    period: Period = Field(description="Calendar month YYYY-MM in the company time zone.")
    amount: MoneyStr
    currency: Currency | None = Field(default=None, description="Defaults to the company currency (the only one).")


class TargetOut(Out):
    user_id: str
    period: str
    amount: MoneyOut
    currency: CurrencyOut
    set_by: str
    updated_at: datetime

    @classmethod
    def of(cls, target: Target) -> TargetOut:
        return cls(
            user_id=target.user_id,
            period=target.period,
            amount=target.amount.decimal_string(),
            currency=target.amount.currency,
            set_by=target.set_by,
            updated_at=target.updated_at,
        )


class PerformanceOut(Out):
    user_id: str
    name: str
    period: str
    target: MoneyOut | None = Field(description="null where no target is set.")
    achieved: MoneyOut
    achievement_pct: DecimalOut | None = Field(
        description="achieved / target × 100, two places; null without a target."
    )
    orders: int
    currency: CurrencyOut
    team_size: int = Field(description="Users rolled up under this one (0 for a rep).")
    rank: int | None = Field(
        default=None, description="On the leaderboard: 1 for the first; ties share a rank (1, 2, 2, 4)."
    )

    @classmethod
    def of(cls, row: PerformanceRow) -> PerformanceOut:
        return cls(
            user_id=row.user_id,
            name=row.name,
            period=row.period,
            target=row.target.decimal_string() if row.target is not None else None,
            achieved=row.achieved.decimal_string(),
            achievement_pct=f"{row.achievement_pct:.2f}" if row.achievement_pct is not None else None,
            orders=row.orders,
            currency=row.achieved.currency,
            team_size=row.team_size,
            rank=row.rank,
        )
