"""The server-drawn bar charts: bars scale to the largest value, sit on the base line, and a missing value draws
no bar."""

from __future__ import annotations

from decimal import Decimal

from entrypoints.web.charts import BASE, TOP, Group, grouped_bars


def test_bars_scale_to_the_largest_value_and_stand_on_the_base() -> None:
    chart = grouped_bars(
        "c",
        "Target and achieved",
        [
            Group("Nov", {"target": Decimal(200), "achieved": Decimal(100)}),
            Group("Dec", {"target": None, "achieved": Decimal(400)}),
        ],
        ["target", "achieved"],
    )
    assert [(b.label, b.text) for b in chart.bars] == [
        ("Nov target", "₹200.00"),
        ("Nov achieved", "₹100.00"),
        ("Dec achieved", "₹400.00"),
    ]
    heights = {b.label: b.h for b in chart.bars}
    assert heights["Dec achieved"] == BASE - TOP
    assert heights["Nov target"] == (BASE - TOP) / 2
    assert all(b.y + b.h == BASE for b in chart.bars)
    assert [t.text for t in chart.labels] == ["Nov", "Dec"]


def test_nothing_to_draw_and_negative_values() -> None:
    empty = grouped_bars("e", "Empty", [], ["achieved"])
    assert empty.bars == () and empty.labels == ()
    negative = grouped_bars("n", "Below zero", [Group("Jan", {"achieved": Decimal(-5)})], ["achieved"])
    assert negative.bars[0].h == 0 and negative.bars[0].text == "−₹5.00"
