"""The call log on MongoDB, and what finds a caller among the customers (SPEC §2.8, §12).

Customers carry `name_words` (the case-folded words of their name, written with the customer by
`MongoCustomerRepository`), so a search by words of the name is an anchored regex on a multikey index; mobile
prefixes are index ranges; a code prefix in any case is an anchored case-insensitive regex on the code index.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection

from adapters.epoch_micros import micros
from adapters.mongo.base import MongoRepository
from adapters.mongo.codec import decode
from adapters.mongo.query import Filter
from crm_domain.customers import Customer, CustomerSearch
from crm_domain.errors import DuplicateKey
from crm_domain.interactions import Interaction
from crm_domain.records import Page, PageRequest

_WORD = re.compile(r"[^\W_]+")
_TOP = "\U0010ffff"

#: Added to the store's INDEXES (what `crm db init` creates).
INTERACTION_INDEXES = [
    IndexModel([("customer_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name="by_customer")
]
CUSTOMER_LOOKUP_INDEXES = [
    IndexModel([("mobile", ASCENDING)], name="by_mobile"),
    IndexModel([("name_words", ASCENDING)], name="by_name_words"),
]


def name_words(name: str) -> list[str]:
    """The words of a customer's name as stored in `name_words`."""
    return sorted(set(_WORD.findall(name.casefold())))


def search_filter(search: CustomerSearch) -> Filter | None:
    """The filter of customers matching `search` (None when nothing can match)."""
    either: list[Filter] = [{"mobile": {"$gte": p, "$lt": p + _TOP}} for p in search.mobile_prefixes]
    if search.code_prefix:
        either.append({"code": {"$regex": "^" + re.escape(search.code_prefix), "$options": "i"}})
    if search.name_words:
        either.append({"$and": [{"name_words": {"$regex": "^" + re.escape(w)}} for w in search.name_words]})
    return {"$or": either} if either else None


def search_customers(
    customers: Collection[dict[str, Any]], search: CustomerSearch, scope_filter: Filter, limit: int
) -> list[Customer]:
    """Committed customers only (the portal searches in a read-only unit of work)."""
    query = search_filter(search)
    if query is None:
        return []
    docs = list(customers.find({"$and": [query, scope_filter]}, sort=[("code", ASCENDING)], limit=limit))
    return [decode(Customer, doc) for doc in docs]


class MongoInteractionRepository(MongoRepository):
    collection = "interactions"

    def add(self, interaction: Interaction) -> None:
        if self._tx.get(self.collection, interaction.id) is not None:
            raise DuplicateKey("interaction", "id", interaction.id)
        self._insert_tracked(self._doc(interaction.id, interaction))

    def page(self, customer_id: str, page: PageRequest, *, updated_since: datetime | None = None) -> Page[Interaction]:
        query: Filter = {"customer_id": customer_id}
        if updated_since is not None:  # a range of by_customer (customer_id, at, _id)
            query["at"] = {"$gte": micros(updated_since)}
        return self._page(Interaction, query, [("at", -1), ("_id", -1)], (int, str), page)


def backfill_name_words(customers: Collection[dict[str, Any]]) -> int:
    """Give `name_words` to the customers stored before the lookup existed (run by `crm db init`); returns how
    many. A customer renamed meanwhile is left to the rename, which writes its words itself."""
    filled = 0
    for doc in customers.find({"name_words": {"$exists": False}}, {"name": 1}):
        done = customers.update_one(
            {"_id": doc["_id"], "name": doc["name"], "name_words": {"$exists": False}},
            {"$set": {"name_words": name_words(doc["name"])}},
        )
        filled += done.modified_count
    return filled
