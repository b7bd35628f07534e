"""Reports as SVG bar charts drawn on the server (SPEC §2.8, §12): plain string building, every text escaped, a
viewBox so the page scales it, `<title>` and `<desc>` (and `role="img"` with `aria-labelledby`) for screen
readers. Readable without script; the web pages and the e-mails embed them as they are."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from html import escape

from entrypoints.report_tables import Table

WIDTH = 640
BAR = 22
GAP = 6
LABEL_WIDTH = 200
VALUE_WIDTH = 110
TOP = 44
MAX_BARS = 40


def _number(cell: object) -> Decimal:
    if isinstance(cell, Decimal):
        return cell
    if isinstance(cell, int) and not isinstance(cell, bool):
        return Decimal(cell)
    return Decimal(0)


def _short(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(value: Decimal) -> str:
    return f"{value:f}"


def bar_chart(table: Table, *, chart_id: str = "report", number: Callable[[Decimal], str] = _plain) -> str:
    """One horizontal bar per row (the first `MAX_BARS`), labelled by the table's label column and sized by its
    value column; negative values draw to the left of the axis. `number` writes the values (a page passes Indian
    grouping; files and e-mails keep the plain decimal)."""
    label_at, value_at = table.chart_label, table.chart_value
    name = table.columns[value_at] if table.columns else ""
    rows = [
        (str(row[label_at] or ""), _number(row[value_at])) for _, row in zip(range(MAX_BARS), table.rows, strict=False)
    ]
    height = TOP + max(len(rows), 1) * (BAR + GAP) + 20
    biggest = max((abs(v) for _, v in rows), default=Decimal(0)) or Decimal(1)
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    has_negative = any(v < 0 for _, v in rows)
    zero_x = LABEL_WIDTH + (plot // 2 if has_negative else 0)
    scale = Decimal(plot // 2 if has_negative else plot) / biggest
    title = escape(table.title)
    desc = escape(
        f"Bar chart of {name} for {len(rows)} rows"
        + (": " + "; ".join(f"{label} {number(value)}" for label, value in rows[:12]) if rows else ": no data")
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="sans-serif" font-size="12">',
        f'<title id="{chart_id}-title">{title}</title>',
        f'<desc id="{chart_id}-desc">{desc}</desc>',
        f'<text x="8" y="20" font-size="14" font-weight="bold">{title}</text>',
        f'<text x="{WIDTH - 8}" y="36" text-anchor="end" fill="#555">{escape(name)}</text>',
        f'<line x1="{zero_x}" y1="{TOP - 4}" x2="{zero_x}" y2="{height - 16}" stroke="#999"/>',
    ]
    if not rows:
        parts.append(f'<text x="{LABEL_WIDTH}" y="{TOP + 16}" fill="#555">No data</text>')
    for index, (label, value) in enumerate(rows):
        y = TOP + index * (BAR + GAP)
        length = int(abs(value) * scale)
        x = zero_x if value >= 0 else zero_x - length
        colour = "#2b6cb0" if value >= 0 else "#c53030"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR - 7}" text-anchor="end">{escape(_short(label))}</text>'
            f'<rect x="{x}" y="{y}" width="{max(length, 1)}" height="{BAR}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(number(value))}</title></rect>"
            f'<text x="{WIDTH - 8}" y="{y + BAR - 7}" text-anchor="end">{escape(number(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
