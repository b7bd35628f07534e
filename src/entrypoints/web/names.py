"""Names to show beside ids on a page (a customer's code and name, a person's name), read once per page."""

from __future__ import annotations

from crm_domain.app import Crm
from crm_domain.customers import Customer
from crm_domain.errors import NotFound
from crm_domain.records import PageRequest
from crm_domain.users import Actor

#: Customers read in one page for the name lookup; past that, one read per customer shown.
_ONE_PAGE = 200


class Names:
    def __init__(self, crm: Crm, actor: Actor) -> None:
        self._crm = crm
        self._actor = actor
        self._customers: dict[str, Customer] | None = None
        self._people: dict[str, str] = {"system": "the system"}

    def customers(self) -> dict[str, Customer]:
        """The customers in the actor's scope (the first `_ONE_PAGE`), by id."""
        if self._customers is None:
            page = self._crm.customers.list(self._actor, PageRequest(limit=_ONE_PAGE))
            self._customers = {c.id: c for c in page.items}
        return self._customers

    def customer(self, customer_id: str) -> Customer | None:
        known = self.customers()
        if customer_id not in known:
            try:
                known[customer_id] = self._crm.customers.get(self._actor, customer_id).customer
            except NotFound:
                return None
        return known[customer_id]

    def customer_label(self, customer_id: str) -> str:
        customer = self.customer(customer_id)
        return f"{customer.code} · {customer.name}" if customer else customer_id

    def person(self, user_id: str | None) -> str:
        if not user_id:
            return ""
        if user_id not in self._people:
            user = self._crm.users.find(user_id)
            self._people[user_id] = user.name if user else user_id
        return self._people[user_id]
