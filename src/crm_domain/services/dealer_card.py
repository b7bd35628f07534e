"""The call-center portal's reads (SPEC §12): find the caller, then show their dealer card.

`lookup` takes what the agent typed or pasted — a mobile (any format, whole or its first digits), a customer
code or its start, or words of the name — and answers the customers in the actor's scope that match, mobiles
first. `card` is one read of everything the agent needs while the dealer is on the line: the credit position,
the open orders, the last five orders, the recent calls and the last order's lines (to repeat it).
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from crm_domain.customers import Customer, CustomerSearch
from crm_domain.errors import ValidationFailed
from crm_domain.interactions import Interaction
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import MobileNormaliser, OrderQuery, UnitOfWork
from crm_domain.records import PageRequest
from crm_domain.services.context import ServiceContext, account_of, customer_in_scope, scope_of
from crm_domain.services.credit import CreditPosition, position_of
from crm_domain.text import check_text
from crm_domain.users import Actor, Permission

MAX_QUERY: Final = 100
MAX_WORDS: Final = 5
LAST_ORDERS: Final = 5
RECENT_CALLS: Final = 5
MAX_OPEN_SHOWN: Final = 20
#: Orders the dealer is still waiting for (or that wait for a decision).
OPEN_STATUSES: Final = frozenset(
    {OrderStatus.SUBMITTED, OrderStatus.ON_CREDIT_HOLD, OrderStatus.CONFIRMED, OrderStatus.DISPATCHED}
)

_PHONE_LIKE = re.compile(r"^[+0-9 ().\-/]+$")
_CODE_LIKE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_WORD = re.compile(r"[^\W_]+")
_MIN_PHONE_DIGITS = 4


def name_words(text: str) -> list[str]:
    """The words of a name as the stores index them: runs of letters and digits, case-folded."""
    return _WORD.findall(text.casefold())


def lookup_terms(query: str, mobiles: MobileNormaliser) -> CustomerSearch:
    """What `query` can mean: a mobile when it is only digits and phone punctuation (with at least four digits),
    a code prefix when it has a code's characters, name words when it has letters."""
    text = check_text(query, "q").strip()
    if len(text) > MAX_QUERY:
        raise ValidationFailed(f"q must be at most {MAX_QUERY} characters", field="q")
    if not text:
        return CustomerSearch()
    phone_like = _PHONE_LIKE.match(text) is not None and sum(c.isdigit() for c in text) >= _MIN_PHONE_DIGITS
    prefixes: tuple[str, ...] = ()
    if phone_like:
        try:
            prefixes = (mobiles.normalise(text),)
        except ValidationFailed:
            prefixes = mobiles.prefixes(text)
    words = tuple(name_words(text)[:MAX_WORDS]) if any(c.isalpha() for c in text) else ()
    code = text if _CODE_LIKE.match(text) else ""
    return CustomerSearch(mobile_prefixes=prefixes, code_prefix=code, name_words=words)


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
        """Customers in scope matching `query` (see `lookup_terms`), mobile matches first, then by code."""
        actor.require(Permission.CUSTOMER_READ)
        if not 1 <= limit <= PageRequest.MAX_LIMIT:
            raise ValidationFailed(f"limit must be between 1 and {PageRequest.MAX_LIMIT}", field="limit")
        terms = lookup_terms(query, self._ctx.mobiles)
        if terms == CustomerSearch():
            return []

        def step(uow: UnitOfWork) -> list[Customer]:
            found = uow.customers.search(terms, scope_of(uow, actor), limit)
            by_mobile = (
                [c for c in found if c.mobile.startswith(terms.mobile_prefixes)] if terms.mobile_prefixes else []
            )
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
