"""Store commits timed: `crm_store_commit_duration_seconds{store}` (sqlite, mongodb, memory), the time a unit of
work's `commit()` took, i.e. writing its changes and events durably (fsync on SQLite, the write concern on
MongoDB). `MeteredStore` wraps any `UnitOfWorkFactory`; a store that commits outside units of work (the SQLite
loop writer's batches) observes `commit_timer(store)` itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from prometheus_client import Histogram

from crm_domain.events import Event
from crm_domain.ports import (
    AuditRepository,
    CreditAccountRepository,
    CreditLimitRequestRepository,
    CustomerRepository,
    IdempotencyRepository,
    InteractionRepository,
    LimitHistoryRepository,
    OrderRepository,
    OutboxRepository,
    PerformanceRepository,
    ProductRepository,
    ReportRepository,
    TargetRepository,
    UnitOfWork,
    UnitOfWorkFactory,
    UserRepository,
)

STORE_COMMIT_SECONDS = Histogram(
    "crm_store_commit_duration_seconds",
    "Unit-of-work commits by store (sqlite, mongodb, memory), and how long each took.",
    ["store"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)


def commit_timer(store: str) -> Callable[[float], None]:
    """What a store calls with the seconds a commit took."""
    return STORE_COMMIT_SECONDS.labels(store=store).observe


class MeteredStore:
    """A `UnitOfWorkFactory` whose units of work time their `commit()` (`inner` does the work)."""

    def __init__(self, inner: UnitOfWorkFactory, store: str) -> None:
        self.inner = inner
        self._observe = commit_timer(store)

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        return _MeteredUnitOfWork(self.inner(read_only=read_only), self._observe)


class _MeteredUnitOfWork:
    def __init__(self, inner: UnitOfWork, observe: Callable[[float], None]) -> None:
        self._inner = inner
        self._observe = observe

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        started = time.perf_counter()
        self._inner.commit()
        self._observe(time.perf_counter() - started)

    def rollback(self) -> None:
        self._inner.rollback()

    def publish(self, events: list[Event]) -> None:
        self._inner.publish(events)

    @property
    def users(self) -> UserRepository:
        return self._inner.users

    @property
    def customers(self) -> CustomerRepository:
        return self._inner.customers

    @property
    def credit(self) -> CreditAccountRepository:
        return self._inner.credit

    @property
    def products(self) -> ProductRepository:
        return self._inner.products

    @property
    def orders(self) -> OrderRepository:
        return self._inner.orders

    @property
    def targets(self) -> TargetRepository:
        return self._inner.targets

    @property
    def performance(self) -> PerformanceRepository:
        return self._inner.performance

    @property
    def outbox(self) -> OutboxRepository:
        return self._inner.outbox

    @property
    def idempotency(self) -> IdempotencyRepository:
        return self._inner.idempotency

    @property
    def audit(self) -> AuditRepository:
        return self._inner.audit

    @property
    def limit_requests(self) -> CreditLimitRequestRepository:
        return self._inner.limit_requests

    @property
    def limit_history(self) -> LimitHistoryRepository:
        return self._inner.limit_history

    @property
    def interactions(self) -> InteractionRepository:
        return self._inner.interactions

    @property
    def reports(self) -> ReportRepository:
        return self._inner.reports
