"""In-memory repositories over a unit of work's overlay (see store.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from adapters.pagination import decode_cursor, encode_cursor
from crm_domain.credit import CreditAccount, LimitChange
from crm_domain.credit_governance import CreditLimitRequest, LimitRequestStatus
from crm_domain.customers import Customer
from crm_domain.errors import ConcurrentUpdate, DuplicateKey, ValidationFailed
from crm_domain.interactions import Interaction
from crm_domain.orders import Order, OrderStatus
from crm_domain.outbox import OutboxMessage, OutboxStats, OutboxStatus
from crm_domain.performance import Achieved, Target
from crm_domain.ports import OrderQuery
from crm_domain.products import Product
from crm_domain.records import AuditEntry, IdempotencyRecord, Page, PageRequest
from crm_domain.scope import Scope
from crm_domain.search import TextQuery
from crm_domain.users import User

if TYPE_CHECKING:
    from adapters.memory.store import Tx

T = TypeVar("T")


def paginate(
    items: Iterable[T], page: PageRequest, key: Callable[[T], list[Any]], *, descending: bool = False
) -> Page[T]:
    """Keyset pagination over `items` sorted by `key` (a list of str/int)."""
    ordered = sorted(items, key=key, reverse=descending)
    after = decode_cursor(page.cursor, len(key(ordered[0])) if ordered else 0) if page.cursor else None
    if after is not None and [type(v) for v in after] != [type(v) for v in key(ordered[0])]:
        raise ValidationFailed("cursor is not valid", field="cursor")  # e.g. a number where a name belongs
    if after is not None:
        ordered = [i for i in ordered if (key(i) < after if descending else key(i) > after)]
    chunk = ordered[: page.limit]
    more = len(ordered) > page.limit
    return Page(items=chunk, next_cursor=encode_cursor(key(chunk[-1])) if more else None)


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


class _Repo:
    def __init__(self, tx: Tx) -> None:
        self._tx = tx


class MemoryUserRepository(_Repo):
    def get(self, user_id: str) -> User | None:
        return self._tx.get("users", user_id)  # type: ignore[no-any-return]

    def get_by_mobile(self, mobile: str) -> User | None:
        return next((u for u in self._tx.values("users") if u.mobile == mobile), None)

    def add(self, user: User) -> None:
        self._check_mobile(user)
        self._tx.put("users", user.id, user)

    def save(self, user: User) -> None:
        self._check_mobile(user)
        self._tx.put("users", user.id, user)

    def _check_mobile(self, user: User) -> None:
        other = self.get_by_mobile(user.mobile)
        if other is not None and other.id != user.id:
            raise DuplicateKey("user", "mobile", user.mobile)

    def page(
        self, page: PageRequest, *, ids: frozenset[str] | None = None, updated_since: datetime | None = None
    ) -> Page[User]:
        users = [
            u
            for u in self._tx.values("users")
            if (ids is None or u.id in ids) and (updated_since is None or u.updated_at >= updated_since)
        ]
        return paginate(users, page, lambda u: [u.name, u.id])

    def subordinate_ids(self, manager_id: str) -> frozenset[str]:
        children: dict[str, list[str]] = {}
        for user in self._tx.values("users"):
            if user.manager_id:
                children.setdefault(user.manager_id, []).append(user.id)
        found: set[str] = set()
        stack = [manager_id]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in found and child != manager_id:
                    found.add(child)
                    stack.append(child)
        return frozenset(found)


class MemoryCustomerRepository(_Repo):
    def get(self, customer_id: str) -> Customer | None:
        return self._tx.get("customers", customer_id)  # type: ignore[no-any-return]

    def get_by_code(self, code: str) -> Customer | None:
        return next((c for c in self._tx.values("customers") if c.code == code), None)

    def add(self, customer: Customer) -> None:
        if self.get_by_code(customer.code) is not None:
            raise DuplicateKey("customer", "code", customer.code)
        self._tx.put("customers", customer.id, customer)

    def save(self, customer: Customer) -> None:
        other = self.get_by_code(customer.code)
        if other is not None and other.id != customer.id:
            raise DuplicateKey("customer", "code", customer.code)
        self._tx.put("customers", customer.id, customer)

    def page(
        self,
        page: PageRequest,
        scope: Scope,
        *,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Customer]:
        found = [
            c
            for c in self._tx.values("customers")
            if scope.covers(c.id, c.assigned_rep_id)
            and (text is None or text.matches_customer(c.code, c.name, c.mobile))
            and (updated_since is None or c.updated_at >= updated_since)
        ]
        return paginate(found, page, lambda c: [c.code])

    def ids_in_scope(self, scope: Scope) -> frozenset[str] | None:
        if scope.all_customers:
            return None
        return frozenset(c.id for c in self._tx.values("customers") if scope.covers(c.id, c.assigned_rep_id))


class _Versioned(_Repo):
    table = ""

    def _save_versioned(self, key: str, entity: Any) -> None:
        stored = self._tx.get(self.table, key)
        if stored is None or stored.version != entity.version:
            raise ConcurrentUpdate(self.table, key)
        entity.version += 1
        self._tx.put(self.table, key, entity)


class MemoryCreditAccountRepository(_Versioned):
    table = "credit"

    def get(self, customer_id: str, *, orders: Iterable[str] | None = None) -> CreditAccount | None:
        account: CreditAccount | None = self._tx.get("credit", customer_id)
        if account is None or orders is None:
            return account
        loaded = frozenset(orders)
        held = account.reservations
        return attrs.evolve(account, reservations={o: held[o] for o in sorted(loaded) if o in held}, loaded=loaded)

    def add(self, account: CreditAccount) -> None:
        if self._tx.has("credit", account.customer_id):
            raise DuplicateKey("credit account", "customer_id", account.customer_id)
        self._tx.put("credit", account.customer_id, _whole(account, None))
        self._tx.seen.note(account)

    def save(self, account: CreditAccount) -> None:
        stored: CreditAccount | None = self._tx.get("credit", account.customer_id)
        if stored is None or stored.version != account.version:
            raise ConcurrentUpdate(self.table, account.customer_id)
        account.version += 1
        self._tx.put("credit", account.customer_id, _whole(account, stored))
        self._tx.seen.note(account)

    def list_all(self) -> list[CreditAccount]:
        return sorted(self._tx.values("credit"), key=lambda a: a.customer_id)


def _whole(account: CreditAccount, stored: CreditAccount | None) -> CreditAccount:
    """What to store for `account` (without its events): its reservations, over the stored others when it was
    read in part."""
    if account.loaded is None:
        return attrs.evolve(account, events=[])
    account.check_within_loaded()
    others = {} if stored is None else stored.reservations
    kept = {o: r for o, r in others.items() if o not in account.loaded}
    return attrs.evolve(account, reservations={**kept, **account.reservations}, loaded=None, events=[])


class MemoryProductRepository(_Repo):
    def get(self, sku: str) -> Product | None:
        return self._tx.get("products", sku)  # type: ignore[no-any-return]

    def get_many(self, skus: list[str]) -> dict[str, Product]:
        return {sku: p for sku in skus if (p := self.get(sku)) is not None}

    def add(self, product: Product) -> None:
        if self._tx.has("products", product.sku):
            raise DuplicateKey("product", "sku", product.sku)
        self._tx.put("products", product.sku, product)

    def save(self, product: Product) -> None:
        self._tx.put("products", product.sku, product)

    def upsert_many(self, products: list[Product]) -> int:
        for product in products:
            self._tx.put("products", product.sku, product)
        return len(products)

    def page(
        self,
        page: PageRequest,
        *,
        active_only: bool = False,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Product]:
        found = [
            p
            for p in self._tx.values("products")
            if (p.active or not active_only)
            and (text is None or text.matches_product(p.sku, p.name))
            and (updated_since is None or p.updated_at >= updated_since)
        ]
        return paginate(found, page, lambda p: [p.sku])


class MemoryOrderRepository(_Versioned):
    table = "orders"

    def get(self, order_id: str) -> Order | None:
        return self._tx.get("orders", order_id)  # type: ignore[no-any-return]

    def get_by_number(self, number: str) -> Order | None:
        return next((o for o in self._tx.values("orders") if o.number == number), None)

    def add(self, order: Order) -> None:
        if self._tx.has("orders", order.id):
            raise DuplicateKey("order", "id", order.id)
        if self.get_by_number(order.number) is not None:
            raise DuplicateKey("order", "number", order.number)
        self._tx.put("orders", order.id, attrs.evolve(order, events=[]))
        self._tx.seen.note(order)

    def save(self, order: Order) -> None:
        stored = self._tx.get("orders", order.id)
        if stored is None or stored.version != order.version:
            raise ConcurrentUpdate("order", order.id)
        order.version += 1
        self._tx.put("orders", order.id, attrs.evolve(order, events=[]))
        self._tx.seen.note(order)

    def page(self, page: PageRequest, query: OrderQuery) -> Page[Order]:
        def wanted(o: Order) -> bool:
            return (
                (query.customer_ids is None or o.customer_id in query.customer_ids)
                and (query.status is None or o.status is query.status)
                and (query.customer_id is None or o.customer_id == query.customer_id)
                and (query.rep_id is None or o.rep_id == query.rep_id)
                and (query.created_from is None or o.created_at >= query.created_from)
                and (query.created_to is None or o.created_at < query.created_to)
                and (query.updated_since is None or o.updated_at >= query.updated_since)
            )

        found = [o for o in self._tx.values("orders") if wanted(o)]
        return paginate(found, page, lambda o: [_micros(o.created_at), o.id], descending=True)

    def held_for_customer(self, customer_id: str) -> list[Order]:
        held = [
            o
            for o in self._tx.values("orders")
            if o.customer_id == customer_id and o.status is OrderStatus.ON_CREDIT_HOLD
        ]
        return sorted(held, key=lambda o: (o.held_at or o.created_at, o.number))

    def with_status(self, customer_id: str, statuses: frozenset[OrderStatus]) -> list[Order]:
        found = [o for o in self._tx.values("orders") if o.customer_id == customer_id and o.status in statuses]
        return sorted(found, key=lambda o: (o.created_at, o.number))

    def next_number(self, year: int) -> int:
        value = (self._tx.get("sequences", f"order:{year}") or 0) + 1
        self._tx.put("sequences", f"order:{year}", value)
        return int(value)


class MemoryTargetRepository(_Repo):
    def get(self, user_id: str, period: str) -> Target | None:
        return self._tx.get("targets", (user_id, period))  # type: ignore[no-any-return]

    def put(self, target: Target) -> None:
        self._tx.put("targets", (target.user_id, target.period), target)

    def for_period(
        self, period: str, user_ids: frozenset[str] | None = None, *, updated_since: datetime | None = None
    ) -> list[Target]:
        found = [
            t
            for t in self._tx.values("targets")
            if t.period == period
            and (user_ids is None or t.user_id in user_ids)
            and (updated_since is None or t.updated_at >= updated_since)
        ]
        return sorted(found, key=lambda t: t.user_id)


class MemoryPerformanceRepository(_Repo):
    def add(self, *, user_id: str, period: str, currency: str, amount: int, orders: int) -> None:
        key = (user_id, period, currency)
        current = self._tx.get("performance", key) or Achieved(
            user_id=user_id, period=period, currency=currency, amount=0, orders=0
        )
        self._tx.put(
            "performance", key, attrs.evolve(current, amount=current.amount + amount, orders=current.orders + orders)
        )

    def achieved(self, period: str, user_ids: frozenset[str] | None = None) -> list[Achieved]:
        found = [
            a
            for a in self._tx.values("performance")
            if a.period == period and (user_ids is None or a.user_id in user_ids)
        ]
        return sorted(found, key=lambda a: (a.user_id, a.currency))


class MemoryOutboxRepository(_Repo):
    def add(self, message: OutboxMessage) -> None:
        self._tx.put("outbox", message.id, message)

    def add_all(self, messages: list[OutboxMessage]) -> None:
        for message in messages:
            self.add(message)

    def get(self, message_id: str) -> OutboxMessage | None:
        return self._tx.get("outbox", message_id)  # type: ignore[no-any-return]

    def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        found = [m for m in self._tx.values("outbox") if m.status is OutboxStatus.PENDING and m.next_attempt_at <= now]
        return sorted(found, key=lambda m: (m.next_attempt_at, m.id))[:limit]

    def claim(self, now: datetime, limit: int, lease_until: datetime) -> list[OutboxMessage]:
        claimed = [attrs.evolve(m, next_attempt_at=lease_until) for m in self.due(now, limit)]
        for message in claimed:
            self._tx.put("outbox", message.id, message)
        return claimed

    def save(self, message: OutboxMessage) -> None:
        self._tx.put("outbox", message.id, message)

    def stats(self) -> OutboxStats:
        messages = list(self._tx.values("outbox"))
        pending = [m for m in messages if m.status is OutboxStatus.PENDING]
        return OutboxStats(
            pending=len(pending),
            dead=sum(1 for m in messages if m.status is OutboxStatus.DEAD),
            delivered=sum(1 for m in messages if m.status is OutboxStatus.DELIVERED),
            oldest_pending_at=min((m.occurred_at for m in pending), default=None),
        )

    def dead(self, limit: int) -> list[OutboxMessage]:
        found = [m for m in self._tx.values("outbox") if m.status is OutboxStatus.DEAD]
        return sorted(found, key=lambda m: (m.occurred_at, m.id))[:limit]

    def purge_delivered(self, before: datetime, limit: int) -> int:
        old = [
            m.id
            for m in self._tx.values("outbox")
            if m.status is OutboxStatus.DELIVERED and m.delivered_at is not None and m.delivered_at < before
        ][:limit]
        for message_id in old:
            self._tx.delete("outbox", message_id)
        return len(old)


class MemoryIdempotencyRepository(_Repo):
    def get(self, *, actor_id: str, operation: str, key: str) -> IdempotencyRecord | None:
        record: IdempotencyRecord | None = self._tx.get("idempotency", (actor_id, operation, key))
        now = self._tx.now()
        return None if record is None or (now is not None and record.expires_at <= now) else record

    def add(self, record: IdempotencyRecord) -> None:
        """`DuplicateKey` while a live record has the key; an expired one is replaced."""
        if self.get(actor_id=record.actor_id, operation=record.operation, key=record.key) is not None:
            raise DuplicateKey("idempotency record", "key", record.key)
        self._tx.put("idempotency", (record.actor_id, record.operation, record.key), record)

    def purge_expired(self, now: datetime) -> int:
        expired = [k for k, rec in self._tx.items("idempotency") if rec.expires_at <= now]
        for key in expired:
            self._tx.delete("idempotency", key)
        return len(expired)


class MemoryAuditRepository(_Repo):
    def add(self, entry: AuditEntry) -> None:
        self._tx.put("audit", entry.id, entry)

    def list_for(self, entity: str, entity_id: str) -> list[AuditEntry]:
        found = [e for e in self._tx.values("audit") if e.entity == entity and e.entity_id == entity_id]
        return sorted(found, key=lambda e: (e.at, e.id))


class MemoryCreditLimitRequestRepository(_Repo):
    def get(self, request_id: str) -> CreditLimitRequest | None:
        return self._tx.get("limit_requests", request_id)  # type: ignore[no-any-return]

    def add(self, request: CreditLimitRequest) -> None:
        self._tx.put("limit_requests", request.id, request)

    def save(self, request: CreditLimitRequest) -> None:
        self._tx.put("limit_requests", request.id, request)

    def page(
        self,
        page: PageRequest,
        *,
        status: LimitRequestStatus | None = None,
        customer_ids: frozenset[str] | None = None,
        updated_since: datetime | None = None,
    ) -> Page[CreditLimitRequest]:
        found = [
            q
            for q in self._tx.values("limit_requests")
            if (status is None or q.status is status)
            and (customer_ids is None or q.customer_id in customer_ids)
            and (updated_since is None or q.updated_at >= updated_since)
        ]
        return paginate(found, page, lambda q: [_micros(q.requested_at), q.id], descending=True)


class MemoryLimitHistoryRepository(_Repo):
    def add(self, change: LimitChange) -> None:
        self._tx.put("limit_history", change.id, change)

    def list_for(self, customer_id: str) -> list[LimitChange]:
        found = [c for c in self._tx.values("limit_history") if c.customer_id == customer_id]
        return sorted(found, key=lambda c: (c.at, c.id))


class MemoryInteractionRepository(_Repo):
    def add(self, interaction: Interaction) -> None:
        if self._tx.has("interactions", interaction.id):
            raise DuplicateKey("interaction", "id", interaction.id)
        self._tx.put("interactions", interaction.id, interaction)

    def page(self, customer_id: str, page: PageRequest, *, updated_since: datetime | None = None) -> Page[Interaction]:
        found = [
            i
            for i in self._tx.values("interactions")
            if i.customer_id == customer_id and (updated_since is None or i.at >= updated_since)
        ]
        return paginate(found, page, lambda i: [_micros(i.at), i.id], descending=True)
