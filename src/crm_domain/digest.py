"""A sales manager's daily digest (SPEC §2.6, §2.8): the team's sales of the month so far against target, and the
orders of the team's dealers waiting on credit hold."""

from __future__ import annotations

from datetime import date

import attrs

from crm_domain.performance import PerformanceRow
from crm_domain.reports import HoldRow

#: The held orders a digest lists (the oldest); it counts them all.
HOLDS_LISTED = 10


@attrs.frozen(kw_only=True)
class Digest:
    manager_id: str
    name: str
    email: str | None
    day: date
    period: str
    team: PerformanceRow  # the manager's own row: everyone under them rolled up
    reps: list[PerformanceRow]  # each rep under them, ranked
    holds: list[HoldRow]  # the oldest HOLDS_LISTED
    holds_waiting: int
