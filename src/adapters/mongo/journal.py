"""Commits without a transaction: the journal of a unit of work's writes, finishing it, rolling it back, and
the recovery sweep over journals that a crashed process left behind (see commit.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs

from adapters.epoch_micros import micros
from adapters.mongo.commit import JOURNAL, PHASES, Applier, Db, ordered
from adapters.mongo.reconcile import reconcile
from adapters.mongo.tx import Increment, StagedWrite
from crm_domain.errors import ConcurrentUpdate, DuplicateKey

_CORE = frozenset(name for phase in PHASES[:4] for name in phase)


@attrs.frozen
class Recovered:
    """What a recovery sweep did: journals finished (rolled forward) and rolled back."""

    completed: int = 0
    rolled_back: int = 0


def apply_all(applier: Applier, writes: list[StagedWrite], increments: list[Increment]) -> None:
    """Every write in order (inside a transaction, or a single write that is atomic by itself)."""
    for write in ordered(writes):
        applier.apply(write)
    for i, increment in enumerate(increments):
        applier.increment(increment, f"{applier.commit_id}:{i}")


def commit_journaled(
    db: Db, commit_id: str, writes: list[StagedWrite], increments: list[Increment], now: datetime
) -> None:
    """Record the writes, apply them, and remove the record; a conflict rolls the journal back and is raised."""
    journal = _journal(commit_id, writes, increments, now)
    db[JOURNAL].insert_one(journal)
    applier = Applier(db, commit_id, now)
    try:
        _apply_core(applier, writes, replaying=False)
    except (DuplicateKey, ConcurrentUpdate):
        roll_back(db, journal, now)
        raise
    _finish(applier, journal, writes, increments)


def recover(db: Db, now: datetime, grace: timedelta) -> Recovered:
    """Finish or roll back every journal older than `grace` (younger ones may belong to a live commit)."""
    completed = rolled_back = 0
    for journal in list(db[JOURNAL].find({"at": {"$lt": micros(now - grace)}}, sort=[("at", 1)])):
        if replay(db, journal, now):
            completed += 1
        else:
            rolled_back += 1
    return Recovered(completed=completed, rolled_back=rolled_back)


def replay(db: Db, journal: dict[str, Any], now: datetime) -> bool:
    """Apply what of `journal` has not landed; True when it completed, False when it had to roll back."""
    writes = [StagedWrite.of(doc) for doc in journal["writes"]]
    increments = [Increment(collection=i["c"], id=i["id"], amounts=i["amounts"]) for i in journal["increments"]]
    applier = Applier(db, journal["_id"], now)
    try:
        _apply_core(applier, writes, replaying=True)
    except (DuplicateKey, ConcurrentUpdate):
        roll_back(db, journal, now)
        return False
    _finish(applier, journal, writes, increments)
    return True


def roll_back(db: Db, journal: dict[str, Any], now: datetime) -> None:
    """Undo what a journal's commit may have left half done: its idempotency records go, and the reservations
    of the orders it touched are made to agree with those orders' states."""
    ids = [w["id"] for w in journal["writes"] if w["c"] == "idempotency"]
    if ids:
        db["idempotency"].delete_many({"_id": {"$in": ids}, "pending": journal["_id"]})
    reconcile(db, [(r["customer"], r["order"]) for r in journal["reconcile"]], journal["_id"], now)
    db[JOURNAL].delete_one({"_id": journal["_id"]})


def _apply_core(applier: Applier, writes: list[StagedWrite], *, replaying: bool) -> None:
    for write in ordered(writes):
        if write.collection in _CORE:
            applier.apply(write, pending=True, replaying=replaying)


def _finish(applier: Applier, journal: dict[str, Any], writes: list[StagedWrite], increments: list[Increment]) -> None:
    for write in ordered(writes):
        if write.collection not in _CORE:
            applier.apply(write, replaying=True)
    for i, increment in enumerate(increments):
        applier.increment(increment, f"{applier.commit_id}:{i}")
    applier.complete_idempotency([w.id for w in writes if w.collection == "idempotency"])
    applier.db[JOURNAL].delete_one({"_id": journal["_id"]})


def _journal(commit_id: str, writes: list[StagedWrite], increments: list[Increment], now: datetime) -> dict[str, Any]:
    touched = [
        {"customer": w.doc["customer_id"], "order": w.id}
        for w in writes
        if w.collection == "orders" and w.doc is not None
    ]
    return {
        "_id": commit_id,
        "at": micros(now),
        "writes": [w.to_doc() for w in writes],
        "increments": [{"c": i.collection, "id": i.id, "amounts": i.amounts} for i in increments],
        "reconcile": touched,
    }
