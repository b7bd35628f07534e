"""What every use case needs, and the steps they share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import attrs
from attrs import AttrsInstance

from crm_domain.config import DomainConfig
from crm_domain.credit import CreditAccount
from crm_domain.customers import Customer
from crm_domain.errors import ConcurrentUpdate, EntityNotFound, ValidationFailed
from crm_domain.events import Event
from crm_domain.outbox import OutboxMessage
from crm_domain.ports import Clock, IdGenerator, MobileNormaliser, UnitOfWork, UnitOfWorkFactory
from crm_domain.records import AuditEntry, IdempotencyRecord
from crm_domain.scope import Scope, scope_for
from crm_domain.users import Actor, Role

T = TypeVar("T")

MAX_IDEMPOTENCY_KEY = 255

#: The default of fields a change request leaves alone (`...Changes` classes); see `given_fields`.
UNSET: Any = object()


def given_fields(changes: AttrsInstance) -> dict[str, Any]:
    """The fields of an attrs change request that were given (not left at `UNSET`)."""
    return {k: v for k, v in attrs.asdict(changes, recurse=False).items() if v is not UNSET}


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
        """Write events to the outbox, in the same unit of work as the change."""
        for event in events:
            uow.outbox.add(OutboxMessage.of(event, self.ids.new_id()))

    def audit(
        self, uow: UnitOfWork, actor_id: str, action: str, entity: str, entity_id: str, **details: object
    ) -> None:
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


def account_of(uow: UnitOfWork, customer_id: str) -> CreditAccount:
    """The customer's credit account, or `EntityNotFound` for the customer."""
    account = uow.credit.get(customer_id)
    if account is None:
        raise EntityNotFound("customer", customer_id)
    return account
