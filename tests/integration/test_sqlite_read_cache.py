"""The SQLite store's per-process cache of products and customers (adapters/sqlite/read_cache.py, decision
0010): a read-only unit of work gets the rows as committed in its snapshot, whoever changed them — another
process (here: another store object on the same file), a tool writing SQL, a write that was rolled back."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from adapters.sqlite import SqliteStore
from adapters.sqlite.read_cache import VersionedRows
from adapters.sqlite.schema import MIGRATIONS, migrate
from crm_domain.products import Product
from tests.contract.builders import a_customer, a_product, read, write


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "crm.db"


@pytest.fixture
def stores(path: Path) -> Iterator[tuple[SqliteStore, SqliteStore]]:
    """Two stores on one file, as two server processes would have."""
    one, two = SqliteStore(path), SqliteStore(path)
    write(one, lambda uow: [uow.products.add(a_product("P-1")), uow.customers.add(a_customer("c-1"))])
    yield one, two
    one.close()
    two.close()


def price(store: SqliteStore, sku: str = "P-1") -> int | None:
    product = read(store, lambda uow: uow.products.get_many([sku]).get(sku))
    return None if product is None else product.unit_price.minor


def reprice(store: SqliteStore, minor: int, sku: str = "P-1") -> None:
    write(store, lambda uow: uow.products.save(a_product(sku, price=minor)))


class TestOtherWriters:
    def test_a_price_changed_in_another_process_is_read_at_once(self, stores: tuple[SqliteStore, SqliteStore]) -> None:
        one, two = stores
        assert price(one) == 420_00
        reprice(two, 500_00)
        assert price(one) == 500_00

    def test_a_customer_changed_in_another_process_is_read_at_once(
        self, stores: tuple[SqliteStore, SqliteStore]
    ) -> None:
        one, two = stores
        assert read(one, lambda uow: uow.customers.get("c-1")).name == "Dealer c-1"  # type: ignore[union-attr]
        write(two, lambda uow: uow.customers.save(attrs.evolve(a_customer("c-1"), name="Renamed")))
        assert read(one, lambda uow: uow.customers.get("c-1")).name == "Renamed"  # type: ignore[union-attr]

    def test_a_change_made_with_plain_sql_is_read_at_once(
        self, stores: tuple[SqliteStore, SqliteStore], path: Path
    ) -> None:
        one, _ = stores
        assert price(one) == 420_00
        with sqlite3.connect(path, isolation_level=None) as conn:
            conn.execute("UPDATE products SET unit_price = 123 WHERE sku = 'P-1'")
        assert price(one) == 123
        with sqlite3.connect(path, isolation_level=None) as conn:
            conn.execute("DELETE FROM products WHERE sku = 'P-1'")
        assert price(one) is None

    def test_a_batch_upsert_and_a_new_product_are_read_at_once(self, stores: tuple[SqliteStore, SqliteStore]) -> None:
        one, two = stores
        assert price(one) == 420_00 and price(one, "P-2") is None
        write(two, lambda uow: uow.products.upsert_many([a_product("P-1", price=7_00), a_product("P-2", price=8_00)]))
        assert (price(one), price(one, "P-2")) == (7_00, 8_00)


class TestSnapshots:
    def test_a_rolled_back_change_is_never_read(self, stores: tuple[SqliteStore, SqliteStore]) -> None:
        one, _ = stores
        assert price(one) == 420_00
        with one() as uow:  # a writer that changes the price, reads it back, and fails
            uow.products.save(a_product("P-1", price=1))
            assert uow.products.get("P-1").unit_price.minor == 1  # type: ignore[union-attr]
        assert price(one) == 420_00

    def test_an_older_snapshot_reads_its_own_rows_and_leaves_the_cache_to_newer_ones(
        self, stores: tuple[SqliteStore, SqliteStore]
    ) -> None:
        one, two = stores
        write(one, lambda uow: uow.products.add(a_product("P-2", price=2_00)))
        with one(read_only=True) as old:
            assert old.products.get("P-1").unit_price.minor == 420_00  # type: ignore[union-attr]
            reprice(two, 999_00, "P-2")
            assert price(one, "P-2") == 999_00  # a newer snapshot fills the cache at the new version
            assert old.products.get("P-2").unit_price.minor == 2_00  # type: ignore[union-attr]
        assert price(one, "P-2") == 999_00

    def test_rows_read_twice_at_one_version_are_decoded_once(self, stores: tuple[SqliteStore, SqliteStore]) -> None:
        one, _ = stores
        first = read(one, lambda uow: uow.products.get("P-1"))
        again = read(one, lambda uow: uow.products.get_many(["P-1"])["P-1"])
        assert again is first
        customer = read(one, lambda uow: uow.customers.get("c-1"))
        assert read(one, lambda uow: uow.customers.get("c-1")) is customer

    def test_writers_do_not_use_the_cache(self, stores: tuple[SqliteStore, SqliteStore]) -> None:
        one, _ = stores
        cached = read(one, lambda uow: uow.products.get("P-1"))
        assert write(one, lambda uow: uow.products.get("P-1")) is not cached


def test_the_cache_keeps_at_most_its_size() -> None:
    rows: VersionedRows[str, int] = VersionedRows(max_rows=2)
    at_one = rows.at(1)
    assert at_one is not None
    for key in "abc":
        rows.keep(at_one, key, 1)
    assert at_one == {"a": 1, "b": 1}
    assert rows.at(2) == {} and rows.at(1) is None


def test_migration_5_starts_the_versions_and_counts_every_change(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for statements in MIGRATIONS[:4]:
        for statement in statements:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    assert migrate(conn) == len(MIGRATIONS) - 4
    versions = dict(conn.execute("SELECT name, version FROM table_versions").fetchall())
    assert versions == {"products": 0, "customers": 0}
    conn.execute(
        "INSERT INTO products (sku, name, uom, unit_price, currency, tax_rate, active, erp_material_id, "
        "min_order_qty, updated_at) VALUES ('S', 'n', 'EA', 1, 'INR', '0', 1, NULL, '1', 0)"
    )
    conn.execute("UPDATE products SET unit_price = 2")
    conn.execute("DELETE FROM products")
    versions = dict(conn.execute("SELECT name, version FROM table_versions").fetchall())
    assert versions == {"products": 3, "customers": 0}
    conn.close()


class CacheAgainstCommittedState(RuleBasedStateMachine):
    """Two processes change and read prices in any order, some changes fail; every read-only read returns
    what was last committed."""

    SKUS = ("P-1", "P-2", "P-3")

    @initialize()
    def open_stores(self) -> None:
        import tempfile

        self.dir = tempfile.TemporaryDirectory()
        path = Path(self.dir.name) / "crm.db"
        self.stores = (SqliteStore(path), SqliteStore(path))
        self.model = dict.fromkeys(self.SKUS, 100)
        write(self.stores[0], lambda uow: uow.products.upsert_many([a_product(s, price=100) for s in self.SKUS]))

    @rule(who=st.sampled_from([0, 1]), sku=st.sampled_from(SKUS), minor=st.integers(0, 10**6))
    def change(self, who: int, sku: str, minor: int) -> None:
        reprice(self.stores[who], minor, sku)
        self.model[sku] = minor

    @rule(who=st.sampled_from([0, 1]), sku=st.sampled_from(SKUS), minor=st.integers(0, 10**6))
    def change_and_fail(self, who: int, sku: str, minor: int) -> None:
        with self.stores[who]() as uow:
            uow.products.save(a_product(sku, price=minor))
            uow.products.get(sku)

    @rule(who=st.sampled_from([0, 1]), skus=st.lists(st.sampled_from(SKUS), min_size=1, max_size=3))
    def read_some(self, who: int, skus: list[str]) -> None:
        found: dict[str, Product] = read(self.stores[who], lambda uow: uow.products.get_many(skus))
        assert {sku: p.unit_price.minor for sku, p in found.items()} == {sku: self.model[sku] for sku in skus}

    @invariant()
    def both_read_the_committed_prices(self) -> None:
        if not hasattr(self, "stores"):
            return
        for store in self.stores:
            assert {sku: price(store, sku) for sku in self.SKUS} == self.model

    def teardown(self) -> None:
        if hasattr(self, "stores"):
            for store in self.stores:
                store.close()
            self.dir.cleanup()


TestCacheAgainstCommittedState = CacheAgainstCommittedState.TestCase
TestCacheAgainstCommittedState.settings = settings(max_examples=40, stateful_step_count=15, deadline=None)
