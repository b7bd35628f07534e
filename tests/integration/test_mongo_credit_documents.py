"""Credit account documents on MongoDB beyond the contract: the running totals are stored fields (what part of
an account was read is not), and documents written before the totals existed still load, whole or in part."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.mongo import MongoStore
from adapters.mongo.codec import encode
from tests import mongo
from tests.contract.builders import a_reservation, an_account, at, inr, read, write

# an_account(): o-1 open 125.00, o-2 dispatched 300.50, o-3 open 99.99
OPEN, DISPATCHED = 125_00 + 99_99, 300_50


@pytest.fixture
def store() -> Iterator[MongoStore]:
    with mongo.fresh_database() as (client, name):
        yield MongoStore(client, name)


def _document(store: MongoStore, customer_id: str = "c-1") -> dict[str, Any]:
    doc = store.db["credit"].find_one({"_id": customer_id})
    assert doc is not None
    return doc


class TestStoredTotals:
    def test_the_totals_are_stored_and_loaded_is_not(self, store: MongoStore) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))

        doc = _document(store)

        assert (doc["open_total"], doc["dispatched_total"]) == (OPEN, DISPATCHED)
        assert (doc["open_orders"], doc["dispatched"], doc["reserved"]) == (OPEN, DISPATCHED, OPEN + DISPATCHED)
        assert "loaded" not in doc

    def test_a_partly_read_account_is_saved_as_a_whole_document(self, store: MongoStore) -> None:
        write(store, lambda uow: uow.credit.add(an_account()))
        account = read(store, lambda uow: uow.credit.get("c-1", orders=["o-1", "o-4"]))
        assert account is not None
        account.release("o-1")
        account.reserve("o-4", inr(4_00), at(4))

        write(store, lambda uow: uow.credit.save(account))

        doc = _document(store)
        assert sorted(doc["reservations"]) == ["o-2", "o-3", "o-4"]
        assert (doc["open_total"], doc["dispatched_total"]) == (99_99 + 4_00, DISPATCHED)
        assert doc["reserved"] == 99_99 + 4_00 + DISPATCHED
        assert "loaded" not in doc


class TestDocumentsFromBeforeTheTotals:
    @pytest.fixture
    def old(self, store: MongoStore) -> MongoStore:
        doc = {"_id": "c-1", **encode(an_account())}
        del doc["open_total"], doc["dispatched_total"]
        store.db["credit"].insert_one(doc)
        return store

    def test_a_whole_read_sums_the_totals(self, old: MongoStore) -> None:
        assert read(old, lambda uow: uow.credit.get("c-1")) == an_account()

    def test_a_partial_read_has_every_total(self, old: MongoStore) -> None:
        account = read(old, lambda uow: uow.credit.get("c-1", orders=["o-3"]))

        assert account is not None
        assert account.reservations == {"o-3": an_account().reservations["o-3"]}
        assert (account.open_orders, account.dispatched) == (OPEN, DISPATCHED)

    def test_a_save_writes_the_totals(self, old: MongoStore) -> None:
        account = read(old, lambda uow: uow.credit.get("c-1", orders=["o-5"]))
        assert account is not None
        account.reserve("o-5", inr(5_00), at(5))

        write(old, lambda uow: uow.credit.save(account))

        doc = _document(old)
        assert (doc["open_total"], doc["dispatched_total"]) == (OPEN + 5_00, DISPATCHED)
        stored = read(old, lambda uow: uow.credit.get("c-1"))
        assert stored is not None
        assert stored.reservations == {**an_account().reservations, "o-5": a_reservation("o-5", 5_00, minutes=5)}
