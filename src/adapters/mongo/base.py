"""What the MongoDB repositories share: documents of domain objects, staging writes, keyset pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from adapters.mongo.codec import decode, encode
from adapters.mongo.query import Filter, Sort, after_cursor, conjunction, next_cursor
from adapters.mongo.tx import TRACKED_VERSION, MongoTx, Op, StagedWrite
from crm_domain.errors import ConcurrentUpdate
from crm_domain.records import Page, PageRequest

T = TypeVar("T")


class MongoRepository:
    collection = ""

    def __init__(self, tx: MongoTx) -> None:
        self._tx = tx

    def _doc(self, doc_id: Any, entity: object, **extra: Any) -> dict[str, Any]:
        return {"_id": doc_id, **encode(entity), **extra}

    def _get(self, cls: type[T], doc_id: Any) -> T | None:
        doc = self._tx.get(self.collection, doc_id)
        return None if doc is None else decode(cls, doc)

    def _find(self, cls: type[T], query: Filter, sort: Sort | None = None, limit: int = 0) -> list[T]:
        return [decode(cls, doc) for doc in self._tx.find(self.collection, query, sort, limit)]

    def _stage(self, op: Op, doc: dict[str, Any]) -> None:
        self._tx.stage(StagedWrite(collection=self.collection, id=doc["_id"], op=op, doc=doc))

    def _save_tracked(self, doc: dict[str, Any]) -> None:
        """Stage `doc` (a domain object without a version of its own) as a write conditional on the tracked
        version (`_v`) this unit of work read: a create when it was not there, else a replace while the stored
        version is still the one read (`ConcurrentUpdate` at commit when it moved on)."""
        doc_id = doc["_id"]
        staged = self._tx.staged(self.collection, doc_id)
        if staged is not None and staged.op in (Op.INSERT, Op.CREATE):
            self._stage(staged.op, {**doc, TRACKED_VERSION: 1})
            return
        read = self._tx.read_version(self.collection, doc_id)
        if read is None:
            self._stage(Op.CREATE, {**doc, TRACKED_VERSION: 1})
            return
        self._tx.stage(
            StagedWrite(
                collection=self.collection,
                id=doc_id,
                op=Op.CAS,
                doc={**doc, TRACKED_VERSION: read + 1},
                expected=read,
                version_field=TRACKED_VERSION,
            )
        )

    def _insert_tracked(self, doc: dict[str, Any]) -> None:
        """Stage a new document (version 1); a duplicate `_id` or unique key is `DuplicateKey` at commit."""
        self._stage(Op.INSERT, {**doc, TRACKED_VERSION: 1})

    def _save_versioned(self, kind: str, doc_id: str, entity: Any, **extra: Any) -> None:
        """Stage a replace conditional on the version read; `ConcurrentUpdate` now when it already moved on."""
        stored = self._tx.get(self.collection, doc_id)
        expected = entity.version
        if stored is None or stored.get("version") != expected:
            raise ConcurrentUpdate(kind, doc_id)
        entity.version = expected + 1
        try:
            doc = self._doc(doc_id, entity, **extra)
        except BaseException:
            entity.version = expected
            raise
        self._tx.stage(StagedWrite(collection=self.collection, id=doc_id, op=Op.CAS, doc=doc, expected=expected))

    def _page(
        self,
        cls: type[T],
        query: Filter,
        sort: Sort,
        types: tuple[type, ...],
        page: PageRequest,
        decode_doc: Callable[[dict[str, Any]], T] | None = None,
    ) -> Page[T]:
        """One page of `query` in `sort` order (keys as typed in `types`), continuing after `page.cursor`."""
        docs = self._tx.find(
            self.collection, conjunction(query, after_cursor(page.cursor, sort, types)), sort, page.limit + 1
        )
        more = len(docs) > page.limit
        docs = docs[: page.limit]
        items = [decode_doc(doc) if decode_doc else decode(cls, doc) for doc in docs]
        return Page(items=items, next_cursor=next_cursor(docs[-1], sort) if more else None)
