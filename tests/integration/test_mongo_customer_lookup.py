"""MongoDB: customers stored before the caller lookup get their `name_words` from `crm db init`
(`MongoStore.init_indexes`), so the lookup by name finds them too."""

from __future__ import annotations

from adapters.mongo import MongoStore
from crm_domain.customers import CustomerSearch
from crm_domain.scope import Scope
from tests import mongo
from tests.contract.builders import a_customer, read, write


def test_init_gives_old_customers_their_name_words() -> None:
    with mongo.fresh_database() as (client, name):
        store = MongoStore(client, name)
        write(store, lambda uow: uow.customers.add(a_customer("c-1")))  # "Dealer c-1"
        client[name]["customers"].update_one({"_id": "c-1"}, {"$unset": {"name_words": ""}})  # as stored before
        search = CustomerSearch(name_words=("deal",))
        assert read(store, lambda uow: uow.customers.search(search, Scope(all_customers=True), 5)) == []

        store.init_indexes()

        assert client[name]["customers"].find_one({"_id": "c-1"})["name_words"] == ["1", "c", "dealer"]
        found = read(store, lambda uow: uow.customers.search(search, Scope(all_customers=True), 5))
        assert [c.id for c in found] == ["c-1"]
        store.init_indexes()  # again: nothing left to do, nothing changes
        assert client[name]["customers"].find_one({"_id": "c-1"})["name_words"] == ["1", "c", "dealer"]
