"""MongoDB: customers and products stored before the search had `name_words` get them from `crm db init`
(`MongoStore.init_indexes`), so the search by words of the name (`q`, the caller lookup) finds them too."""

from __future__ import annotations

from adapters.mongo import MongoStore
from crm_domain.records import PageRequest
from crm_domain.scope import Scope
from crm_domain.search import TextQuery
from tests import mongo
from tests.contract.builders import a_customer, a_product, read, write

EVERYONE = Scope(all_customers=True)


def test_init_gives_old_customers_and_products_their_name_words() -> None:
    with mongo.fresh_database() as (client, name):
        store = MongoStore(client, name)
        write(store, lambda uow: uow.customers.add(a_customer("c-1")))  # "Dealer c-1"
        write(store, lambda uow: uow.products.upsert_many([a_product("PMP-1", name="Pump 1 HP")]))
        for collection in ("customers", "products"):  # as stored before
            client[name][collection].update_many({}, {"$unset": {"name_words": ""}})
        dealer, pump = TextQuery.parse("deal"), TextQuery.parse("pump")

        def found() -> tuple[list[str], list[str]]:
            customers = read(store, lambda uow: uow.customers.page(PageRequest(limit=5), EVERYONE, text=dealer))
            products = read(store, lambda uow: uow.products.page(PageRequest(limit=5), text=pump))
            return [c.id for c in customers.items], [p.sku for p in products.items]

        assert found() == ([], [])

        store.init_indexes()

        assert client[name]["customers"].find_one({"_id": "c-1"})["name_words"] == ["1", "c", "dealer"]
        assert client[name]["products"].find_one({"_id": "PMP-1"})["name_words"] == ["1", "hp", "pump"]
        assert found() == (["c-1"], ["PMP-1"])
        store.init_indexes()  # again: nothing left to do, nothing changes
        assert client[name]["customers"].find_one({"_id": "c-1"})["name_words"] == ["1", "c", "dealer"]
