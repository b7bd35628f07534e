"""Users and customers on MongoDB."""

from __future__ import annotations

from datetime import datetime

from adapters.mongo.base import MongoRepository
from adapters.mongo.query import Filter, conjunction
from adapters.mongo.search import name_words, text_filter, updated_since_filter
from crm_domain.customers import Customer
from crm_domain.errors import DuplicateKey
from crm_domain.records import Page, PageRequest
from crm_domain.scope import Scope
from crm_domain.search import TextQuery
from crm_domain.users import User


class MongoUserRepository(MongoRepository):
    collection = "users"

    def get(self, user_id: str) -> User | None:
        return self._get(User, user_id)

    def get_by_mobile(self, mobile: str) -> User | None:
        found = self._find(User, {"mobile": mobile}, limit=1)
        return found[0] if found else None

    def add(self, user: User) -> None:
        if self._tx.get(self.collection, user.id) is not None:
            raise DuplicateKey("user", "id", user.id)
        self._check_mobile(user)
        self._insert_tracked(self._doc(user.id, user))

    def save(self, user: User) -> None:
        self._check_mobile(user)
        self._save_tracked(self._doc(user.id, user))

    def _check_mobile(self, user: User) -> None:
        other = self.get_by_mobile(user.mobile)
        if other is not None and other.id != user.id:
            raise DuplicateKey("user", "mobile", user.mobile)

    def page(
        self, page: PageRequest, *, ids: frozenset[str] | None = None, updated_since: datetime | None = None
    ) -> Page[User]:
        query: Filter = conjunction(
            {} if ids is None else {"_id": {"$in": sorted(ids)}}, updated_since_filter(updated_since)
        )
        return self._page(User, query, [("name", 1), ("_id", 1)], (str, str), page)

    def subordinate_ids(self, manager_id: str) -> frozenset[str]:
        """Breadth-first down the manager tree, one query per level."""
        found: set[str] = set()
        frontier = [manager_id]
        while frontier:
            children = self._tx.find(self.collection, {"manager_id": {"$in": frontier}})
            frontier = [doc["_id"] for doc in children if doc["_id"] not in found and doc["_id"] != manager_id]
            found.update(frontier)
        return frozenset(found)


class MongoCustomerRepository(MongoRepository):
    collection = "customers"

    def get(self, customer_id: str) -> Customer | None:
        return self._get(Customer, customer_id)

    def get_by_code(self, code: str) -> Customer | None:
        found = self._find(Customer, {"code": code}, limit=1)
        return found[0] if found else None

    def add(self, customer: Customer) -> None:
        if self._tx.get(self.collection, customer.id) is not None:
            raise DuplicateKey("customer", "id", customer.id)
        self._check_code(customer)
        self._insert_tracked(self._doc(customer.id, customer, name_words=name_words(customer.name)))

    def save(self, customer: Customer) -> None:
        self._check_code(customer)
        self._save_tracked(self._doc(customer.id, customer, name_words=name_words(customer.name)))

    def _check_code(self, customer: Customer) -> None:
        other = self.get_by_code(customer.code)
        if other is not None and other.id != customer.id:
            raise DuplicateKey("customer", "code", customer.code)

    def page(
        self,
        page: PageRequest,
        scope: Scope,
        *,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Customer]:
        found = conjunction(
            _scope_filter(scope),
            {} if text is None else text_filter(text, code_field="code", by_mobile=True),
            updated_since_filter(updated_since),
        )
        return self._page(Customer, found, [("code", 1)], (str,), page)

    def ids_in_scope(self, scope: Scope) -> frozenset[str] | None:
        if scope.all_customers:
            return None
        return frozenset(doc["_id"] for doc in self._tx.find(self.collection, _scope_filter(scope)))


def _scope_filter(scope: Scope) -> Filter:
    if scope.all_customers:
        return {}
    return {
        "$or": [
            {"assigned_rep_id": {"$in": sorted(scope.rep_ids)}},
            {"_id": {"$in": sorted(scope.customer_ids)}},
        ]
    }
