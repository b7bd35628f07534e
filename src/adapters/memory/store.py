"""An in-memory store with real transactions: writes go to an overlay that `commit()` applies at once, and
objects are copied in and out so that nothing changes the store behind a unit of work's back."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo

from adapters.memory import repositories as r
from adapters.memory.reports import MemoryReportRepository
from adapters.system import UlidGenerator
from crm_domain.config import DomainConfig
from crm_domain.events import Event
from crm_domain.ports import Clock, IdGenerator
from crm_domain.seen import SeenAggregates

_DELETED = object()


class MemoryStore:
    """`clock` judges when idempotency records expire; without one, they stay valid until purged. `ids` names
    the outbox messages of the events a commit writes (default: ULIDs). `tz` dates the sales buckets (the
    company time zone; default the domain's default)."""

    def __init__(
        self, *, clock: Clock | None = None, ids: IdGenerator | None = None, tz: ZoneInfo | None = None
    ) -> None:
        self.tz = tz or DomainConfig().tz  # the company time zone: days of the sales buckets
        self.tables: dict[str, dict[Any, Any]] = {}
        self.lock = threading.RLock()
        self.clock = clock
        self.ids: IdGenerator = ids or UlidGenerator()

    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, read_only=read_only)


class Tx:
    """The overlay of one unit of work."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._writes: dict[str, dict[Any, Any]] = {}
        self.seen = SeenAggregates()  # the aggregates added or saved: their events go to the outbox at commit

    def get(self, table: str, key: Any) -> Any:
        overlay = self._writes.get(table, {})
        value = overlay[key] if key in overlay else self._store.tables.get(table, {}).get(key)
        return None if value is None or value is _DELETED else copy.deepcopy(value)

    def now(self) -> datetime | None:
        return None if self._store.clock is None else self._store.clock.now()

    def has(self, table: str, key: Any) -> bool:
        return self.get(table, key) is not None

    def put(self, table: str, key: Any, value: Any) -> None:
        self._writes.setdefault(table, {})[key] = copy.deepcopy(value)

    def delete(self, table: str, key: Any) -> None:
        self._writes.setdefault(table, {})[key] = _DELETED

    def items(self, table: str) -> Iterator[tuple[Any, Any]]:
        merged = dict(self._store.tables.get(table, {}))
        merged.update(self._writes.get(table, {}))
        for key, value in merged.items():
            if value is not _DELETED:
                yield key, copy.deepcopy(value)

    def values(self, table: str) -> Iterator[Any]:
        for _, value in self.items(table):
            yield value

    def apply(self) -> None:
        for table, writes in self._writes.items():
            target = self._store.tables.setdefault(table, {})
            for key, value in writes.items():
                if value is _DELETED:
                    target.pop(key, None)
                else:
                    target[key] = value
        self._writes.clear()

    def discard(self) -> None:
        self._writes.clear()
        self.seen.forget()


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._tx = Tx(store)
        self.users = r.MemoryUserRepository(self._tx)
        self.customers = r.MemoryCustomerRepository(self._tx)
        self.credit = r.MemoryCreditAccountRepository(self._tx)
        self.products = r.MemoryProductRepository(self._tx)
        self.orders = r.MemoryOrderRepository(self._tx)
        self.targets = r.MemoryTargetRepository(self._tx)
        self.performance = r.MemoryPerformanceRepository(self._tx)
        self.outbox = r.MemoryOutboxRepository(self._tx)
        self.idempotency = r.MemoryIdempotencyRepository(self._tx)
        self.audit = r.MemoryAuditRepository(self._tx)
        self.limit_requests = r.MemoryCreditLimitRequestRepository(self._tx)
        self.limit_history = r.MemoryLimitHistoryRepository(self._tx)
        self.interactions = r.MemoryInteractionRepository(self._tx)
        self.reports = MemoryReportRepository(self._tx, store.tz)

    def __enter__(self) -> Self:
        self._store.lock.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._tx.discard()
        finally:
            self._store.lock.release()

    def publish(self, events: list[Event]) -> None:
        self._tx.seen.publish(events)

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._tx.seen.write_to(self.outbox, self._store.ids, self.reports)
        self._tx.apply()

    def rollback(self) -> None:
        self._tx.discard()
