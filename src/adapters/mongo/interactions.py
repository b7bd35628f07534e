"""The call log on MongoDB (SPEC §2.8). Finding a caller is the one text search (adapters/mongo/search.py)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel

from adapters.epoch_micros import micros
from adapters.mongo.base import MongoRepository
from adapters.mongo.query import Filter
from crm_domain.errors import DuplicateKey
from crm_domain.interactions import Interaction
from crm_domain.records import Page, PageRequest

#: Added to the store's INDEXES (what `crm db init` creates).
INTERACTION_INDEXES = [
    IndexModel([("customer_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name="by_customer")
]


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
