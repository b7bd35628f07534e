"""How pages show amounts, quantities and moments: Indian grouping and the company time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_domain.money import Money
from entrypoints.web.formatting import LocalTime, grouped, indian_grouping, money, quantity


class TestIndianGrouping:
    @pytest.mark.parametrize(
        ("digits", "shown"),
        [
            ("0", "0"),
            ("999", "999"),
            ("1000", "1,000"),
            ("99999", "99,999"),
            ("100000", "1,00,000"),
            ("1234567", "12,34,567"),
            ("123456789", "12,34,56,789"),
            ("1000000000", "1,00,00,00,000"),
        ],
    )
    def test_last_three_then_pairs(self, digits: str, shown: str) -> None:
        assert indian_grouping(digits) == shown

    @settings(max_examples=200)
    @given(st.integers(min_value=0, max_value=10**15))
    def test_grouping_only_adds_commas_in_the_right_places(self, n: int) -> None:
        shown = indian_grouping(str(n))
        assert shown.replace(",", "") == str(n)
        groups = shown.split(",")
        assert len(groups[-1]) == min(3, len(str(n)))
        assert all(len(g) == 2 for g in groups[1:-1])
        assert 1 <= len(groups[0]) <= (3 if len(groups) == 1 else 2)


class TestMoney:
    def test_rupees_with_paise(self) -> None:
        assert money(Money.of("1234567.89", "INR")) == "₹12,34,567.89"

    def test_negative_and_small(self) -> None:
        assert money(Money.of("-1000", "INR")) == "−₹1,000.00"
        assert money(Money.of("0.5", "INR")) == "₹0.50"

    def test_other_currency_and_none(self) -> None:
        assert money(Money.of("1500", "USD")) == "$1,500.00"
        assert money(None) == ""

    def test_rounds_half_up(self) -> None:
        assert grouped(Decimal("0.005")) == "0.01"
        assert grouped(Decimal("-1234.565")) == "-1,234.57"


def test_quantities_drop_trailing_zeros() -> None:
    assert quantity(Decimal("1500.000")) == "1,500"
    assert quantity(Decimal("2.500")) == "2.5"


def test_moments_in_the_company_time_zone() -> None:
    local = LocalTime(ZoneInfo("Asia/Kolkata"))
    moment = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
    assert local.datetime(moment) == "08 Dec 2026, 01:30"
    assert local.date(moment) == "08 Dec 2026"
