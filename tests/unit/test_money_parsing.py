"""SPEC §2.1: amounts are decimal strings with at most two places, currencies ISO 4217 codes; ordering is
strict. Written to kill the survivors of `scripts/mutation.py money`."""

from __future__ import annotations

import pytest

from crm_domain.errors import ValidationFailed
from crm_domain.money import Money, check_currency


class TestAmountText:
    @pytest.mark.parametrize("text", ["1.230", "0.000", "12.5000", "1.001"])
    def test_a_third_decimal_place_is_refused_even_when_it_is_zero(self, text: str) -> None:
        with pytest.raises(ValidationFailed) as raised:
            Money.of(text, "INR")
        assert raised.value.field == "amount"

    @pytest.mark.parametrize(("text", "minor"), [("1.23", 123), ("1.2", 120), ("7", 700), ("-0.05", -5)])
    def test_up_to_two_places_are_read_exactly(self, text: str, minor: int) -> None:
        assert Money.of(text, "INR") == Money(minor, "INR")

    @pytest.mark.parametrize("text", [" 12.50 ", "12.50\n", "1_250", "١٢.٥٠", "1.25e1"])
    def test_blanks_underscores_exponents_and_other_digits_are_refused(self, text: str) -> None:
        with pytest.raises(ValidationFailed) as raised:  # SPEC §5, "Added after review"
            Money.of(text, "INR")
        assert raised.value.field == "amount"


class TestCurrencyCode:
    def test_a_valid_code_is_returned_as_given(self) -> None:
        assert check_currency("INR") == "INR"

    @pytest.mark.parametrize("code", ["inr", "RUPEE", "IN", ""])
    def test_anything_else_is_refused(self, code: str) -> None:
        with pytest.raises(ValidationFailed):
            check_currency(code)


class TestOrdering:
    def test_greater_than_is_strict(self) -> None:
        five, six = Money(500, "INR"), Money(600, "INR")
        assert six > five
        assert not five > five
        assert not five > six
        assert five >= five
        assert not five < five
        assert five <= five
