"""SPEC §2.1: exact money in integer minor units, one currency at a time, ROUND_HALF_UP to the paisa."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_domain.errors import CurrencyMismatch, ValidationFailed
from crm_domain.money import Money, round_half_up, total


class TestMoneyOf:
    @pytest.mark.parametrize(
        ("amount", "minor"),
        [
            ("1234.50", 123450),
            ("0.01", 1),
            ("7", 700),
            ("-12.30", -1230),
            ("+42.00", 4200),
            (Decimal("19.99"), 1999),
            (Decimal("5.000"), 500),
            (250, 25000),
        ],
    )
    def test_keeps_integer_minor_units(self, amount: str | Decimal | int, minor: int) -> None:
        money = Money.of(amount, "INR")
        assert money.minor == minor
        assert isinstance(money.minor, int)
        assert money.currency == "INR"

    @pytest.mark.parametrize("amount", ["1.005", "0.001", Decimal("2.345"), Decimal("0.125")])
    def test_rejects_more_than_two_places(self, amount: str | Decimal) -> None:
        with pytest.raises(ValidationFailed) as raised:
            Money.of(amount, "INR")
        assert raised.value.field == "amount"

    @pytest.mark.parametrize(
        "amount",
        [
            "abc",
            "",
            "1,000.00",
            "1e3",
            " 42.00 ",
            "1_000",
            "١٢",
            "NaN",
            "Infinity",
            "--1",
            None,
            [],
            Decimal("NaN"),
            Decimal("Inf"),
        ],
    )
    def test_rejects_what_is_not_a_number(self, amount: object) -> None:
        with pytest.raises(ValidationFailed):
            Money.of(amount, "INR")

    @pytest.mark.parametrize("amount", [0.5, 12.25, 0.1, True])
    def test_rejects_floats_and_booleans(self, amount: object) -> None:
        """Never float (SPEC §2.1): even a float that happens to be exact is refused."""
        with pytest.raises(ValidationFailed):
            Money.of(amount, "INR")

    @pytest.mark.parametrize("currency", ["inr", "RUPEE", "IN", "", "12A"])
    def test_rejects_a_currency_that_is_not_iso_4217(self, currency: str) -> None:
        with pytest.raises(ValidationFailed) as raised:
            Money.of("1.00", currency)
        assert raised.value.field == "currency"


class TestDecimalString:
    @pytest.mark.parametrize(
        ("minor", "text"),
        [
            (123450, "1234.50"),
            (0, "0.00"),
            (1, "0.01"),
            (10, "0.10"),
            (100, "1.00"),
            (-1, "-0.01"),
            (-5, "-0.05"),
            (-123456, "-1234.56"),
            (10**17 + 7, "1000000000000000.07"),
        ],
    )
    def test_two_places_and_a_sign(self, minor: int, text: str) -> None:
        assert Money(minor, "INR").decimal_string() == text

    def test_str_names_the_currency(self) -> None:
        assert str(Money(-250, "USD")) == "-2.50 USD"

    def test_amount_is_an_exact_decimal(self) -> None:
        assert Money(123405, "INR").amount == Decimal("1234.05")


class TestArithmetic:
    def test_adds_and_subtracts_in_minor_units(self) -> None:
        a, b = Money.of("0.10", "INR"), Money.of("0.20", "INR")
        assert a + b == Money.of("0.30", "INR")
        assert a - b == Money.of("-0.10", "INR")
        assert -a == Money(-10, "INR")

    @pytest.mark.parametrize(
        "operation",
        [
            lambda a, b: a + b,
            lambda a, b: a - b,
            lambda a, b: a < b,
            lambda a, b: a <= b,
            lambda a, b: a > b,
            lambda a, b: a >= b,
        ],
    )
    def test_mixing_currencies_raises_currency_mismatch(self, operation) -> None:
        with pytest.raises(CurrencyMismatch) as raised:
            operation(Money.of("1.00", "INR"), Money.of("1.00", "USD"))
        assert isinstance(raised.value, ValidationFailed)
        assert (raised.value.expected, raised.value.got) == ("INR", "USD")

    def test_total_of_another_currency_raises(self) -> None:
        with pytest.raises(CurrencyMismatch):
            total([Money.of("1.00", "INR"), Money.of("1.00", "USD")], "INR")
        assert total([Money(1, "INR"), Money(2, "INR")], "INR") == Money(3, "INR")
        assert total([], "USD") == Money.zero("USD")

    def test_equality_never_raises(self) -> None:
        assert Money.of("1.00", "INR") != Money.of("1.00", "USD")
        assert Money.of("1.00", "INR") == Money(100, "INR")
        assert Money(100, "INR") != 100
        assert Money(100, "INR") != "1.00"
        assert len({Money(100, "INR"), Money(100, "INR"), Money(100, "USD")}) == 2

    def test_ordering_within_one_currency(self) -> None:
        assert Money(1, "INR") < Money(2, "INR") <= Money(2, "INR")
        assert Money(3, "INR") > Money(2, "INR") >= Money(2, "INR")
        assert Money(-1, "INR").is_negative()
        assert not Money.zero("INR").is_negative()

    def test_money_is_immutable(self) -> None:
        money = Money(100, "INR")
        with pytest.raises(AttributeError):
            money.minor = 5


class TestRounding:
    @pytest.mark.parametrize(
        ("value", "rounded"),
        [
            ("0.005", "0.01"),
            ("0.004999", "0.00"),
            ("2.675", "2.68"),
            ("2.665", "2.67"),  # half-up, not banker's rounding (which would give 2.66)
            ("-0.005", "-0.01"),  # half away from zero
            ("-2.665", "-2.67"),
            ("10", "10.00"),
        ],
    )
    def test_round_half_up_to_the_paisa(self, value: str, rounded: str) -> None:
        assert round_half_up(Decimal(value)) == Decimal(rounded)
        assert Money.rounded(Decimal(value), "INR") == Money.of(rounded, "INR")
