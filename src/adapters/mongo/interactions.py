"""The call log on MongoDB (SPEC §2.8). Finding a caller is the one text search (adapters/mongo/search.py)."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

from adapters.mongo.base import MongoRepository
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

    def page(self, customer_id: str, page: PageRequest) -> Page[Interaction]:
        return self._page(Interaction, {"customer_id": customer_id}, [("at", -1), ("_id", -1)], (int, str), page)
