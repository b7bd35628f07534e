"""What the composition root offers the entry points (`Container`, entrypoints/ports.py), on the embedded default
(SQLite) and on memory://: the write path, the response-cache store, store maintenance, the sandbox ERP driver
and the demo's clocks. The entry points only see the ports; these tests check what stands behind each."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore

from adapters.metrics import MeteredErpGateway
from adapters.redis.cache import RedisResponseStore
from adapters.sqlite import schema
from adapters.sqlite.loop_writer import LoopWriter
from crm_domain.ports import UnitOfWork
from crm_domain.services.context import Write
from entrypoints.bootstrap import Container, bootstrap, store_maintenance
from entrypoints.http.writes import ThreadWrites
from entrypoints.ports import Recovery
from entrypoints.settings import Settings
from tests.contract.builders import a_product, read


def add_product(sku: str) -> Write[str]:
    def step(uow: UnitOfWork) -> str:
        uow.products.add(a_product(sku))
        return sku

    return Write(step)


def written_through(container: Container, sku: str) -> bool:
    """Plan and write a product through a new write path of `container`; True when its store then has it."""
    assert asyncio.run(container.writes().perform(lambda: add_product(sku))) == sku
    return read(container.uow, lambda uow: uow.products.get(sku)) is not None


def assert_drives_the_routed_sandbox(container: Container) -> None:
    sandbox = container.sandbox
    assert sandbox is not None
    routed = container.erp.for_system("sandbox")
    assert isinstance(routed, MeteredErpGateway)  # ERP calls are measured (SPEC §9)
    assert sandbox is routed.inner
    assert sandbox.find_by_external_ref("no-such-order") is None


def assert_offers_the_demo_clocks(container: Container) -> None:
    clock = container.clocks.settable()
    at = datetime(2025, 1, 31, 12, tzinfo=UTC)
    clock.set(at)
    assert clock.now() == at
    assert abs(container.clocks.system().now() - datetime.now(UTC)) < timedelta(minutes=1)


class TestOnTheEmbeddedDefault:
    @pytest.fixture
    def container(self, tmp_path: Path) -> Container:
        return bootstrap(Settings(data_dir=tmp_path))

    def test_writes_are_batched_on_the_event_loop_one_writer_per_app(self, container: Container) -> None:
        assert isinstance(container.writes(), LoopWriter)
        assert container.writes() is not container.writes()
        assert written_through(container, "SKU-LOOP")

    def test_maintenance_migrates_a_fresh_file_once_and_has_nothing_to_recover(self, tmp_path: Path) -> None:
        maintenance = store_maintenance(Settings(data_dir=tmp_path / "fresh"))

        first = maintenance.prepare()
        again = maintenance.prepare()

        assert first.schema_version == again.schema_version == schema.SCHEMA_VERSION
        assert f": {schema.SCHEMA_VERSION} migration(s) applied" in first.summary
        assert ": 0 migration(s) applied" in again.summary
        tables = sqlite3.connect(tmp_path / "fresh" / "crm.db").execute("SELECT name FROM sqlite_master")
        assert "orders" in {name for (name,) in tables}
        assert maintenance.recover() == Recovery()

    def test_the_container_maintains_its_own_store(self, container: Container) -> None:
        assert container.maintenance.prepare().schema_version == schema.SCHEMA_VERSION
        assert container.maintenance.recover() == Recovery()

    def test_cached_responses_are_files_in_the_data_directory(self, container: Container, tmp_path: Path) -> None:
        store = container.response_cache()
        assert isinstance(store, FileStore)
        assert Path(store.path) == tmp_path / "response-cache"

    def test_cached_responses_go_to_redis_once_configured(self, tmp_path: Path) -> None:
        container = bootstrap(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0"))  # never connects
        assert isinstance(container.response_cache(), RedisResponseStore)

    def test_the_sandbox_erp_can_be_driven(self, container: Container) -> None:
        assert_drives_the_routed_sandbox(container)

    def test_the_demo_clocks(self, container: Container) -> None:
        assert_offers_the_demo_clocks(container)


class TestOnMemory:
    @pytest.fixture
    def container(self, tmp_path: Path) -> Container:
        return bootstrap(Settings(data_dir=tmp_path, database_url="memory://"))

    def test_writes_run_in_a_worker_thread(self, container: Container) -> None:
        assert isinstance(container.writes(), ThreadWrites)
        assert written_through(container, "SKU-THREAD")

    def test_maintenance_has_nothing_to_do(self, container: Container, tmp_path: Path) -> None:
        prepared = container.maintenance.prepare()
        assert prepared.summary == "in-memory store: nothing to prepare"
        assert prepared.schema_version is None
        assert container.maintenance.recover() == Recovery()
        assert not (tmp_path / "crm.db").exists()

    def test_cached_responses_stay_in_the_process(self, container: Container) -> None:
        assert isinstance(container.response_cache(), MemoryStore)
        assert container.response_cache() is not container.response_cache()

    def test_the_sandbox_erp_can_be_driven(self, container: Container) -> None:
        assert_drives_the_routed_sandbox(container)

    def test_the_demo_clocks(self, container: Container) -> None:
        assert_offers_the_demo_clocks(container)
