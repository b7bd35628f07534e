"""The reports' aggregates on MongoDB (SPEC §2.8): sales buckets changed by `$inc` in the commit that changes the
orders, held orders, and the customers' ERP ledger.

The buckets go through the commit path as `Increment`s staged in the unit of work (`MongoTx.increment`) and are
applied inside the same transaction as the orders. The one hook into the commit is in `MongoUnitOfWork.commit`
(store.py).

No roll-up is kept here (the embedded store keeps three, decision 0022): every order with a popular SKU, or
every order of a day, would `$inc` the same roll-up document, and concurrent transactions writing one document
conflict and retry; the server sums the daily buckets with `$group` instead.

The aggregates' version (report cache keys) is the newest outbox message id: every order change writes an event
in the same commit, so it changes whenever a bucket can; no single counter document is written by every commit
(that would make all order transactions conflict with each other).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pymongo import ASCENDING, IndexModel

from adapters.epoch_micros import instant, micros
from adapters.mongo.codec import decode
from adapters.mongo.tx import Increment, MongoTx, Op, StagedWrite
from crm_domain.money import Money
from crm_domain.orders import OrderStatus
from crm_domain.reports import Dimension, HeldOrder, LedgerEntry, SalesQuery, SalesTotal
from crm_domain.sales import ORDER_LEVEL, SalesFigures, SalesKey, SalesMove, sales_deltas

SALES = "sales_buckets"
LEDGER = "ledger"
_FIELDS = ("orders", "quantity", "net", "tax", "total")
_COLUMN = {Dimension.DAY: "day", Dimension.CUSTOMER: "customer_id", Dimension.REP: "rep_id", Dimension.SKU: "sku"}
INDEXES: dict[str, list[IndexModel]] = {
    SALES: [
        IndexModel([("sku", ASCENDING), ("day", ASCENDING)], name="by_day"),
        IndexModel([("sku", ASCENDING), ("customer_id", ASCENDING), ("day", ASCENDING)], name="by_customer"),
    ],
    LEDGER: [IndexModel([("customer_id", ASCENDING), ("at", ASCENDING), ("_id", ASCENDING)], name="by_customer")],
}


def bucket_id(key: SalesKey) -> dict[str, Any]:
    return {
        "sku": key.sku,
        "day": key.day.isoformat(),
        "status": key.status.value,
        "customer_id": key.customer_id,
        "rep_id": key.rep_id,
        "currency": key.currency,
    }


def _figures(doc: dict[str, Any]) -> SalesFigures:
    return SalesFigures(**{name: int(doc.get(name, 0)) for name in _FIELDS})


def _match(query: SalesQuery) -> dict[str, Any]:
    match: dict[str, Any] = {
        "day": {"$gte": query.start.isoformat(), "$lte": query.end.isoformat()},
        "status": {"$in": sorted(s.value for s in query.statuses)},
    }
    if query.skus is not None:
        match["sku"] = {"$in": sorted(query.skus)}
    else:
        match["sku"] = {"$gt": ORDER_LEVEL} if query.lines else ORDER_LEVEL
    if query.customer_ids is not None:
        match["customer_id"] = {"$in": sorted(query.customer_ids)}
    if query.rep_ids is not None:
        match["rep_id"] = {"$in": sorted(query.rep_ids)}
    return match


class MongoReportRepository:
    def __init__(self, tx: MongoTx, tz: ZoneInfo) -> None:
        self._tx = tx
        self._tz = tz

    def record_moves(self, moves: list[SalesMove]) -> None:
        self.apply(sales_deltas(moves, self._tz))

    def apply(self, deltas: dict[SalesKey, SalesFigures]) -> None:
        for key, figures in deltas.items():
            amounts = {name: getattr(figures, name) for name in _FIELDS}
            self._tx.increment(Increment(collection=SALES, id=bucket_id(key), amounts=amounts))

    def totals(self, query: SalesQuery) -> list[SalesTotal]:
        column = _COLUMN[query.dimension]
        pipeline: list[dict[str, Any]] = [
            {"$match": _match(query)},
            {
                "$group": {
                    "_id": {"key": f"${column}", "currency": "$currency"},
                    **{name: {"$sum": f"${name}"} for name in _FIELDS},
                }
            },
        ]
        rows = [
            SalesTotal(doc["_id"]["key"], doc["_id"]["currency"], _figures(doc))
            for doc in self._tx.db[SALES].aggregate(pipeline)
        ]
        return sorted(rows, key=lambda r: (r.key, r.currency))

    def buckets(self) -> dict[SalesKey, SalesFigures]:
        found: dict[SalesKey, SalesFigures] = {}
        for doc in self._tx.db[SALES].find({}):
            figures = _figures(doc)
            if not figures.is_zero:
                found[_key(doc["_id"])] = figures
        return found

    def replace_buckets(self, buckets: dict[SalesKey, SalesFigures]) -> None:
        # Runs outside the commit path: a rebuild is an operator's one-off (`crm reports rebuild`), best run while
        # nothing else writes; `crm reports check` tells whether it agrees afterwards.
        collection = self._tx.db[SALES]
        collection.delete_many({})
        docs = [
            {"_id": bucket_id(key), **bucket_id(key), **{n: getattr(f, n) for n in _FIELDS}, "tokens": []}
            for key, f in buckets.items()
        ]
        if docs:
            collection.insert_many(docs)

    def summary_differences(self) -> int:
        return 0  # no roll-up kept: reports sum the buckets

    def version(self) -> str:
        newest = self._tx.db["outbox"].find_one({}, sort=[("_id", -1)], projection={"_id": 1})
        return "" if newest is None else str(newest["_id"])

    def holds(self, customer_ids: frozenset[str] | None) -> list[HeldOrder]:
        query: dict[str, Any] = {"status": OrderStatus.ON_CREDIT_HOLD.value}
        if customer_ids is not None:
            query["customer_id"] = {"$in": sorted(customer_ids)}
        docs = self._tx.db["orders"].find(query, projection=_HELD_FIELDS, sort=[("hold_key", 1), ("number", 1)])
        return [_held_order(doc) for doc in docs]

    def hold_counts(self, customer_ids: frozenset[str] | None) -> dict[str, int]:
        match: dict[str, Any] = {"status": OrderStatus.ON_CREDIT_HOLD.value}
        if customer_ids is not None:
            match["customer_id"] = {"$in": sorted(customer_ids)}
        pipeline = [{"$match": match}, {"$group": {"_id": "$customer_id", "n": {"$sum": 1}}}]
        return {doc["_id"]: int(doc["n"]) for doc in self._tx.db["orders"].aggregate(pipeline)}

    def add_entry(self, entry: LedgerEntry) -> None:
        doc = {
            "_id": entry.id,
            "customer_id": entry.customer_id,
            "at": micros(entry.at),
            "kind": entry.kind.value,
            "reference": entry.reference,
            "amount": {"minor": entry.amount.minor, "currency": entry.amount.currency},
        }
        self._tx.stage(StagedWrite(collection=LEDGER, id=entry.id, op=Op.INSERT, doc=doc))

    def entries(self, customer_id: str, until: datetime) -> list[LedgerEntry]:
        docs = self._tx.find(
            LEDGER, {"customer_id": customer_id, "at": {"$lt": micros(until)}}, [("at", 1), ("_id", 1)]
        )
        return [decode(LedgerEntry, doc | {"id": doc["_id"]}) for doc in docs]


_HELD_FIELDS = {
    "number": 1, "customer_id": 1, "currency": 1, "lines.total": 1, "credit.shortfall": 1, "credit.reason": 1,
    "hold_key": 1,
}  # fmt: skip


def _held_order(doc: dict[str, Any]) -> HeldOrder:
    """The holds report's part of an order document (`hold_key`: its hold time, or its creation time)."""
    credit = doc.get("credit")
    return HeldOrder(
        order_id=doc["_id"],
        number=doc["number"],
        customer_id=doc["customer_id"],
        total=Money(sum(int(line["total"]["minor"]) for line in doc["lines"]), doc["currency"]),
        shortfall=None if credit is None else Money(int(credit["shortfall"]["minor"]), credit["shortfall"]["currency"]),
        reason=None if credit is None else credit.get("reason"),
        held_at=instant(int(doc["hold_key"])),
    )


def _key(doc_id: dict[str, Any]) -> SalesKey:
    return SalesKey(
        day=date.fromisoformat(doc_id["day"]),
        status=OrderStatus(doc_id["status"]),
        customer_id=doc_id["customer_id"],
        rep_id=doc_id["rep_id"],
        sku=doc_id["sku"],
        currency=doc_id["currency"],
    )
