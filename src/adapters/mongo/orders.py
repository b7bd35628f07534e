"""Orders on MongoDB: one document per order (lines, history, credit decision, attachments inside), with the
fields that lists and lookups filter on at the top level; order numbers from a per-year counter document."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from adapters.epoch_micros import micros
from adapters.mongo.base import MongoRepository
from adapters.mongo.query import Filter
from adapters.mongo.tx import Op, StagedWrite
from crm_domain.errors import DuplicateKey
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import Page, PageRequest

#: One document per order number (`_id`), so that numbers stay unique when orders are sharded by customer.
NUMBERS = "order_numbers"


class MongoOrderRepository(MongoRepository):
    collection = "orders"

    def get(self, order_id: str) -> Order | None:
        return self._get(Order, order_id)

    def get_by_number(self, number: str) -> Order | None:
        found = self._find(Order, {"number": number}, limit=1)
        return found[0] if found else None

    def add(self, order: Order) -> None:
        if self._tx.get(self.collection, order.id) is not None:
            raise DuplicateKey("order", "id", order.id)
        if self._tx.find(self.collection, {"number": order.number}, limit=1) or self._tx.get(NUMBERS, order.number):
            raise DuplicateKey("order", "number", order.number)
        self._stage(Op.INSERT, self._doc(order.id, order, **_extra(order)))
        # The number's own document keeps numbers unique on a cluster where orders are sharded by customer
        # (a unique index there must start with the shard key): written in the same transaction as the order.
        self._tx.stage(StagedWrite(collection=NUMBERS, id=order.number, op=Op.INSERT, doc={"order_id": order.id}))
        self._tx.seen.note(order)

    def save(self, order: Order) -> None:
        self._save_versioned("order", order.id, order, **_extra(order))
        self._tx.seen.note(order)

    def page(self, page: PageRequest, query: OrderQuery) -> Page[Order]:
        return self._page(Order, _filter(query), [("created_at", -1), ("_id", -1)], (int, str), page)

    def held_for_customer(self, customer_id: str) -> list[Order]:
        query = {"customer_id": customer_id, "status": OrderStatus.ON_CREDIT_HOLD.value}
        return self._find(Order, query, [("hold_key", 1), ("number", 1)])

    def with_status(self, customer_id: str, statuses: frozenset[OrderStatus]) -> list[Order]:
        query = {"customer_id": customer_id, "status": {"$in": sorted(s.value for s in statuses)}}
        return self._find(Order, query, [("created_at", 1), ("number", 1)])

    def next_number(self, year: int) -> int:
        """Atomic `$inc` on the year's counter, at once (a counter cannot wait for the commit without making
        every concurrent create conflict); a unit of work that ends without committing gives its numbers
        back while no later number was taken."""
        doc = self._tx.db["sequences"].find_one_and_update(
            {"_id": f"order:{year}"}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        if doc is None:  # pragma: no cover - an upsert always returns the document
            raise RuntimeError(f"the order-number counter of {year} was not written")
        value = int(doc["value"])
        self._tx.numbers.append((f"order:{year}", value))
        return value


def _extra(order: Order) -> dict[str, Any]:
    """Top-level fields for the held-orders sort: the hold time, or the creation time when there is none."""
    return {"hold_key": micros(order.held_at or order.created_at)}


def _filter(query: OrderQuery) -> Filter:
    result: Filter = {}
    if query.customer_ids is not None:
        result["customer_id"] = {"$in": sorted(query.customer_ids)}
    if query.customer_id is not None:
        result = (
            {"$and": [result, {"customer_id": query.customer_id}]} if result else {"customer_id": query.customer_id}
        )
    if query.status is not None:
        result["status"] = query.status.value
    if query.rep_id is not None:
        result["rep_id"] = query.rep_id
    created: dict[str, int] = {}
    if query.created_from is not None:
        created["$gte"] = micros(query.created_from)
    if query.created_to is not None:
        created["$lt"] = micros(query.created_to)
    if created:
        result["created_at"] = created
    if query.updated_since is not None:
        result["updated_at"] = {"$gte": micros(query.updated_since)}
    return result
