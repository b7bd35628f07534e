"""Ports: what the domain needs from the outside world, as `typing.Protocol`s. Adapters implement them;
the contract suites in tests/contract/ pin down what every implementation must do.

Repositories take and return domain types only. `save` methods of versioned aggregates (orders, credit
accounts) are optimistic: they raise `ConcurrentUpdate` when the stored version is not the one read, and
bump the version on success.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

import attrs

from crm_domain.credit import CreditAccount, CreditLimitRequest, LimitChange, LimitRequestStatus
from crm_domain.customers import Customer
from crm_domain.orders import Order, OrderStatus
from crm_domain.outbox import OutboxMessage, OutboxStats
from crm_domain.performance import Achieved, Target
from crm_domain.products import Product
from crm_domain.records import AuditEntry, IdempotencyRecord, Page, PageRequest
from crm_domain.scope import Scope
from crm_domain.users import User


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new unique, roughly time-ordered identifier."""
        ...


class MobileNormaliser(Protocol):
    def normalise(self, raw: str) -> str:
        """`raw` in E.164 form, or `ValidationFailed` when it is not a possible mobile number."""
        ...


class UserRepository(Protocol):
    def get(self, user_id: str) -> User | None: ...
    def get_by_mobile(self, mobile: str) -> User | None: ...
    def add(self, user: User) -> None:
        """Store a new user; `DuplicateKey` when the mobile is taken."""
        ...

    def save(self, user: User) -> None:
        """Store changes to an existing user; `DuplicateKey` when the new mobile is taken."""
        ...

    def list(self, page: PageRequest, *, ids: frozenset[str] | None = None) -> Page[User]:
        """Users ordered by name then id; only `ids` when given."""
        ...

    def subordinate_ids(self, manager_id: str) -> frozenset[str]:
        """Every user under `manager_id` in the manager tree, recursively (not the manager)."""
        ...


class CustomerRepository(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...
    def get_by_code(self, code: str) -> Customer | None: ...
    def add(self, customer: Customer) -> None:
        """`DuplicateKey` when the code is taken."""
        ...

    def save(self, customer: Customer) -> None: ...
    def list(self, page: PageRequest, scope: Scope) -> Page[Customer]:
        """Customers in `scope`, ordered by code."""
        ...

    def ids_in_scope(self, scope: Scope) -> frozenset[str] | None:
        """The ids of the customers in `scope`; None when the scope is every customer."""
        ...


class CreditAccountRepository(Protocol):
    def get(self, customer_id: str) -> CreditAccount | None: ...
    def add(self, account: CreditAccount) -> None: ...
    def save(self, account: CreditAccount) -> None:
        """Optimistic: `ConcurrentUpdate` unless the stored version equals `account.version`; bumps it."""
        ...

    def list_all(self) -> builtins.list[CreditAccount]: ...


class ProductRepository(Protocol):
    def get(self, sku: str) -> Product | None: ...
    def get_many(self, skus: list[str]) -> dict[str, Product]: ...
    def add(self, product: Product) -> None:
        """`DuplicateKey` when the SKU exists."""
        ...

    def save(self, product: Product) -> None: ...
    def upsert_many(self, products: list[Product]) -> int:
        """Insert or replace by SKU in one batch; returns how many were written."""
        ...

    def list(self, page: PageRequest, *, active_only: bool = False) -> Page[Product]:
        """Products ordered by SKU."""
        ...


@attrs.frozen(kw_only=True)
class OrderQuery:
    """Filters of an order list. `customer_ids` is the actor's scope (None: every customer)."""

    customer_ids: frozenset[str] | None = None
    status: OrderStatus | None = None
    customer_id: str | None = None
    rep_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class OrderRepository(Protocol):
    def get(self, order_id: str) -> Order | None: ...
    def get_by_number(self, number: str) -> Order | None: ...
    def add(self, order: Order) -> None: ...
    def save(self, order: Order) -> None:
        """Optimistic: `ConcurrentUpdate` unless the stored version equals `order.version`; bumps it."""
        ...

    def list(self, page: PageRequest, query: OrderQuery) -> Page[Order]:
        """Newest first (created_at, then id, descending)."""
        ...

    def held_for_customer(self, customer_id: str) -> builtins.list[Order]:
        """The customer's orders on credit hold, oldest hold first."""
        ...

    def with_status(self, customer_id: str, statuses: frozenset[OrderStatus]) -> builtins.list[Order]: ...
    def next_number(self, year: int) -> int:
        """The next value of the order-number sequence of `year`, atomically (1, 2, 3, …)."""
        ...


class TargetRepository(Protocol):
    def get(self, user_id: str, period: str) -> Target | None: ...
    def put(self, target: Target) -> None:
        """Insert or replace the target of (user, period)."""
        ...

    def list(self, period: str, user_ids: frozenset[str] | None = None) -> builtins.list[Target]: ...


class PerformanceRepository(Protocol):
    def add(self, user_id: str, period: str, currency: str, amount: int, orders: int) -> None:
        """Add to the running total of (user, period, currency); negative values subtract."""
        ...

    def achieved(self, period: str, user_ids: frozenset[str] | None = None) -> builtins.list[Achieved]: ...


class OutboxRepository(Protocol):
    def add(self, message: OutboxMessage) -> None: ...
    def due(self, now: datetime, limit: int) -> builtins.list[OutboxMessage]:
        """Pending messages whose next attempt is due, oldest first."""
        ...

    def save(self, message: OutboxMessage) -> None: ...
    def get(self, message_id: str) -> OutboxMessage | None: ...
    def stats(self) -> OutboxStats: ...
    def dead(self, limit: int) -> builtins.list[OutboxMessage]: ...


class IdempotencyRepository(Protocol):
    def get(self, actor_id: str, operation: str, key: str) -> IdempotencyRecord | None:
        """The record, unless it has expired."""
        ...

    def add(self, record: IdempotencyRecord) -> None:
        """`DuplicateKey` when (actor, operation, key) is already recorded."""
        ...

    def purge_expired(self, now: datetime) -> int: ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
    def list_for(self, entity: str, entity_id: str) -> builtins.list[AuditEntry]: ...


class CreditLimitRequestRepository(Protocol):
    def get(self, request_id: str) -> CreditLimitRequest | None: ...
    def add(self, request: CreditLimitRequest) -> None: ...
    def save(self, request: CreditLimitRequest) -> None: ...
    def list(
        self,
        page: PageRequest,
        *,
        status: LimitRequestStatus | None = None,
        customer_ids: frozenset[str] | None = None,
    ) -> Page[CreditLimitRequest]:
        """Newest first."""
        ...


class LimitHistoryRepository(Protocol):
    def add(self, change: LimitChange) -> None: ...
    def list_for(self, customer_id: str) -> builtins.list[LimitChange]:
        """Oldest first."""
        ...


class UnitOfWork(Protocol):
    """One atomic step in the store. Nothing is kept unless `commit()` is called before the block ends."""

    users: UserRepository
    customers: CustomerRepository
    credit: CreditAccountRepository
    products: ProductRepository
    orders: OrderRepository
    targets: TargetRepository
    performance: PerformanceRepository
    outbox: OutboxRepository
    idempotency: IdempotencyRepository
    audit: AuditRepository
    limit_requests: CreditLimitRequestRepository
    limit_history: LimitHistoryRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work. Writers take the store's write lock (or its equivalent) at the start."""
        ...
