"""The MongoDB store beyond the contract suites: wiring from settings (client options, bounded timeouts, GridFS
for attachments), indexes and the start check, the transaction path, and GridFS revisions."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient, ReadPreference
from pymongo.errors import ServerSelectionTimeoutError

from adapters.mongo import GridFsFileStore, MongoStore
from adapters.mongo.errors import StoreNotReady
from adapters.mongo.store import TRANSACTION_OPTIONS
from adapters.system import FixedClock
from crm_domain.errors import UpstreamUnavailable
from entrypoints.bootstrap import build_files, build_store
from entrypoints.settings import Settings
from tests import mongo
from tests.contract.builders import an_account, an_audit_entry, write

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


@pytest.fixture
def store() -> Iterator[MongoStore]:
    with mongo.fresh_database() as (client, name):
        yield MongoStore(client, name)


class TestWiring:
    def test_a_mongodb_url_builds_the_mongo_store_with_bounded_timeouts(self, tmp_path: Path) -> None:
        settings = Settings(database_url="mongodb://db.invalid:27017/sales", data_dir=tmp_path)

        store = build_store(settings)

        assert isinstance(store, MongoStore)
        assert store.db.name == "sales"
        options = store.client.options
        assert options.server_selection_timeout == 5
        assert options.pool_options.connect_timeout == 5
        assert options.timeout == 10  # pymongo's client-side deadline of every operation (timeoutMS)
        assert isinstance(build_files(settings, store), GridFsFileStore)
        store.close()

    def test_the_database_defaults_to_crm(self, tmp_path: Path) -> None:
        store = build_store(Settings(database_url="mongodb://db.invalid:27017", data_dir=tmp_path))

        assert isinstance(store, MongoStore)
        assert store.db.name == "crm"
        store.close()


class TestClientSettings:
    """Finding 6: the client is built durable (w majority, journal) and reading from the primary, whatever the
    URL says; the URL's own timeouts are kept. On the old client: no write concern (the server's default, w:1 on
    a primary-secondary-arbiter set), the URL's `secondaryPreferred` followed, and keyword timeouts over the
    URL's."""

    def test_writes_wait_for_a_majority_and_the_journal_and_reads_go_to_the_primary(self) -> None:
        client = MongoStore.from_url("mongodb://db.invalid:27017/sales").client
        options = client.options

        assert options.write_concern.document == {"w": "majority", "j": True}
        assert options.read_preference == ReadPreference.PRIMARY
        assert options.read_concern.level == "majority"
        assert (options.retry_writes, options.retry_reads) == (True, True)
        client.close()

    def test_a_url_cannot_weaken_durability_or_read_from_secondaries(self) -> None:
        url = "mongodb://db.invalid:27017/sales?w=1&readPreference=secondaryPreferred&readConcernLevel=local"
        client = MongoStore.from_url(url).client

        assert client.options.write_concern.document == {"w": "majority", "j": True}
        assert client.options.read_preference == ReadPreference.PRIMARY
        assert client.options.read_concern.level == "majority"
        client.close()

    def test_the_url_s_own_timeouts_are_kept(self) -> None:
        url = "mongodb://db.invalid:27017/sales?serverSelectionTimeoutMS=1500&connectTimeoutMS=700&timeoutMS=2500"
        client = MongoStore.from_url(url).client

        assert client.options.server_selection_timeout == 1.5
        assert client.options.pool_options.connect_timeout == 0.7
        assert client.options.timeout == 2.5
        client.close()

    def test_option_names_in_the_url_are_case_insensitive(self) -> None:
        client = MongoStore.from_url("mongodb://db.invalid:27017/sales?timeoutms=2500").client

        assert client.options.timeout == 2.5
        client.close()

    def test_every_transaction_runs_with_majority_snapshot_and_primary(self) -> None:
        assert TRANSACTION_OPTIONS["write_concern"].document == {"w": "majority", "j": True}
        assert TRANSACTION_OPTIONS["read_concern"].level == "snapshot"
        assert TRANSACTION_OPTIONS["read_preference"] == ReadPreference.PRIMARY


class TestIndexes:
    def test_unique_and_ttl_indexes_exist_and_creating_them_again_changes_nothing(self, store: MongoStore) -> None:
        first = store.init_indexes()
        again = store.init_indexes()

        orders = store.db["orders"].index_information()
        idempotency = store.db["idempotency"].index_information()
        assert first == again
        assert not orders["by_number"].get("unique")  # unique through order_numbers (the sharding plan)
        assert store.db["customers"].index_information()["code_unique"]["unique"] is True
        assert store.db["users"].index_information()["mobile_unique"]["unique"] is True
        assert store.db["products"].index_information()["sku_unique"]["unique"] is True
        assert idempotency["expiry_ttl"]["expireAfterSeconds"] == 0
        assert list(store.db["outbox"].index_information()["due"]["key"])[:2] == [("status", 1), ("next_attempt_at", 1)]
        assert store.missing_indexes() == []

    def test_every_shard_key_of_the_plan_has_its_index(self, store: MongoStore) -> None:
        """Finding 11: the sharding plan in docs/operations.md names shard keys that `crm db init` indexes (a
        collection is sharded on an existing index), and no sharded collection keeps a unique index that does
        not start with its shard key."""
        plan = re.findall(r'sh\.shardCollection\("crm\.(\w+)", \{(\w+): "hashed"\}\)', OPERATIONS.read_text())
        store.init_indexes()

        assert {collection for collection, _ in plan} >= {"orders", "credit", "order_numbers"}
        for collection, field in plan:
            indexes = store.db[collection].index_information()
            assert [(field, "hashed")] in [list(index["key"]) for index in indexes.values()], collection
            for name, index in indexes.items():
                if index.get("unique") and name != "_id_":
                    assert next(iter(index["key"]))[0] == field, f"{collection}.{name} cannot be unique when sharded"

    def test_a_database_from_before_the_plan_moves_its_numbers_to_order_numbers(self, store: MongoStore) -> None:
        store.db["orders"].create_index("number", unique=True, name="number_unique")
        store.db["orders"].insert_one({"_id": "o-1", "number": "SO-2026-000001"})

        store.init_indexes()

        assert "number_unique" not in store.db["orders"].index_information()
        assert store.db["order_numbers"].find_one({"_id": "SO-2026-000001"}) == {
            "_id": "SO-2026-000001",
            "order_id": "o-1",
        }

    def test_crm_db_init_builds_without_a_deadline(self, store: MongoStore, monkeypatch: pytest.MonkeyPatch) -> None:
        """Finding 8: index builds ran under a 30 s socket timeout. The client's `timeoutMS` does not apply to
        `init_indexes` (a build on a large collection takes what it takes)."""
        from pymongo import _csot

        collection = type(store.db["orders"])
        create_indexes = collection.create_indexes
        deadlines: list[tuple[float | None, float | None]] = []

        def timed(self: Any, indexes: Any, *args: Any, **kwargs: Any) -> Any:
            deadlines.append((_csot.get_timeout(), _csot.remaining()))
            return create_indexes(self, indexes, *args, **kwargs)

        monkeypatch.setattr(collection, "create_indexes", timed)
        store.init_indexes()

        # 0 set in the block (pymongo applies the client's timeoutMS only where none is set), no deadline left
        assert deadlines and set(deadlines) == {(0, None)}

    def test_no_unit_of_work_builds_an_index(self, store: MongoStore) -> None:
        """Finding 8: the first unit of work of a URL-built store created every index under a 30 s socket
        timeout (the old store did so from `from_url`; this test uses the new start check and was not run
        against it)."""
        store._checked = False  # as built from a URL: the first unit of work checks
        with pytest.raises(StoreNotReady, match=r"lacks indexes \(users\.mobile_unique, .*\); run `crm db init`"):
            store(read_only=True)

        assert store.db["orders"].index_information() == {}


class TestStartCheck:
    def test_a_standalone_server_is_refused_with_one_line(
        self, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store.init_indexes()
        monkeypatch.setattr(store, "hello", lambda: {"ok": 1.0, "isWritablePrimary": True})

        with pytest.raises(StoreNotReady) as refused:
            store.check()

        assert "standalone" in str(refused.value) and "replica set" in str(refused.value)
        assert "\n" not in str(refused.value)

    def test_a_failed_check_is_not_remembered(self, store: MongoStore, monkeypatch: pytest.MonkeyPatch) -> None:
        """Finding 1: one transient error at the first commit cached "no transactions" for the life of the
        process (the old `supports_transactions` was a cached_property; this test uses the new start check and
        was not run against it)."""
        store.init_indexes()
        store._checked = False
        monkeypatch.setattr(store, "hello", _down)
        with pytest.raises(UpstreamUnavailable):
            store(read_only=True)

        monkeypatch.undo()
        with store(read_only=True) as uow:  # checked again, and served
            assert uow.users.get("u-1") is None

    def test_a_replica_set_member_or_mongos_passes(self, store: MongoStore, monkeypatch: pytest.MonkeyPatch) -> None:
        store.init_indexes()
        for hello in ({"setName": "rs0"}, {"msg": "isdbgrid"}):
            monkeypatch.setattr(store, "hello", lambda hello=hello: {"ok": 1.0, **hello})
            store.check()

    def test_crm_serve_and_worker_refuse_to_start_on_a_store_that_is_not_ready(
        self, store: MongoStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from entrypoints.bootstrap import bootstrap
        from entrypoints.cli import serve, worker

        container = bootstrap(Settings(data_dir=tmp_path, database_url="mongodb://127.0.0.1/crm"), uow=store)
        for command in (serve, worker):
            monkeypatch.setattr(command, "container", lambda: container)
        monkeypatch.setattr(worker, "configure", lambda level: None)  # this process's logging stays pytest's
        # what `crm serve` sets up for its workers before the check: put back afterwards
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
        umask = os.umask(0o022)
        os.umask(umask)
        with pytest.raises(StoreNotReady, match="run `crm db init`"):
            serve.serve()
        os.umask(umask)
        with pytest.raises(StoreNotReady, match="run `crm db init`"):
            worker.worker()

    def test_readiness_says_what_is_missing(self, store: MongoStore, tmp_path: Path) -> None:
        from litestar.testing import TestClient

        from entrypoints.bootstrap import bootstrap
        from entrypoints.http.app import create_app

        store._checked = False  # as built from a URL, and `crm db init` never ran
        settings = Settings(data_dir=tmp_path, database_url="mongodb://127.0.0.1/crm", jwt_secret="x" * 48)  # type: ignore[arg-type]
        with TestClient(create_app(bootstrap(settings, uow=store))) as client:
            ready = client.get("/health/ready")

        assert ready.status_code == 503
        assert ready.json()["checks"]["store"].startswith("failed: StoreNotReady: MongoDB database")
        assert ready.json()["checks"]["store"].endswith("run `crm db init`")


def _down() -> Any:
    raise ServerSelectionTimeoutError("no primary")


class TestTransactions:
    def test_a_commit_of_several_documents_runs_in_one_transaction(self, store: MongoStore) -> None:
        store.init_indexes()
        before = mongo.STATS.committed

        write(store, lambda uow: (uow.credit.add(an_account()), uow.audit.add(an_audit_entry())))

        assert store.db["credit"].count_documents({}) == 1
        if mongo.URI is None:
            assert mongo.STATS.committed == before + 1

    @pytest.mark.skipif(mongo.URI is not None, reason="the shim's own check: a real server has no shim")
    def test_the_shim_refuses_a_write_with_a_session_outside_its_transaction(self, store: MongoStore) -> None:
        with store.client.start_session() as session, pytest.raises(AssertionError, match="outside its transaction"):
            store.db["users"].insert_one({"_id": "u-1"}, session=session)

    @pytest.mark.skipif(mongo.URI is not None, reason="the shim's own check: a real server has no shim")
    def test_the_shim_refuses_a_write_without_the_session_while_a_transaction_runs(self, store: MongoStore) -> None:
        from tests.mongo import TRANSACTION_CHECKED_OPTIONS

        with store.client.start_session() as session, pytest.raises(AssertionError, match="without the session"):
            session.with_transaction(
                lambda s: store.db["users"].insert_one({"_id": "u-1"}), **TRANSACTION_CHECKED_OPTIONS
            )
        assert store.db["users"].count_documents({}) == 0

    @pytest.mark.skipif(mongo.URI is not None, reason="the shim's own check: a real server has its own $$NOW")
    def test_the_shims_server_time_is_the_clock_given_to_the_database(self) -> None:
        clock = FixedClock(datetime(2026, 11, 2, 9, 30, 0, 123456, tzinfo=UTC))
        with mongo.fresh_database(server_clock=clock) as (client, name):
            docs = client[name]["outbox"]
            docs.insert_one({"_id": "m-1"})
            docs.update_one({"_id": "m-1"}, [{"$set": {"until": {"$add": ["$$NOW", 1500]}}}])
            until = docs.find_one({"_id": "m-1"})["until"]  # type: ignore[index]
            before = docs.count_documents({"$expr": {"$lt": ["$until", "$$NOW"]}})
            mongo.pass_server_time(clock, timedelta(seconds=2))
            after = docs.count_documents({"$expr": {"$lt": ["$until", "$$NOW"]}})

        assert until == datetime(2026, 11, 2, 9, 30, 1, 623000, tzinfo=UTC)  # milliseconds, as a BSON date
        assert (before, after) == (0, 1)


class TestGridFs:
    def test_replacing_a_file_keeps_one_revision_with_its_content_type(self, store: MongoStore) -> None:
        files = GridFsFileStore(store.db)
        files.put("orders/O-1/A-1", b"first", "text/plain")
        files.put("orders/O-1/A-1", b"second", "application/pdf")

        stored = list(store.db["attachments.files"].find({"filename": "orders/O-1/A-1"}))

        assert [doc["metadata"]["contentType"] for doc in stored] == ["application/pdf"]
        assert store.db["attachments.chunks"].count_documents({"files_id": stored[0]["_id"]}) == 1
        assert files.get("orders/O-1/A-1") == b"second"


class TestServerDown:
    """A MongoDB that cannot be reached is a dependency down (503, retried), never an internal error."""

    @staticmethod
    def _unreachable() -> MongoStore:
        client: MongoClient[dict[str, Any]] = MongoClient(
            "mongodb://127.0.0.1:1/", serverSelectionTimeoutMS=300, connectTimeoutMS=300, tz_aware=True
        )
        return MongoStore(client, "crm")

    def test_a_unit_of_work_reports_upstream_unavailable(self) -> None:
        store = self._unreachable()
        with pytest.raises(UpstreamUnavailable), store(read_only=True) as uow:
            uow.users.get("u-1")

    def test_the_api_answers_503_problem_details(self, tmp_path: Path) -> None:
        from litestar.testing import TestClient

        from entrypoints.bootstrap import bootstrap
        from entrypoints.http.app import create_app

        settings = Settings(data_dir=tmp_path, database_url="mongodb://127.0.0.1:1/crm", jwt_secret="x" * 48)  # type: ignore[arg-type]
        with TestClient(create_app(bootstrap(settings, uow=self._unreachable()))) as client:
            answer = client.post("/api/v1/auth/otp/request", json={"mobile": "+919876543210"})
            ready = client.get("/health/ready")

        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "upstream_unavailable"
        assert ready.status_code == 503
