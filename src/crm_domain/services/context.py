"""What every use case needs, and the steps they share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import attrs
from attrs import AttrsInstance

from crm_domain.config import DomainConfig
from crm_domain.credit import CreditAccount
from crm_domain.customers import Customer
from crm_domain.errors import ConcurrentUpdate, DuplicateKey, EntityNotFound, ValidationFailed
from crm_domain.events import Event
from crm_domain.ports import Clock, IdGenerator, MobileNormaliser, UnitOfWork, UnitOfWorkFactory
from crm_domain.records import AuditEntry, IdempotencyRecord
from crm_domain.scope import Scope, scope_for
from crm_domain.users import Actor, Role

T = TypeVar("T")

MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_RECORD = "idempotency record"  # the `DuplicateKey.kind` of a lost race for an idempotency key

#: The default of fields a change request leaves alone (`...Changes` classes); see `given_fields`.
UNSET: Any = object()


def given_fields(changes: AttrsInstance) -> dict[str, Any]:
    """The fields of an attrs change request that were given (not left at `UNSET`)."""
    return {k: v for k, v in attrs.asdict(changes, recurse=False).items() if v is not UNSET}


@attrs.frozen
class Write(Generic[T]):
    """The write a use case has left once its reads are done (see `OrderService.plan_create`).

    `ServiceContext.finish` runs `step` in a unit of work of its own. A store that batches writes may instead run
    `step` in one transaction with other steps, provided it undoes a failed step alone and runs it again, up to
    `attempts` times in all, while `retryable` says so: an optimistic check that failed, or a concurrent request
    with the same idempotency key that won the insert (run again, the step replays that request's result)."""

    step: Callable[[UnitOfWork], T]
    attempts: int = 3

    @staticmethod
    def retryable(exc: BaseException) -> bool:
        return isinstance(exc, ConcurrentUpdate) or (isinstance(exc, DuplicateKey) and exc.kind == IDEMPOTENCY_RECORD)


@attrs.frozen(kw_only=True)
class ServiceContext:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    mobiles: MobileNormaliser
    config: DomainConfig = DomainConfig()

    def now(self) -> datetime:
        return self.clock.now()

    def today(self, at: datetime | None = None) -> date:
        return (at or self.clock.now()).astimezone(self.config.tz).date()

    def write(self, step: Callable[[UnitOfWork], T]) -> T:
        """Run `step` in a writing unit of work and commit; retried when an optimistic check fails."""
        attempts = self.config.concurrency_retries
        for attempt in range(attempts):
            try:
                with self.uow() as uow:
                    result = step(uow)
                    uow.commit()
                    return result
            except ConcurrentUpdate:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def finish(self, write: Write[T]) -> T:
        """Run a use case's remaining write (`write`) and commit, with its retries."""
        try:
            return self.write(write.step)
        except DuplicateKey as exc:
            if not write.retryable(exc):
                raise
            return self.write(write.step)

    def read(self, step: Callable[[UnitOfWork], T]) -> T:
        with self.uow(read_only=True) as uow:
            return step(uow)

    def remember(
        self,
        uow: UnitOfWork,
        *,
        actor_id: str,
        operation: str,
        key: str | None,
        fingerprint: str,
        result_id: str,
        field: str,
        now: datetime,
    ) -> None:
        """Record the result of an idempotent write under `key` (nothing when there is no key), in the same unit
        of work, until the idempotency TTL. `field` names the input that carried the key, for the error."""
        if key is None:
            return
        if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
            raise ValidationFailed(f"{field} must be 1 to {MAX_IDEMPOTENCY_KEY} characters", field=field)
        uow.idempotency.add(
            IdempotencyRecord(
                key=key,
                actor_id=actor_id,
                operation=operation,
                fingerprint=fingerprint,
                result_id=result_id,
                created_at=now,
                expires_at=now + self.config.idempotency_ttl,
            )
        )

    def publish(self, uow: UnitOfWork, events: list[Event]) -> None:
        """Write events that no aggregate records to the outbox, when `uow` commits. (An aggregate's own events
        need no call: the unit of work that stores it writes them.)"""
        uow.publish(events)

    def audit(
        self, uow: UnitOfWork, *, actor_id: str, action: str, entity: str, entity_id: str, **details: object
    ) -> None:
        """Record who (`actor_id`) did what (`action`) to which `entity` (`entity_id`), in the same unit of work."""
        uow.audit.add(
            AuditEntry(
                id=self.ids.new_id(),
                at=self.now(),
                actor_id=actor_id,
                action=action,
                entity=entity,
                entity_id=entity_id,
                details=dict(details),
            )
        )


def scope_of(uow: UnitOfWork, actor: Actor) -> Scope:
    subordinates = uow.users.subordinate_ids(actor.id) if Role.SALES_MANAGER in actor.roles else frozenset[str]()
    return scope_for(actor, subordinates)


def customer_in_scope(uow: UnitOfWork, actor: Actor, customer_id: str) -> Customer:
    """The customer, or `EntityNotFound` when it does not exist or is outside the actor's scope."""
    customer = uow.customers.get(customer_id)
    if customer is None or not _covers(uow, actor, customer):
        raise EntityNotFound("customer", customer_id)
    return customer


def _covers(uow: UnitOfWork, actor: Actor, customer: Customer) -> bool:
    # Fast paths first: most callers are reps and dealers, whose scope needs no query.
    if actor.customer_id == customer.id:
        return True
    if customer.assigned_rep_id is not None and customer.assigned_rep_id == actor.id:
        return True
    return scope_of(uow, actor).covers(customer.id, customer.assigned_rep_id)


def account_of(uow: UnitOfWork, customer_id: str, *, orders: Iterable[str] | None = None) -> CreditAccount:
    """The customer's credit account, or `EntityNotFound` for the customer; with `orders`, read with only those
    orders' reservations (see `CreditAccountRepository.get`)."""
    account = uow.credit.get(customer_id, orders=orders)
    if account is None:
        raise EntityNotFound("customer", customer_id)
    return account
