"""`crm db init`: SQLite schema migrations on the embedded default, MongoDB indexes (on the test MongoDB)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.mongo import MongoStore
from entrypoints.cli import db
from entrypoints.wiring.store import MongoMaintenance
from tests import mongo
from tests.cli.conftest import Result

Cli = Callable[..., Result]


class TestDbInit:
    def test_sqlite_migrations_run_once(self, crm_cli: Cli, data_dir: Path) -> None:
        first = crm_cli("db", "init")
        again = crm_cli("db", "init")

        assert first.code == again.code == 0
        assert "migration(s) applied" in first.out
        assert " 0 migration(s) applied" not in first.out
        assert " 0 migration(s) applied" in again.out
        tables = sqlite3.connect(data_dir / "crm.db").execute("SELECT name FROM sqlite_master WHERE type='table'")
        assert "orders" in {name for (name,) in tables}

    def test_mongodb_indexes_are_created(self, crm_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
        with mongo.fresh_database() as (client, name):
            store = MongoStore(client, name)
            store.close = lambda: None  # type: ignore[method-assign]  # the test still reads the database
            monkeypatch.setattr(db, "store_maintenance", lambda settings: MongoMaintenance(store))

            result = crm_cli("db", "init")

            assert result.code == 0, result.err
            assert f"MongoDB database {name!r}" in result.out
            assert "customers.code_unique" in result.out
            assert "orders.customer_hashed" in result.out  # the shard key of the sharding plan
            assert store.db["customers"].index_information()["code_unique"]["unique"] is True
            assert store.missing_indexes() == []
