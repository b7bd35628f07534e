"""Batch sync from an ERP (SPEC §8): idempotent upserts of products by SKU and customers by code."""

from __future__ import annotations

from decimal import Decimal

from crm_domain.erp import ErpCustomer, ErpProduct
from crm_domain.services.catalogue import ProductChanges
from tests.unit.world import World, inr


def erp_product(sku: str, price: str = "10.00", name: str = "Widget") -> ErpProduct:
    return ErpProduct(sku=sku, erp_material_id=f"M-{sku}", name=name, unit_price=inr(price), tax_rate=Decimal(18))


class TestProducts:
    def test_a_page_is_counted_and_applied_once(self, world: World) -> None:
        page = [erp_product("W-1"), erp_product("W-2"), erp_product("PUMP", price="420.00", name="Pump")]
        first = world.crm.erp_batch.products(page)
        assert (first.created, first.updated, first.unchanged, first.failed) == (2, 1, 0, 0)
        again = world.crm.erp_batch.products(page)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 3)

    def test_the_crms_minimum_order_quantity_is_kept(self, world: World) -> None:
        world.crm.erp_batch.products([erp_product("W-1")])
        world.crm.catalogue.update(world.admin, "W-1", ProductChanges(min_order_qty=Decimal(5)))
        tally = world.crm.erp_batch.products([erp_product("W-1", price="11.00")])
        assert tally.updated == 1
        stored = world.crm.catalogue.get(world.admin, "W-1")
        assert (stored.unit_price, stored.min_order_qty) == (inr("11.00"), Decimal(5))

    def test_an_invalid_product_fails_alone(self, world: World) -> None:
        bad = ErpProduct(sku="BAD SKU", erp_material_id="M", name="x", unit_price=inr("1.00"))
        tally = world.crm.erp_batch.products([bad, erp_product("W-9")])
        assert (tally.created, [key for key, _ in tally.failures]) == (1, ["BAD SKU"])


class TestCustomers:
    def test_new_customers_start_with_a_zero_limit_and_known_ones_keep_their_credit(self, world: World) -> None:
        tally = world.crm.erp_batch.customers(
            "sandbox",
            [
                ErpCustomer(customer_code="D-RAVI", erp_customer_id="C-1", name="Ravi Traders Pvt", territory="Pune"),
                ErpCustomer(customer_code="D-NEW", erp_customer_id="C-2", name="New Dealer", mobile="+919812345678"),
            ],
        )
        assert (tally.created, tally.updated, tally.failed) == (1, 1, 0)
        ravi = world.crm.customers.get_by_code(world.admin, "D-RAVI")
        assert (ravi.customer.name, ravi.customer.erp_customer_id, ravi.account.limit) == (
            "Ravi Traders Pvt",
            "C-1",
            1_000_000,
        )
        new = world.crm.customers.get_by_code(world.admin, "D-NEW")
        assert (new.account.limit, new.customer.erp_system.value) == (0, "sandbox")
        order = world.order_of("1.00", new.customer, actor=world.agent)
        assert order.status.value == "on_credit_hold"

    def test_a_customer_of_another_erp_is_not_touched(self, world: World) -> None:
        tally = world.crm.erp_batch.customers(
            "sap", [ErpCustomer(customer_code="D-RAVI", erp_customer_id="S-1", name="Hijacked")]
        )
        assert tally.failed == 1 and "served by sandbox" in tally.failures[0][1]
        assert world.crm.customers.get_by_code(world.admin, "D-RAVI").customer.name == "Ravi Traders"
