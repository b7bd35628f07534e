"""Bar charts drawn on the server as SVG (SPEC §12): the geometry here, the markup in macros.html's `bar_chart`.

Readable without script; each bar has a <title> and the macro adds a table of the same figures for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from entrypoints.web.formatting import money

WIDTH = 640
HEIGHT = 240
LEFT = 8
BASE = HEIGHT - 24
TOP = 12


@attrs.frozen
class Bar:
    x: float
    y: float
    w: float
    h: float
    kind: str
    label: str
    text: str


@attrs.frozen
class Tick:
    x: float
    text: str


@attrs.frozen
class BarChart:
    id: str
    title: str
    bars: tuple[Bar, ...]
    labels: tuple[Tick, ...]
    legend: str = ""
    lines: tuple[object, ...] = ()
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = BASE


@attrs.frozen
class Group:
    """One x-axis slot (a month, a rep) with its values by kind, e.g. {"target": …, "achieved": …}."""

    label: str
    values: dict[str, Decimal | None]


def grouped_bars(
    chart_id: str, title: str, groups: Sequence[Group], kinds: Sequence[str], legend: str = ""
) -> BarChart:
    """Side-by-side bars per group, scaled to the largest value; a missing value draws no bar."""
    top_value = max((v for g in groups for v in g.values.values() if v is not None and v > 0), default=Decimal(1))
    slot = (WIDTH - LEFT - 8) / max(len(groups), 1)
    bar_w = slot * 0.8 / max(len(kinds), 1)
    bars, labels = [], []
    for i, group in enumerate(groups):
        x0 = LEFT + i * slot + slot * 0.1
        labels.append(Tick(x=round(x0 + slot * 0.4, 1), text=group.label))
        for k, kind in enumerate(kinds):
            value = group.values.get(kind)
            if value is None:
                continue
            h = float(max(value, Decimal(0)) / top_value) * (BASE - TOP)
            bars.append(
                Bar(
                    x=round(x0 + k * bar_w, 1),
                    y=round(BASE - h, 1),
                    w=round(bar_w - 2, 1),
                    h=round(h, 1),
                    kind=kind,
                    label=f"{group.label} {kind}",
                    text=money(value),
                )
            )
    return BarChart(id=chart_id, title=title, bars=tuple(bars), labels=tuple(labels), legend=legend)
