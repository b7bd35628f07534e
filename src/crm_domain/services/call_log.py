"""The call log (SPEC §2.8): calls logged with a customer, listed newest first; scope as the customer's.

Logging needs `interaction:log` (call-center agents, reps; admins), reading `interaction:read` (those, and the
managers and credit controllers over them); a dealer's own staff do not see the notes taken about their calls.
A customer outside the actor's scope is not found, as everywhere.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from crm_domain.errors import ValidationFailed
from crm_domain.interactions import CallOutcome, Direction, Interaction
from crm_domain.ports import UnitOfWork
from crm_domain.records import Page, PageRequest
from crm_domain.services.context import ServiceContext, customer_in_scope
from crm_domain.users import Actor, Permission


@attrs.frozen(kw_only=True)
class NewInteraction:
    """A call to log; the agent is the actor and the time is now."""

    direction: Direction | str
    outcome: CallOutcome | str
    note: str = ""
    order_id: str | None = None


class CallLogService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def log(self, actor: Actor, customer_id: str, new: NewInteraction) -> Interaction:
        """Log a call with the customer; `order_id`, when given, must be one of that customer's orders."""
        actor.require(Permission.INTERACTION_LOG)
        interaction = Interaction(  # checked before the unit of work starts
            id=self._ctx.ids.new_id(),
            customer_id=customer_id,
            agent_id=actor.id,
            at=self._ctx.now(),
            direction=_value(new.direction),
            outcome=_value(new.outcome),
            note=new.note,
            order_id=new.order_id,
        )

        def step(uow: UnitOfWork) -> Interaction:
            customer_in_scope(uow, actor, customer_id)
            if new.order_id is not None:
                order = uow.orders.get(new.order_id)
                if order is None or order.customer_id != customer_id:
                    raise ValidationFailed(f"order {new.order_id!r} is not an order of this customer", field="order_id")
            uow.interactions.add(interaction)
            return interaction

        return self._ctx.write(step)

    def list(
        self, actor: Actor, customer_id: str, page: PageRequest, *, updated_since: datetime | None = None
    ) -> Page[Interaction]:
        """The customer's calls, newest first; only those logged at or after `updated_since` when given."""
        actor.require(Permission.INTERACTION_READ)

        def step(uow: UnitOfWork) -> Page[Interaction]:
            customer_in_scope(uow, actor, customer_id)
            return uow.interactions.page(customer_id, page, updated_since=updated_since)

        return self._ctx.read(step)


def _value(value: StrEnum | str) -> str:
    return value.value if isinstance(value, StrEnum) else value
