"""MongoDB for tests: the server at `CRM_TEST_MONGODB_URI` when set, else mongomock (in process). Test ids and
the report header say which (`mongo-uri` / `mongo-mongomock`). Each user gets a fresh database, dropped after."""

from __future__ import annotations

import os
import types
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import MongoClient

URI = os.environ.get("CRM_TEST_MONGODB_URI") or None
MODE = "uri" if URI else "mongomock"
ID = f"mongo-{MODE}"


def describe() -> str:
    """One line for the pytest report header."""
    if URI is None:
        return "mongo: mongomock (in process; set CRM_TEST_MONGODB_URI to test against a MongoDB server)"
    return "mongo: the server at CRM_TEST_MONGODB_URI"


def client() -> MongoClient[dict[str, Any]]:
    if URI is not None:
        return MongoClient(URI, tz_aware=True, serverSelectionTimeoutMS=5_000, connectTimeoutMS=5_000)
    import mongomock
    import mongomock.gridfs

    mongomock.gridfs.enable_gridfs_integration()
    mock = mongomock.MongoClient(tz_aware=True)
    # pymongo's GridFSBucket reads `client.options.timeout`, which mongomock lacks (it would be a database).
    mock.options = types.SimpleNamespace(timeout=None)
    return mock  # type: ignore[no-any-return]


@contextmanager
def fresh_database() -> Iterator[tuple[MongoClient[dict[str, Any]], str]]:
    """A client and the name of a database no other test uses; the database is dropped afterwards."""
    mongo = client()
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    try:
        yield mongo, name
    finally:
        mongo.drop_database(name)
        mongo.close()
