"""What one unit of work has read and staged. Writes are kept here until `commit()`, and reads see them:
`get` and `find` answer from the stored documents overlaid with the staged ones, so a unit of work sees its
own uncommitted changes while other units of work see none of them.

Every stored document has a version: `version` for the aggregates that carry one (orders, credit accounts),
`_v` (kept by this adapter alone) for the others. The first version of a document that a unit of work reads
is remembered, and the commit writes the document only while it is still that version (see commit.py), so a
document that someone else changed in between is `ConcurrentUpdate`, never a lost update.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs
from pymongo.database import Database

from adapters.mongo.query import Filter, Sort, matches, sort_key
from crm_domain.ports import Clock
from crm_domain.seen import SeenAggregates

#: The version field of the documents whose domain objects have none.
TRACKED_VERSION = "_v"


class Op(StrEnum):
    INSERT = "insert"  # a new document: a duplicate `_id` or unique key is `DuplicateKey`
    CREATE = "create"  # a document that was not there when read: a duplicate `_id` is `ConcurrentUpdate`
    CAS = "cas"  # replace only while the stored version is `expected`; else `ConcurrentUpdate`
    DELETE = "delete"


@attrs.define
class StagedWrite:
    """One document write staged in a `MongoTx`, applied at commit."""

    collection: str
    id: Any
    op: Op
    doc: dict[str, Any] | None = None
    expected: Any = None  # CAS only: the version (or lease token) the stored document must still have
    version_field: str = "version"  # CAS only: which field holds the version


@attrs.define
class Increment:
    """`$inc` of running totals (performance), applied in the commit's transaction."""

    collection: str
    id: dict[str, Any]
    amounts: dict[str, int]


def hashable(doc_id: Any) -> Hashable:
    """A dict key for an `_id` (compound ids are subdocuments)."""
    if isinstance(doc_id, dict):
        return tuple(doc_id.items())
    return doc_id  # type: ignore[no-any-return]


class MongoTx:
    def __init__(
        self, db: Database[dict[str, Any]], clock: Clock | None, leases: dict[str, tuple[str, int]] | None = None
    ) -> None:
        self.db = db
        #: The outbox leases this process holds, shared by its units of work: message id -> (token, until).
        self.leases: dict[str, tuple[str, int]] = {} if leases is None else leases
        self.leases_ended: list[str] = []  # leases to forget once this unit of work has committed
        self.clock = clock
        self.writes: dict[str, dict[Hashable, StagedWrite]] = {}
        self.increments: list[Increment] = []
        self.numbers: list[tuple[str, int]] = []  # sequence values taken since the last commit
        self.seen = SeenAggregates()  # the aggregates added or saved: their events go to the outbox at commit
        #: The tracked version (`_v`) first read of each document, None when it was not there.
        self.versions: dict[tuple[str, Hashable], int | None] = {}

    def now(self) -> datetime | None:
        """The store clock's time (for expiry), or None when the store has no clock."""
        return None if self.clock is None else self.clock.now()

    # --- reading through the overlay ----------------------------------------------------------------------

    def staged(self, collection: str, doc_id: Any) -> StagedWrite | None:
        return self.writes.get(collection, {}).get(hashable(doc_id))

    def get(self, collection: str, doc_id: Any) -> dict[str, Any] | None:
        write = self.staged(collection, doc_id)
        if write is not None:
            return None if write.op is Op.DELETE else dict(write.doc or {})
        doc = self.db[collection].find_one({"_id": doc_id})
        self.versions.setdefault((collection, hashable(doc_id)), None if doc is None else doc.get(TRACKED_VERSION, 0))
        return doc

    def find(self, collection: str, query: Filter, sort: Sort | None = None, limit: int = 0) -> list[dict[str, Any]]:
        """Stored documents matching `query`, with this unit of work's staged writes applied, sorted by `sort`
        (one direction) and cut at `limit` (0: no limit)."""
        staged = self.writes.get(collection, {})
        extra = len(staged)
        fetch = limit + extra if limit else 0
        found = list(self.db[collection].find(query, sort=sort, limit=fetch))
        for doc in found:
            self.versions.setdefault((collection, hashable(doc["_id"])), doc.get(TRACKED_VERSION, 0))
        if not staged:
            return found
        docs = [doc for doc in found if hashable(doc["_id"]) not in staged]
        docs.extend(
            dict(w.doc)
            for w in staged.values()
            if w.op is not Op.DELETE and w.doc is not None and matches(w.doc, query)
        )
        if sort:
            docs.sort(key=sort_key(sort), reverse=sort[0][1] < 0)
        return docs[:limit] if limit else docs

    def read_version(self, collection: str, doc_id: Any) -> int | None:
        """The tracked version of the document as this unit of work first read it (read now if it was not),
        None when it did not exist."""
        key = (collection, hashable(doc_id))
        if key not in self.versions:
            stored = self.db[collection].find_one({"_id": doc_id}, {TRACKED_VERSION: 1})
            self.versions[key] = None if stored is None else stored.get(TRACKED_VERSION, 0)
        return self.versions[key]

    # --- staging ------------------------------------------------------------------------------------------

    def stage(self, write: StagedWrite) -> None:
        """Keep `write` for the commit, merged with an earlier write of the same document."""
        table = self.writes.setdefault(write.collection, {})
        key = hashable(write.id)
        earlier = table.get(key)
        table[key] = write if earlier is None else _merge(earlier, write)
        if table[key].op is Op.DELETE and earlier is not None and earlier.op in (Op.INSERT, Op.CREATE):
            del table[key]  # inserted and deleted in the same unit of work: nothing to write

    def increment(self, increment: Increment) -> None:
        self.increments.append(increment)

    def clear(self) -> None:
        self.writes.clear()
        self.increments.clear()
        self.versions.clear()
        self.leases_ended.clear()
        self.seen.forget()

    def all_writes(self) -> list[StagedWrite]:
        return [w for table in self.writes.values() for w in table.values()]


def _merge(earlier: StagedWrite, later: StagedWrite) -> StagedWrite:
    if later.op is Op.DELETE:
        return attrs.evolve(later, expected=earlier.expected if later.expected is None else later.expected)
    if earlier.op in (Op.INSERT, Op.CREATE):
        return attrs.evolve(later, op=earlier.op, expected=None)
    if earlier.op is Op.CAS and later.op is Op.CAS:
        return attrs.evolve(later, expected=earlier.expected)
    if earlier.op is Op.DELETE:
        return attrs.evolve(later, op=Op.CREATE, expected=None)
    return later
