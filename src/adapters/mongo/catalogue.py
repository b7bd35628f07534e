"""Products on MongoDB, one document per SKU (`_id` is the SKU)."""

from __future__ import annotations

from datetime import datetime

from adapters.mongo.base import MongoRepository
from adapters.mongo.query import conjunction
from adapters.mongo.search import name_words, text_filter, updated_since_filter
from crm_domain.errors import DuplicateKey
from crm_domain.products import Product
from crm_domain.records import Page, PageRequest
from crm_domain.search import TextQuery


class MongoProductRepository(MongoRepository):
    collection = "products"

    def get(self, sku: str) -> Product | None:
        return self._get(Product, sku)

    def get_many(self, skus: list[str]) -> dict[str, Product]:
        found = {p.sku: p for p in self._find(Product, {"_id": {"$in": sorted(set(skus))}})}
        return {sku: found[sku] for sku in skus if sku in found}

    def add(self, product: Product) -> None:
        if self._tx.get(self.collection, product.sku) is not None:
            raise DuplicateKey("product", "sku", product.sku)
        self._insert_tracked(self._doc(product.sku, product, name_words=name_words(product.name)))

    def save(self, product: Product) -> None:
        self._save_tracked(self._doc(product.sku, product, name_words=name_words(product.name)))

    def upsert_many(self, products: list[Product]) -> int:
        for product in products:
            self.save(product)
        return len(products)

    def page(
        self,
        page: PageRequest,
        *,
        active_only: bool = False,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Product]:
        found = conjunction(
            {"active": True} if active_only else {},
            {} if text is None else text_filter(text, code_field="_id", by_mobile=False),
            updated_since_filter(updated_since),
        )
        return self._page(Product, found, [("_id", 1)], (str,), page)
