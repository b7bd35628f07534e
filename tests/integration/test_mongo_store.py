"""The MongoDB store beyond the contract suites: wiring from settings (bounded timeouts, GridFS for
attachments), indexes, transactions detection, and GridFS revisions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from adapters.mongo import GridFsFileStore, MongoStore
from crm_domain.errors import UpstreamUnavailable
from entrypoints.bootstrap import build_files, build_store
from entrypoints.settings import Settings
from tests import mongo


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
        assert (options.pool_options.connect_timeout, options.pool_options.socket_timeout) == (5, 30)
        assert isinstance(build_files(settings, store), GridFsFileStore)
        store.close()

    def test_the_database_defaults_to_crm(self, tmp_path: Path) -> None:
        store = build_store(Settings(database_url="mongodb://db.invalid:27017", data_dir=tmp_path))

        assert isinstance(store, MongoStore)
        assert store.db.name == "crm"
        store.close()


class TestIndexes:
    def test_unique_and_ttl_indexes_exist_and_creating_them_again_changes_nothing(self, store: MongoStore) -> None:
        first = store.init_indexes()
        again = store.init_indexes()

        orders = store.db["orders"].index_information()
        idempotency = store.db["idempotency"].index_information()
        assert first == again
        assert orders["number_unique"]["unique"] is True
        assert store.db["customers"].index_information()["code_unique"]["unique"] is True
        assert store.db["users"].index_information()["mobile_unique"]["unique"] is True
        assert store.db["products"].index_information()["sku_unique"]["unique"] is True
        assert idempotency["expiry_ttl"]["expireAfterSeconds"] == 0
        assert list(store.db["outbox"].index_information()["due"]["key"])[:2] == [("status", 1), ("next_attempt_at", 1)]

    def test_the_first_unit_of_work_creates_the_indexes_when_asked(self) -> None:
        with mongo.fresh_database() as (client, name):
            store = MongoStore(client, name, ensure_indexes=True)
            with store(read_only=True) as uow:
                uow.orders.get("o-1")

            assert "number_unique" in store.db["orders"].index_information()


class TestTransactions:
    def test_the_store_uses_transactions_only_where_the_server_has_them(self, store: MongoStore) -> None:
        hello = None if mongo.URI is None else store.client.admin.command("hello")
        expected = hello is not None and (bool(hello.get("setName")) or hello.get("msg") == "isdbgrid")

        assert store.supports_transactions is expected


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
