"""Resource-level permission: which customers an actor may see (SPEC §2.2).

Anything outside scope is reported as not found, so its existence does not leak.
"""

from __future__ import annotations

import attrs

from crm_domain.users import Actor, Role

_SEE_ALL = frozenset({Role.ADMIN, Role.CREDIT_CONTROLLER, Role.CALL_CENTER_AGENT})


@attrs.frozen
class Scope:
    """Either every customer, or the customers of some reps plus, for dealers, their own customer.

    `rep_ids` holds the actor (for a rep) or the actor and every rep under them, recursively (for a manager).
    """

    all_customers: bool = False
    rep_ids: frozenset[str] = frozenset()
    customer_ids: frozenset[str] = frozenset()

    def covers(self, customer_id: str, assigned_rep_id: str | None) -> bool:
        if self.all_customers:
            return True
        if customer_id in self.customer_ids:
            return True
        return assigned_rep_id is not None and assigned_rep_id in self.rep_ids

    def covers_user(self, user_id: str) -> bool:
        """Whether figures of `user_id` (targets, performance) are visible."""
        return self.all_customers or user_id in self.rep_ids


def scope_for(actor: Actor, subordinate_ids: frozenset[str]) -> Scope:
    """The scope of `actor`; `subordinate_ids` are every user under them in the manager tree."""
    if actor.roles & _SEE_ALL:
        return Scope(all_customers=True)
    rep_ids: set[str] = set()
    customer_ids: set[str] = set()
    if Role.SALES_REP in actor.roles:
        rep_ids.add(actor.id)
    if Role.SALES_MANAGER in actor.roles:
        rep_ids.add(actor.id)
        rep_ids |= subordinate_ids
    if Role.DEALER in actor.roles and actor.customer_id:
        customer_ids.add(actor.customer_id)
    return Scope(rep_ids=frozenset(rep_ids), customer_ids=frozenset(customer_ids))
