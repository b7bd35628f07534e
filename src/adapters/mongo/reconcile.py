"""Making a customer's reservations agree with its orders' states again after a half-done commit: an order in
a reserving state (submitted, confirmed, dispatched) holds exactly one reservation, at the right stage; any
other order holds none. One conditional update of the credit document per customer, retried on conflict."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from adapters.mongo.codec import decode, encode
from adapters.mongo.commit import JOURNAL, KEPT_COMMITS, Db
from crm_domain.credit import CreditAccount, ReservationStage
from crm_domain.orders import RESERVING, Order, OrderStatus

_ATTEMPTS = 20


def reconcile(db: Db, pairs: list[tuple[str, str]], commit_id: str, now: datetime) -> None:
    """Repair the reservations of `(customer, order)` pairs. Orders that another journal (a commit in flight)
    also touches are left to that journal."""
    by_customer: dict[str, set[str]] = defaultdict(set)
    for customer_id, order_id in pairs:
        by_customer[customer_id].add(order_id)
    for customer_id, order_ids in by_customer.items():
        _reconcile_customer(db, customer_id, order_ids, commit_id, now)


def _reconcile_customer(db: Db, customer_id: str, order_ids: set[str], commit_id: str, now: datetime) -> None:
    for _ in range(_ATTEMPTS):
        stored = db["credit"].find_one({"_id": customer_id})
        if stored is None:
            return
        # Read after the account: a commit whose credit write we could miss has its journal in place already.
        busy = {
            touched["order"]
            for journal in db[JOURNAL].find({"_id": {"$ne": commit_id}, "reconcile.order": {"$in": sorted(order_ids)}})
            for touched in journal["reconcile"]
        }
        account = decode(CreditAccount, stored)
        changed = False
        for order_id in sorted(order_ids - busy):
            doc = db["orders"].find_one({"_id": order_id})
            order = None if doc is None else decode(Order, doc)
            changed |= _repair(account, order_id, order, now)
        if not changed:
            return
        expected = account.version
        account.version = expected + 1
        body: dict[str, Any] = encode(account)
        result = db["credit"].update_one(
            {"_id": customer_id, "version": expected},
            {"$set": body, "$push": {"commits": {"$each": [f"reconcile:{commit_id}"], "$slice": -KEPT_COMMITS}}},
        )
        if result.matched_count == 1:
            return


def _repair(account: CreditAccount, order_id: str, order: Order | None, now: datetime) -> bool:
    reservation = account.reservations.get(order_id)
    if order is None or order.status not in RESERVING:
        return account.release(order_id) > 0
    changed = False
    if reservation is None:
        account.reserve(order_id, order.total, order.submitted_at or now, by_release=True)
        changed = True
    dispatched = order.status is OrderStatus.DISPATCHED
    if dispatched and account.reservations[order_id].stage is not ReservationStage.DISPATCHED:
        account.mark_dispatched(order_id)
        changed = True
    return changed
