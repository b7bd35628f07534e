"""ProductRepository: round trips, the unique SKU, batch upserts and the SKU-ordered list."""

from __future__ import annotations

import attrs
import pytest

from crm_domain.errors import DuplicateKey, ValidationFailed
from crm_domain.money import Money
from crm_domain.ports import UnitOfWorkFactory
from crm_domain.records import PageRequest
from tests.contract.builders import a_product, at, forged_cursors, read, walk, write


class TestProductRoundTrip:
    def test_get_returns_every_field_as_added(self, store: UnitOfWorkFactory) -> None:
        product = a_product(active=False)
        write(store, lambda uow: uow.products.add(product))

        assert read(store, lambda uow: uow.products.get(product.sku)) == product
        assert read(store, lambda uow: uow.products.get("NOPE")) is None

    def test_adding_a_taken_sku_is_a_duplicate(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.products.add(a_product("P-1")))

        with pytest.raises(DuplicateKey) as raised, store() as uow:
            uow.products.add(a_product("P-1", name="Impostor"))

        assert (raised.value.kind, raised.value.field, raised.value.value) == ("product", "sku", "P-1")
        assert read(store, lambda uow: uow.products.get("P-1")) == a_product("P-1")

    def test_save_replaces_the_stored_product(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.products.add(a_product("P-1")))
        changed = attrs.evolve(a_product("P-1"), name="Pump Mk II", unit_price=Money(1, "USD"), erp_material_id=None)

        write(store, lambda uow: uow.products.save(changed))

        assert read(store, lambda uow: uow.products.get("P-1")) == changed

    def test_get_many_returns_the_known_skus_only(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: [uow.products.add(a_product(s)) for s in ["P-1", "P-2", "P-3"]])

        found = read(store, lambda uow: uow.products.get_many(["P-3", "NOPE", "P-1"]))

        assert found == {"P-3": a_product("P-3"), "P-1": a_product("P-1")}
        assert read(store, lambda uow: uow.products.get_many([])) == {}


class TestUpsertMany:
    def test_new_skus_are_inserted_and_known_ones_replaced(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: [uow.products.add(a_product(s)) for s in ["P-1", "P-2"]])
        batch = [a_product("P-2", name="Renamed", price=1), a_product("P-3", active=False)]

        written = write(store, lambda uow: uow.products.upsert_many(batch))

        assert written == 2
        products = read(store, lambda uow: walk(uow.products.page, 50))
        assert products == [a_product("P-1"), *batch]

    def test_a_large_batch_is_written_whole(self, store: UnitOfWorkFactory) -> None:
        batch = [a_product(f"SKU-{i:05d}", price=i) for i in range(2000)]

        assert write(store, lambda uow: uow.products.upsert_many(batch)) == 2000

        skus = [f"SKU-{i:05d}" for i in (0, 1234, 1999)]
        assert read(store, lambda uow: uow.products.get_many(skus)) == {p.sku: p for p in batch if p.sku in skus}
        assert read(store, lambda uow: walk(uow.products.page, 200)) == batch

    def test_an_empty_batch_writes_nothing(self, store: UnitOfWorkFactory) -> None:
        assert write(store, lambda uow: uow.products.upsert_many([])) == 0
        assert read(store, lambda uow: uow.products.page(PageRequest())).items == []


class TestProductList:
    SKUS = ["B-2", "A-1", "C-3", "A-10", "B-1"]

    @pytest.mark.parametrize("limit", [1, 2, 5, 200])
    def test_pages_walk_every_product_once_by_sku(self, store: UnitOfWorkFactory, limit: int) -> None:
        write(store, lambda uow: [uow.products.add(a_product(s)) for s in self.SKUS])

        assert [p.sku for p in read(store, lambda uow: walk(uow.products.page, limit))] == sorted(self.SKUS)

    def test_active_only_leaves_inactive_products_out(self, store: UnitOfWorkFactory) -> None:
        inactive = {"A-10", "C-3"}
        write(store, lambda uow: [uow.products.add(a_product(s, active=s not in inactive)) for s in self.SKUS])

        found = read(store, lambda uow: walk(lambda page: uow.products.page(page, active_only=True), 1))

        assert [p.sku for p in found] == ["A-1", "B-1", "B-2"]

    @pytest.mark.parametrize("cursor", forged_cursors(["A-1"]))
    def test_a_forged_cursor_is_a_validation_error(self, store: UnitOfWorkFactory, cursor: str) -> None:
        write(store, lambda uow: [uow.products.add(a_product(s)) for s in self.SKUS])

        with pytest.raises(ValidationFailed), store(read_only=True) as uow:
            uow.products.page(PageRequest(limit=2, cursor=cursor))

    def test_updated_at_round_trips(self, store: UnitOfWorkFactory) -> None:
        product = attrs.evolve(a_product(), updated_at=at(123.456789))
        write(store, lambda uow: uow.products.add(product))

        assert read(store, lambda uow: uow.products.get(product.sku)) == product
