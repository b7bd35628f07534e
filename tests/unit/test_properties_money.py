"""Property tests (hypothesis) for money and totals: line and order totals against an independent exact
computation, money arithmetic laws, and the decimal-string round trip (SPEC §2.1, §2.4)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.system import FixedClock
from crm_domain.errors import CurrencyMismatch
from crm_domain.money import Money, round_half_up
from crm_domain.orders import LineRequest, OrderLine
from crm_domain.products import Product
from crm_domain.services.customers import NewCustomer
from crm_domain.services.orders import NewOrder
from tests.unit.world import new_crm

FAST = settings(max_examples=400, deadline=None)
SLOW = settings(max_examples=300, deadline=None)

# quantity: positive, at most three places, at most 1,000,000 (kept in thousandths)
quantities = st.integers(min_value=1, max_value=1_000_000_000).map(lambda n: Decimal(n).scaleb(-3))
# unit prices up to one crore (10,000,000.00) in paise, with the small and round ones hypothesis likes
prices = st.integers(min_value=0, max_value=1_000_000_000)
# percentages 0–100 with two places (kept in hundredths)
percents = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n).scaleb(-2))
minors = st.integers(min_value=-(10**15), max_value=10**15)
currencies = st.sampled_from(["INR", "USD", "EUR", "AED"])


def half_up(value: Fraction) -> int:
    """Round a non-negative exact rational number of paise to a whole paisa, half up."""
    return floor(value + Fraction(1, 2))


def expected_line(quantity: Decimal, price_minor: int, discount: Decimal, rate: Decimal) -> tuple[int, int, int]:
    """SPEC §2.4, computed independently of the domain in exact rationals: (net, tax, total) in paise."""
    net = half_up(Fraction(quantity) * price_minor * (100 - Fraction(discount)) / 100)
    tax = half_up(net * Fraction(rate) / 100)
    return net, tax, net + tax


def product(sku: str, price_minor: int, rate: Decimal) -> Product:
    return Product(
        sku=sku,
        name=sku,
        unit_price=Money(price_minor, "INR"),
        tax_rate=rate,
        min_order_qty=Decimal("0.001"),
        updated_at=FixedClock().now(),
    )


class TestLineTotalsProperty:
    @FAST
    @given(quantity=quantities, price=prices, discount=percents, rate=percents)
    def test_a_priced_line_matches_the_exact_computation(
        self, quantity: Decimal, price: int, discount: Decimal, rate: Decimal
    ) -> None:
        line = OrderLine.priced(
            LineRequest(sku="P", quantity=quantity, discount_pct=discount), product("P", price, rate)
        )
        assert (line.net.minor, line.tax.minor, line.total.minor) == expected_line(quantity, price, discount, rate)
        assert line.net.currency == line.tax.currency == line.total.currency == "INR"

    @SLOW
    @given(
        lines=st.lists(st.tuples(quantities, prices, percents, percents), min_size=1, max_size=6),
    )
    def test_an_order_total_is_the_sum_of_exact_line_totals(
        self, lines: list[tuple[Decimal, int, Decimal, Decimal]]
    ) -> None:
        crm = new_crm()
        admin = crm.users.create_admin("+919876499999", "Asha Admin").actor()
        customer = crm.customers.create(
            admin, NewCustomer(code="D1", name="Dealer", mobile="+919765400001", credit_limit=Money(0, "INR"))
        ).customer
        crm.catalogue.upsert_many(admin, [product(f"P{i}", price, rate) for i, (_, price, _, rate) in enumerate(lines)])
        requests = tuple(
            LineRequest(sku=f"P{i}", quantity=quantity, discount_pct=discount)
            for i, (quantity, _, discount, _) in enumerate(lines)
        )

        quote = crm.orders.quote(admin, NewOrder(customer_id=customer.id, lines=requests))

        expected = [expected_line(q, p, d, r) for q, p, d, r in lines]
        assert [(x.net.minor, x.tax.minor, x.total.minor) for x in quote.lines] == expected
        assert quote.subtotal.minor == sum(net for net, _, _ in expected)
        assert quote.tax_total.minor == sum(tax for _, tax, _ in expected)
        assert quote.total.minor == sum(total for _, _, total in expected)

    @FAST
    @given(value=st.decimals(min_value=-(10**12), max_value=10**12, places=6, allow_nan=False))
    def test_round_half_up_matches_the_exact_rule(self, value: Decimal) -> None:
        exact = Fraction(value) * 100
        magnitude = half_up(abs(exact))  # half away from zero
        expected = magnitude if exact >= 0 else -magnitude
        assert Money.rounded(value, "INR").minor == expected
        assert round_half_up(value) == Decimal(expected).scaleb(-2)


class TestMoneyLaws:
    @FAST
    @given(a=minors, b=minors, c=minors, currency=currencies)
    def test_addition_is_associative_and_commutative_with_zero(self, a: int, b: int, c: int, currency: str) -> None:
        x, y, z = Money(a, currency), Money(b, currency), Money(c, currency)
        zero = Money.zero(currency)
        assert (x + y) + z == x + (y + z)
        assert x + y == y + x
        assert x + zero == x
        assert (x + y).minor == a + b

    @FAST
    @given(a=minors, b=minors, currency=currencies)
    def test_subtraction_undoes_addition(self, a: int, b: int, currency: str) -> None:
        x, y = Money(a, currency), Money(b, currency)
        assert (x - y) + y == x
        assert x - x == Money.zero(currency)
        assert x - y == -(y - x)
        assert (x < y) == (a < b)
        assert (x <= y) == (a <= b)

    @FAST
    @given(a=minors, b=minors)
    def test_mixing_currencies_always_raises_and_equality_never_does(self, a: int, b: int) -> None:
        rupees, dollars = Money(a, "INR"), Money(b, "USD")
        for operation in (
            lambda: rupees + dollars,
            lambda: rupees - dollars,
            lambda: rupees < dollars,
            lambda: rupees >= dollars,
        ):
            try:
                operation()
            except CurrencyMismatch:
                pass
            else:
                raise AssertionError("mixing currencies must raise")
        assert rupees != dollars

    @FAST
    @given(minor=minors, currency=currencies)
    def test_decimal_string_round_trips(self, minor: int, currency: str) -> None:
        money = Money(minor, currency)
        text = money.decimal_string()
        assert Money.of(text, currency) == money
        assert Decimal(text) == money.amount
        assert len(text.split(".")[1]) == 2

    @FAST
    @given(value=st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
    def test_of_keeps_any_two_place_decimal_exactly(self, value: Decimal) -> None:
        assert Money.of(value, "INR").minor == int(value * 100)
        assert Money.of(str(value), "INR").amount == value
