"""SPEC §2.3: customers (dealers) with their credit account, unique codes, one currency, scope on read/write."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_domain.customers import ErpSystem
from crm_domain.errors import CurrencyMismatch, DuplicateKey, EntityNotFound, PermissionDenied, ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import LineRequest
from crm_domain.records import PageRequest
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import CustomerChanges, NewCustomer
from crm_domain.services.orders import NewOrder
from tests.unit.world import World, inr


def new_customer(world: World, **kw: object) -> NewCustomer:
    fields: dict[str, object] = {
        "code": "D-NEW",
        "name": "Naveen Hardware",
        "mobile": "98230 00001",
        "credit_limit": inr("250000.00"),
        "assigned_rep_id": world.rep.id,
        "territory": "Nashik",
    }
    return NewCustomer(**{**fields, **kw})  # type: ignore[arg-type]


def all_codes(world: World) -> list[str]:
    return [c.code for c in world.crm.customers.list(world.admin, PageRequest(limit=200)).items]


class TestCreateCustomer:
    def test_a_customer_comes_with_its_credit_account(self, world: World) -> None:
        view = world.crm.customers.create(
            world.admin,
            new_customer(world, tolerance_pct=Decimal("5"), overdue_block_days=45, erp_system="sap"),
        )
        customer = view.customer
        assert customer.mobile == "+919823000001"
        assert customer.currency == "INR"
        assert customer.erp_system is ErpSystem.SAP
        assert customer.active
        position = world.crm.credit.position(world.rep, customer.id)
        assert (position.limit, position.exposure, position.available) == (
            inr("250000.00"),
            inr("0.00"),
            inr("250000.00"),
        )
        assert (position.tolerance_pct, position.overdue_block_days, position.blocked) == ("5", 45, False)

    def test_the_currency_is_the_limits_and_orders_use_it(self, world: World) -> None:
        customer = world.crm.customers.create(
            world.admin, new_customer(world, credit_limit=Money.of("5000.00", "USD"))
        ).customer
        assert customer.currency == "USD"
        order = world.crm.orders.create(
            world.rep,
            NewOrder(customer_id=customer.id, lines=(LineRequest(sku="USD-PUMP", quantity="2"),), submit=True),
        )
        assert order.currency == "USD"
        assert order.total == Money.of("240.00", "USD")
        assert world.crm.credit.position(world.rep, customer.id).exposure == Money.of("240.00", "USD")
        with pytest.raises(ValidationFailed):  # an INR product cannot go on a USD order
            world.crm.orders.create(
                world.rep, NewOrder(customer_id=customer.id, lines=(LineRequest(sku="PUMP", quantity="1"),))
            )

    def test_a_limit_in_another_currency_cannot_be_requested(self, world: World) -> None:
        with pytest.raises(CurrencyMismatch):
            world.crm.credit.request_limit_change(
                world.manager, world.customer.id, Money.of("1.00", "USD"), "dollars please"
            )

    def test_a_taken_code_is_refused_and_nothing_is_stored(self, world: World) -> None:
        before = (all_codes(world), world.snapshot())
        with pytest.raises(DuplicateKey) as raised:
            world.crm.customers.create(world.admin, new_customer(world, code="D-RAVI"))
        assert raised.value.field == "code"
        assert (all_codes(world), world.snapshot()) == before

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"code": "bad code!"}, "code"),
            ({"name": "  "}, "name"),
            ({"mobile": "123"}, "mobile"),
            ({"assigned_rep_id": "no-such-rep"}, "assigned_rep_id"),
            ({"credit_limit": inr("-1.00")}, "credit_limit"),
            ({"tolerance_pct": Decimal("100.01")}, "tolerance_pct"),
            ({"overdue_block_days": -1}, "overdue_block_days"),
            ({"erp_system": "oracle"}, "erp_system"),
        ],
    )
    def test_invalid_customers_are_refused(self, world: World, change: dict[str, object], field: str) -> None:
        before = (all_codes(world), world.snapshot())
        with pytest.raises(ValidationFailed) as raised:
            world.crm.customers.create(world.admin, new_customer(world, **change))
        assert raised.value.field == field
        assert (all_codes(world), world.snapshot()) == before

    def test_only_customer_writers_create_customers(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            world.crm.customers.create(world.manager, new_customer(world))
        assert "D-NEW" not in all_codes(world)


class TestUpdateCustomer:
    def test_master_data_changes_and_credit_stays(self, world: World) -> None:
        world.order_of("1000.00")
        view = world.crm.customers.update(
            world.admin, world.customer.id, CustomerChanges(name="Ravi Traders Pvt Ltd", territory="Satara")
        )
        assert (view.customer.name, view.customer.territory, view.customer.code) == (
            "Ravi Traders Pvt Ltd",
            "Satara",
            "D-RAVI",
        )
        assert world.exposure() == inr("1000.00")

    def test_reassigning_to_an_unknown_rep_is_refused(self, world: World) -> None:
        with pytest.raises(ValidationFailed):
            world.crm.customers.update(world.admin, world.customer.id, CustomerChanges(assigned_rep_id="ghost"))
        assert world.crm.customers.get(world.admin, world.customer.id).customer.assigned_rep_id == world.rep.id

    def test_reps_cannot_write_customers(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            world.crm.customers.update(world.rep, world.customer.id, CustomerChanges(name="Mine"))

    def test_an_unknown_customer_is_not_found(self, world: World) -> None:
        with pytest.raises(EntityNotFound):
            world.crm.customers.update(world.admin, "nope", CustomerChanges(name="X"))


class TestReadCustomer:
    def test_get_by_code_returns_customer_and_account(self, world: World) -> None:
        view = world.crm.customers.get_by_code(world.rep, "D-RAVI")
        assert view.customer.id == world.customer.id
        assert view.account.limit == 1_000_000

    def test_list_is_ordered_by_code_and_paginated(self, world: World) -> None:
        for n in range(5):
            world.crm.customers.create(
                world.admin, new_customer(world, code=f"D-P{n}", mobile=f"98230 0001{n}", assigned_rep_id=None)
            )
        first = world.crm.customers.list(world.admin, PageRequest(limit=3))
        second = world.crm.customers.list(world.admin, PageRequest(limit=3, cursor=first.next_cursor))
        third = world.crm.customers.list(world.admin, PageRequest(limit=3, cursor=second.next_cursor))
        codes = [c.code for page in (first, second, third) for c in page.items]
        assert codes == sorted(codes)
        assert len(codes) == len(set(codes)) == 8
        assert third.next_cursor is None

    def test_a_product_in_the_customers_currency_is_needed(self, world: World) -> None:
        world.crm.catalogue.create(world.admin, NewProduct(sku="EUR-1", name="Euro", unit_price=Money.of("1", "EUR")))
        with pytest.raises(ValidationFailed):
            world.crm.orders.quote(
                world.rep, NewOrder(customer_id=world.customer.id, lines=(LineRequest(sku="EUR-1", quantity="1"),))
            )
