"""SPEC §2.4: line net, tax and total, rounded half-up per line; unit price and tax rate copied at creation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_domain.orders import LineRequest
from crm_domain.services.catalogue import NewProduct, ProductChanges
from crm_domain.services.orders import NewOrder
from tests.unit.world import World, inr


def add_product(world: World, sku: str, price: str, tax: str = "0", min_qty: str = "0.001") -> None:
    world.crm.catalogue.create(
        world.admin,
        NewProduct(sku=sku, name=sku, unit_price=inr(price), tax_rate=Decimal(tax), min_order_qty=Decimal(min_qty)),
    )


class TestLineAmounts:
    @pytest.mark.parametrize(
        ("sku", "quantity", "discount", "net", "tax", "line_total"),
        [
            ("PUMP", "10", "0", "4200.00", "756.00", "4956.00"),
            # 2.5 × 99.50 × 0.90 = 223.875 → 223.88; 223.88 × 12% = 26.8656 → 26.87
            ("PIPE", "2.5", "10", "223.88", "26.87", "250.75"),
            # 1.333 × 1234.56 = 1645.66848 → 1645.67; × 5% = 82.2835 → 82.28
            ("VALVE", "1.333", "0", "1645.67", "82.28", "1727.95"),
            # 12 × 385 × (1 − 12.5%) = 4042.50; × 28% = 1131.90
            ("CEMENT", "12", "12.50", "4042.50", "1131.90", "5174.40"),
            ("PUMP", "3", "100", "0.00", "0.00", "0.00"),
        ],
    )
    def test_net_tax_and_total_of_a_line(
        self, world: World, sku: str, quantity: str, discount: str, net: str, tax: str, line_total: str
    ) -> None:
        order = world.order(world.rep, world.customer, (sku, quantity, discount), submit=False)
        (line,) = order.lines
        assert (line.net, line.tax, line.total) == (inr(net), inr(tax), inr(line_total))
        assert line.quantity == Decimal(quantity)
        assert line.discount_pct == Decimal(discount)

    def test_rounds_half_up_not_to_even(self, world: World) -> None:
        add_product(world, "HALF", "99.46")  # 0.25 × 99.46 = 24.865: half-up 24.87, banker's 24.86
        order = world.order(world.rep, world.customer, ("HALF", "0.25"), submit=False)
        assert order.lines[0].net == inr("24.87")

    def test_tax_is_computed_on_the_rounded_net(self, world: World) -> None:
        add_product(world, "TINY", "0.10", tax="50")  # net 0.05 × 0.10 = 0.005 → 0.01; tax 0.01 × 50% = 0.005 → 0.01
        order = world.order(world.rep, world.customer, ("TINY", "0.05"), submit=False)
        (line,) = order.lines
        assert (line.net, line.tax, line.total) == (inr("0.01"), inr("0.01"), inr("0.02"))

    def test_rounding_is_per_line_and_the_order_total_sums_line_totals(self, world: World) -> None:
        add_product(world, "HALFPAISA-A", "0.01")
        add_product(world, "HALFPAISA-B", "0.01")
        order = world.order(world.rep, world.customer, ("HALFPAISA-A", "0.5"), ("HALFPAISA-B", "0.5"), submit=False)
        # each line 0.005 → 0.01; rounding the order as a whole would give 0.01
        assert [line.net for line in order.lines] == [inr("0.01"), inr("0.01")]
        assert order.total == inr("0.02")

    def test_order_subtotal_tax_and_total_are_sums_of_lines(self, world: World) -> None:
        order = world.order(world.rep, world.customer, ("PUMP", "10"), ("PIPE", "2.5", "10"), submit=False)
        assert order.subtotal == inr("4423.88")  # 4200.00 + 223.88
        assert order.tax_total == inr("782.87")  # 756.00 + 26.87
        assert order.total == inr("5206.75")
        assert order.total == order.subtotal + order.tax_total


class TestPricesAreCopied:
    def test_a_later_price_or_tax_change_does_not_touch_the_order(self, world: World) -> None:
        order = world.order(world.rep, world.customer, ("PUMP", "10"), submit=False)
        world.crm.catalogue.update(
            world.admin, "PUMP", ProductChanges(unit_price=inr("999.00"), tax_rate=Decimal("28"))
        )

        submitted = world.crm.orders.submit(world.rep, order.id)

        assert submitted.lines[0].unit_price == inr("420.00")
        assert submitted.lines[0].tax_rate == Decimal("18.00")
        assert submitted.total == inr("4956.00")
        assert world.exposure() == inr("4956.00")

    def test_a_new_order_uses_the_new_price(self, world: World) -> None:
        world.crm.catalogue.update(world.admin, "PUMP", ProductChanges(unit_price=inr("500.00")))
        order = world.order(world.rep, world.customer, ("PUMP", "1"), submit=False)
        assert order.lines[0].unit_price == inr("500.00")
        assert order.total == inr("590.00")

    def test_the_quote_prices_like_the_order(self, world: World) -> None:
        lines = (LineRequest(sku="VALVE", quantity="3", discount_pct="7.5"), LineRequest(sku="PIPE", quantity="4"))
        quote = world.crm.orders.quote(world.rep, NewOrder(customer_id=world.customer.id, lines=lines))
        order = world.crm.orders.create(world.rep, NewOrder(customer_id=world.customer.id, lines=lines))
        assert (quote.subtotal, quote.tax_total, quote.total) == (order.subtotal, order.tax_total, order.total)
        assert quote.lines == order.lines
