"""The managers' daily digest as an e-mail: Jinja2 templates for the HTML (autoescaped) and the text part."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from crm_domain.digest import Digest
from crm_domain.money import Money
from crm_domain.services.notifications import format_money

TEMPLATES = Path(__file__).with_name("templates")


def indian(money: Money | None) -> str:
    """`INR 12,34,567.89` (Indian grouping), as the other e-mails write amounts; a dash for none."""
    return "—" if money is None else format_money(money)


class JinjaDigestRenderer:
    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["money"] = indian
        self._env.filters["local"] = lambda at: at.astimezone(self._tz).strftime("%d %b %Y %H:%M")

    def render(self, digest: Digest) -> tuple[str, str, str]:
        subject = f"Daily digest {digest.day.isoformat()}: team sales {indian(digest.team.achieved)}"
        if digest.holds_waiting:
            subject += f", {digest.holds_waiting} on credit hold"
        context = {"d": digest}
        text = self._env.get_template("digest.txt").render(context)
        html = self._env.get_template("digest.html").render(context)
        return subject, text, html
