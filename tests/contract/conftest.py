"""The store contract: every suite in this folder runs once per adapter of the store ports (test_erp_gateways.py
does the same for the ERP gateways, with its own fixture).

A new adapter (MongoDB, …) joins by adding one parameter to `ADAPTERS` and one branch to `store`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.memory import MemoryStore
from adapters.mongo import MongoStore
from adapters.sqlite import SqliteStore
from adapters.system import FixedClock
from crm_domain.ports import UnitOfWorkFactory
from tests import mongo

ADAPTERS = ["memory", "sqlite", pytest.param("mongo", id=mongo.ID)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*capabilities): run an ERP contract test only on gateways that have them")


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> Iterator[UnitOfWorkFactory]:
    """A fresh, empty store whose clock (for idempotency expiry) is the `clock` fixture; on mongomock that is
    also the server's clock (`$$NOW`, which MongoDB's outbox leases are measured by: tests/mongo.py)."""
    if request.param == "memory":
        yield MemoryStore(clock=clock)
    elif request.param == "sqlite":
        sqlite = SqliteStore(tmp_path / "store" / "crm.db", clock=clock)
        yield sqlite
        sqlite.close()
    elif request.param == "mongo":
        with mongo.fresh_database(server_clock=clock) as (client, name):  # mongomock's `$$NOW`: the clock
            store = MongoStore(client, name, clock=clock)
            store.init_indexes()
            yield store
    else:  # pragma: no cover
        raise AssertionError(f"unknown adapter {request.param}")
