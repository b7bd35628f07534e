"""The embedded store's batched writes on the event loop (adapters.sqlite.loop_writer, decision 0009): one
transaction for the writes queued together, each step undone alone when it fails, nothing answered before the
COMMIT, and waiting for the write lock without blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from adapters.memory.store import MemoryStore
from adapters.sqlite.loop_writer import LoopWriter
from adapters.sqlite.store import SqliteStore
from adapters.system import FixedClock
from crm_domain.errors import ConcurrentUpdate, DuplicateKey, UpstreamUnavailable, ValidationFailed
from crm_domain.orders import ErpSync, OrderStatus
from crm_domain.ports import UnitOfWork
from crm_domain.services.context import ServiceContext, Write
from crm_domain.users import Actor, Role
from entrypoints.http.writes import ThreadWrites
from entrypoints.wiring.http import writes_for
from tests.contract.builders import a_product, an_order, at, read, write


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "crm.db", busy_timeout=2.0)


def stored_skus(store: SqliteStore) -> list[str]:
    with sqlite3.connect(store.path) as conn:
        return [sku for (sku,) in conn.execute("SELECT sku FROM products ORDER BY sku")]


def add_product(sku: str, seen: list[int] | None = None, store: SqliteStore | None = None) -> Write[str]:
    def step(uow: UnitOfWork) -> str:
        if seen is not None and store is not None:
            seen.append(len(stored_skus(store)))  # what another connection sees while the step runs
        uow.products.add(a_product(sku))
        return sku

    return Write(step)


class TestBatching:
    def test_writes_queued_together_commit_together_and_answer_after_the_commit(self, store: SqliteStore) -> None:
        writer = LoopWriter(store)
        seen: list[int] = []

        async def main() -> list[str]:
            return await asyncio.gather(*(writer.run(add_product(f"SKU-{i:02d}", seen, store)) for i in range(20)))

        assert asyncio.run(main()) == [f"SKU-{i:02d}" for i in range(20)]
        assert seen == [0] * 20  # no step's write was visible outside before all of them had run: one COMMIT
        assert stored_skus(store) == [f"SKU-{i:02d}" for i in range(20)]

    def test_each_step_sees_the_steps_before_it(self, store: SqliteStore) -> None:
        writer = LoopWriter(store)

        def count_then_add(sku: str) -> Write[int]:
            def step(uow: UnitOfWork) -> int:
                before = len(uow.products.get_many([f"SKU-{i:02d}" for i in range(5)]))
                uow.products.add(a_product(sku))
                return before

            return Write(step)

        async def main() -> list[int]:
            return await asyncio.gather(*(writer.run(count_then_add(f"SKU-{i:02d}")) for i in range(5)))

        assert asyncio.run(main()) == [0, 1, 2, 3, 4]

    def test_a_failing_step_is_undone_alone(self, store: SqliteStore) -> None:
        writer = LoopWriter(store)

        def add_then_fail(uow: UnitOfWork) -> str:
            uow.products.add(a_product("SKU-BAD"))
            raise ValidationFailed("no", field="sku")

        async def main() -> list[Any]:
            return await asyncio.gather(
                writer.run(add_product("SKU-A")),
                writer.run(Write(add_then_fail)),
                writer.run(add_product("SKU-B")),
                return_exceptions=True,
            )

        first, failed, last = asyncio.run(main())
        assert (first, last) == ("SKU-A", "SKU-B")
        assert isinstance(failed, ValidationFailed)
        assert stored_skus(store) == ["SKU-A", "SKU-B"]

    def test_the_events_of_a_failing_step_are_undone_with_it(self, store: SqliteStore) -> None:
        write(store, lambda uow: [uow.orders.add(an_order(f"o-{n}", number=f"SO-{n}")) for n in (1, 2, 3)])
        writer = LoopWriter(store)

        def sync(order_id: str, *, fail: bool = False) -> Write[str]:
            def step(uow: UnitOfWork) -> str:
                order = uow.orders.get(order_id)
                assert order is not None
                order.set_erp_sync(ErpSync.PENDING, order.updated_at)
                uow.orders.save(order)
                if fail:
                    raise ValidationFailed("no", field="order")
                return order_id

            return Write(step)

        async def main() -> list[Any]:
            return await asyncio.gather(
                writer.run(sync("o-1")),
                writer.run(sync("o-2", fail=True)),
                writer.run(sync("o-3")),
                return_exceptions=True,
            )

        first, failed, last = asyncio.run(main())
        assert (first, last) == ("o-1", "o-3")
        assert isinstance(failed, ValidationFailed)
        messages = read(store, lambda uow: uow.outbox.due(at(100_000), 100))
        assert sorted((m.event, m.aggregate_id) for m in messages) == [
            ("order.erp_sync_changed", "o-1"),
            ("order.erp_sync_changed", "o-3"),
        ]

    def test_the_sales_buckets_of_a_failing_step_are_undone_with_it(self, store: SqliteStore) -> None:
        write(store, lambda uow: [uow.orders.add(an_order(f"o-{n}", number=f"SO-{n}")) for n in (1, 2, 3)])
        writer = LoopWriter(store)
        system = Actor(id="system", roles=frozenset({Role.ADMIN}))

        def confirm(order_id: str, *, fail: bool = False) -> Write[str]:
            def step(uow: UnitOfWork) -> str:
                order = uow.orders.get(order_id)
                assert order is not None
                order.confirm(f"ERP-{order_id}", system, at(10))
                uow.orders.save(order)
                if fail:
                    raise ValidationFailed("no", field="order")
                return order_id

            return Write(step)

        async def main() -> list[Any]:
            return await asyncio.gather(
                writer.run(confirm("o-1")),
                writer.run(confirm("o-2", fail=True)),
                writer.run(confirm("o-3")),
                return_exceptions=True,
            )

        asyncio.run(main())
        buckets = read(store, lambda uow: uow.reports.buckets())
        confirmed = [k for k in buckets if k.sku == "" and k.status is OrderStatus.CONFIRMED]
        submitted = [k for k in buckets if k.sku == "" and k.status is OrderStatus.SUBMITTED]
        assert [buckets[k].orders for k in confirmed] == [2]  # o-1 and o-3 moved in; o-2's move undone
        assert [buckets[k].orders for k in submitted] == [-2]  # (stored as submitted without buckets: deltas only)

    def test_a_step_retried_after_a_lost_race_writes_the_events_of_its_last_attempt(self, store: SqliteStore) -> None:
        write(store, lambda uow: uow.orders.add(an_order("o-1")))
        writer = LoopWriter(store)
        states = [ErpSync.PENDING, ErpSync.SYNCED]

        def flaky(uow: UnitOfWork) -> str:
            order = uow.orders.get("o-1")
            assert order is not None
            order.set_erp_sync(states.pop(0), order.updated_at)
            uow.orders.save(order)
            if states:
                raise ConcurrentUpdate("order", "o-1")
            return "ok"

        assert asyncio.run(writer.run(Write(flaky, attempts=3))) == "ok"
        messages = read(store, lambda uow: uow.outbox.due(at(100_000), 100))
        assert [m.payload["erp_sync"] for m in messages] == ["synced"]

    def test_a_step_that_loses_a_race_runs_again_with_its_first_attempt_undone(self, store: SqliteStore) -> None:
        writer = LoopWriter(store)
        attempts: list[int] = []

        def flaky(uow: UnitOfWork) -> str:
            attempts.append(1)
            uow.products.add(a_product(f"SKU-TRY{len(attempts)}"))
            if len(attempts) == 1:
                raise ConcurrentUpdate("credit account", "c-1")
            return "ok"

        assert asyncio.run(writer.run(Write(flaky, attempts=3))) == "ok"
        assert stored_skus(store) == ["SKU-TRY2"]

    def test_retries_stop_after_the_attempts(self, store: SqliteStore) -> None:
        writer = LoopWriter(store)
        calls: list[int] = []

        def always_loses(uow: UnitOfWork) -> str:
            calls.append(1)
            raise DuplicateKey("idempotency record", "key", "k-1")

        with pytest.raises(DuplicateKey):
            asyncio.run(writer.run(Write(always_loses, attempts=2)))
        assert len(calls) == 2

    def test_a_step_that_ends_the_transaction_fails_the_whole_batch_and_keeps_nothing(self, store: SqliteStore) -> None:
        writer = LoopWriter(store)

        def ends_it(uow: UnitOfWork) -> str:
            uow.products.add(a_product("SKU-X"))
            uow._session.conn.execute("ROLLBACK")  # type: ignore[attr-defined]  # as SQLite does on some errors
            return "x"

        async def main() -> list[Any]:
            return await asyncio.gather(
                writer.run(add_product("SKU-A")),
                writer.run(Write(ends_it)),
                writer.run(add_product("SKU-B")),
                return_exceptions=True,
            )

        results = asyncio.run(main())
        assert all(isinstance(r, UpstreamUnavailable) for r in results), results
        assert stored_skus(store) == []
        assert asyncio.run(writer.run(add_product("SKU-C"))) == "SKU-C"  # the writer goes on afterwards
        assert stored_skus(store) == ["SKU-C"]

    def test_a_failed_commit_fails_every_write_of_the_batch(self, store: SqliteStore) -> None:
        with sqlite3.connect(store.path) as conn:  # a constraint that is only checked at COMMIT
            conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            conn.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
        writer = LoopWriter(store)

        def orphan(uow: UnitOfWork) -> str:
            uow._session.execute("INSERT INTO child (parent_id) VALUES (42)")  # type: ignore[attr-defined]
            return "orphan"

        async def main() -> list[Any]:
            return await asyncio.gather(
                writer.run(add_product("SKU-A")), writer.run(Write(orphan)), return_exceptions=True
            )

        results = asyncio.run(main())
        assert all(isinstance(r, UpstreamUnavailable) for r in results), results
        assert isinstance(results[0].__cause__, sqlite3.IntegrityError)
        assert stored_skus(store) == []


class TestWaitingForTheLock:
    def test_writes_wait_for_another_writer_without_blocking_the_loop(self, store: SqliteStore) -> None:
        read(store, lambda uow: uow.products.get("none"))  # create and migrate the file
        other = sqlite3.connect(store.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
        writer = LoopWriter(store)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        async def main() -> str:
            tick = asyncio.create_task(ticker())
            write = asyncio.create_task(writer.run(add_product("SKU-A")))
            await asyncio.sleep(0.2)
            assert not write.done()
            other.execute("COMMIT")
            result = await write
            tick.cancel()
            return result

        assert asyncio.run(main()) == "SKU-A"
        assert ticks >= 20  # the loop kept running while the write waited
        assert stored_skus(store) == ["SKU-A"]

    def test_writes_wait_for_a_thread_of_this_process_in_the_writer_queue(self, store: SqliteStore) -> None:
        writer = LoopWriter(store)
        holding, release = threading.Event(), threading.Event()

        def slow_writer() -> None:
            with store() as uow:
                uow.products.add(a_product("SKU-THREAD"))
                holding.set()
                release.wait(5)
                uow.commit()

        thread = threading.Thread(target=slow_writer)
        thread.start()
        holding.wait(5)

        async def main() -> list[str]:
            write = asyncio.create_task(writer.run(add_product("SKU-LOOP")))
            await asyncio.sleep(0.1)
            assert not write.done()
            release.set()
            return [await write]

        assert asyncio.run(main()) == ["SKU-LOOP"]
        thread.join(5)
        assert stored_skus(store) == ["SKU-LOOP", "SKU-THREAD"]

    def test_a_lock_held_past_the_busy_timeout_is_503(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "crm.db", busy_timeout=0.3)
        read(store, lambda uow: uow.products.get("none"))
        other = sqlite3.connect(store.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        writer = LoopWriter(store)
        try:
            with pytest.raises(UpstreamUnavailable):
                asyncio.run(writer.run(add_product("SKU-A")))
        finally:
            other.execute("ROLLBACK")
        assert asyncio.run(writer.run(add_product("SKU-B"))) == "SKU-B"


class TestChoice:
    def test_the_embedded_store_batches_on_the_loop_and_other_stores_use_threads(self, store: SqliteStore) -> None:
        memory = MemoryStore()
        ctx = ServiceContext(uow=memory, clock=FixedClock(), ids=None, mobiles=None)  # type: ignore[arg-type]
        assert isinstance(writes_for(store, ctx), LoopWriter)
        assert isinstance(writes_for(memory, ctx), ThreadWrites)

    def test_thread_writes_run_the_plan_and_its_write(self) -> None:
        memory = MemoryStore()
        ctx = ServiceContext(uow=memory, clock=FixedClock(), ids=None, mobiles=None)  # type: ignore[arg-type]
        writes = ThreadWrites(ctx)
        assert asyncio.run(writes.perform(lambda: add_product("SKU-A"))) == "SKU-A"
        assert asyncio.run(writes.perform(lambda: "replayed")) == "replayed"
        assert read(memory, lambda uow: uow.products.get("SKU-A")) is not None
