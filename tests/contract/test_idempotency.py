"""IdempotencyRepository: one record per (actor, operation, key), invisible once expired by the store's clock,
purged on request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.system import FixedClock
from crm_domain.errors import DuplicateKey
from crm_domain.ports import UnitOfWorkFactory
from tests.contract.builders import an_idempotency_record, at, read, write


class TestIdempotencyRecords:
    def test_get_returns_the_record_as_added(self, store: UnitOfWorkFactory, clock: FixedClock) -> None:
        clock.set(at())
        record = an_idempotency_record()
        write(store, lambda uow: uow.idempotency.add(record))

        assert (
            read(store, lambda uow: uow.idempotency.get(actor_id="u-1", operation="order.create", key="key-1"))
            == record
        )

    def test_the_key_is_per_actor_and_operation(self, store: UnitOfWorkFactory, clock: FixedClock) -> None:
        clock.set(at())
        records = [
            an_idempotency_record(result_id="o-1"),
            an_idempotency_record(actor_id="u-2", result_id="o-2"),
            an_idempotency_record(operation="order.submit:o-1", result_id="o-3"),
        ]
        write(store, lambda uow: [uow.idempotency.add(r) for r in records])

        found = [
            read(store, lambda uow: uow.idempotency.get(actor_id=r.actor_id, operation=r.operation, key=r.key))  # noqa: B023
            for r in records
        ]

        assert found == records
        assert (
            read(store, lambda uow: uow.idempotency.get(actor_id="u-1", operation="order.create", key="key-2")) is None
        )

    def test_adding_a_live_key_again_is_a_duplicate(self, store: UnitOfWorkFactory, clock: FixedClock) -> None:
        clock.set(at())
        write(store, lambda uow: uow.idempotency.add(an_idempotency_record()))

        with pytest.raises(DuplicateKey) as raised, store() as uow:
            uow.idempotency.add(an_idempotency_record(result_id="o-other"))

        assert (raised.value.kind, raised.value.field, raised.value.value) == ("idempotency record", "key", "key-1")
        stored = read(store, lambda uow: uow.idempotency.get(actor_id="u-1", operation="order.create", key="key-1"))
        assert stored is not None
        assert stored.result_id == "o-1"


class TestExpiry:
    def test_a_record_is_valid_until_just_before_it_expires(self, store: UnitOfWorkFactory, clock: FixedClock) -> None:
        clock.set(at())
        record = an_idempotency_record(expires_at=at(60))
        write(store, lambda uow: uow.idempotency.add(record))

        clock.set(at(60) - timedelta(microseconds=1))
        assert (
            read(store, lambda uow: uow.idempotency.get(actor_id="u-1", operation="order.create", key="key-1"))
            == record
        )

        clock.set(at(60))
        assert (
            read(store, lambda uow: uow.idempotency.get(actor_id="u-1", operation="order.create", key="key-1")) is None
        )

    def test_an_expired_key_can_be_used_again(self, store: UnitOfWorkFactory, clock: FixedClock) -> None:
        clock.set(at())
        write(store, lambda uow: uow.idempotency.add(an_idempotency_record(expires_at=at(60))))
        clock.set(at(61))
        fresh = an_idempotency_record(expires_at=at(61 + 60), result_id="o-2")

        write(store, lambda uow: uow.idempotency.add(fresh))

        assert (
            read(store, lambda uow: uow.idempotency.get(actor_id="u-1", operation="order.create", key="key-1")) == fresh
        )

    def test_purge_removes_the_expired_records_only(self, store: UnitOfWorkFactory, clock: FixedClock) -> None:
        clock.set(at())
        records = [an_idempotency_record(f"k-{m}", expires_at=at(m)) for m in (10, 20, 30, 40)]
        write(store, lambda uow: [uow.idempotency.add(r) for r in records])

        purged = write(store, lambda uow: uow.idempotency.purge_expired(at(20)))

        assert purged == 2
        assert write(store, lambda uow: uow.idempotency.purge_expired(at(20))) == 0
        clock.set(at(5))  # before any expiry: only the purge can have removed a record
        found = [
            read(store, lambda uow: uow.idempotency.get(actor_id="u-1", operation="order.create", key=r.key))  # noqa: B023
            for r in records
        ]
        assert found == [None, None, records[2], records[3]]
