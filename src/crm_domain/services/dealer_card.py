"""The call-center portal's reads (SPEC §12): find the caller, then show their dealer card.

`lookup` takes what the agent typed or pasted — a mobile (any format, whole or its first digits), a customer
code or its start, or words of the name — and answers the customers in the actor's scope that match, mobiles
first: the one customer search of crm_domain.search, as `q` on the customer list. `card` is one read of
everything the agent needs while the dealer is on the line: the credit position, the open orders, the last five
orders, the recent calls and the last order's lines (to repeat it).
"""

from __future__ import annotations

from typing import Final

import attrs

from crm_domain.customers import Customer
from crm_domain.errors import ValidationFailed
from crm_domain.interactions import Interaction
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import OrderQuery, UnitOfWork
from crm_domain.records import PageRequest
from crm_domain.search import TextQuery
from crm_domain.services.context import ServiceContext, account_of, customer_in_scope, scope_of
from crm_domain.services.credit import CreditPosition, position_of
from crm_domain.text import check_text
from crm_domain.users import Actor, Permission

LAST_ORDERS: Final = 5
RECENT_CALLS: Final = 5
MAX_OPEN_SHOWN: Final = 20
#: Orders the dealer is still waiting for (or that wait for a decision).
OPEN_STATUSES: Final = frozenset(
    {OrderStatus.SUBMITTED, OrderStatus.ON_CREDIT_HOLD, OrderStatus.CONFIRMED, OrderStatus.DISPATCHED}
)


@attrs.frozen(kw_only=True)
class DealerCard:
    customer: Customer
    credit: CreditPosition
    open_orders: list[Order]  # oldest first, at most MAX_OPEN_SHOWN
    open_count: int
    last_orders: list[Order]  # newest first
    recent_calls: list[Interaction]  # newest first; empty for an actor who may not read the call log

    @property
    def last_order(self) -> Order | None:
        """The order to repeat."""
        return self.last_orders[0] if self.last_orders else None


class DealerCardService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def lookup(self, actor: Actor, query: str, limit: int = 10) -> list[Customer]:
        """Up to `limit` customers in scope matching `query` (crm_domain.search, the same search as `q` on the
        customer list; the first `limit` by code), those matched by their mobile first, then by code."""
        actor.require(Permission.CUSTOMER_READ)
        if not 1 <= limit <= PageRequest.MAX_LIMIT:
            raise ValidationFailed(f"limit must be between 1 and {PageRequest.MAX_LIMIT}", field="limit")
        if not check_text(query, "q").strip():
            return []
        text = TextQuery.parse(query)

        def step(uow: UnitOfWork) -> list[Customer]:
            found = uow.customers.page(PageRequest(limit=limit), scope_of(uow, actor), text=text).items
            by_mobile = [c for c in found if text.matches_mobile(c.mobile)]
            return by_mobile + [c for c in found if c not in by_mobile]

        return self._ctx.read(step)

    def card(self, actor: Actor, customer_id: str) -> DealerCard:
        actor.require(Permission.CUSTOMER_READ)
        actor.require(Permission.CREDIT_READ)
        calls = actor.can(Permission.INTERACTION_READ)

        def step(uow: UnitOfWork) -> DealerCard:
            customer = customer_in_scope(uow, actor, customer_id)
            open_orders = uow.orders.with_status(customer_id, OPEN_STATUSES)
            last = uow.orders.page(PageRequest(limit=LAST_ORDERS), OrderQuery(customer_id=customer_id))
            recent = uow.interactions.page(customer_id, PageRequest(limit=RECENT_CALLS)).items if calls else []
            return DealerCard(
                customer=customer,
                credit=position_of(self._ctx, account_of(uow, customer_id)),
                open_orders=open_orders[:MAX_OPEN_SHOWN],
                open_count=len(open_orders),
                last_orders=last.items,
                recent_calls=recent,
            )

        return self._ctx.read(step)
