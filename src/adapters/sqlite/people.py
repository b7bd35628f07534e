"""Users and customers on SQLite."""

# SQL in this module is composed from its own constants only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from adapters.sqlite import codec
from adapters.sqlite.read_cache import VersionedRows
from adapters.sqlite.search import text_filter
from adapters.sqlite.session import SqliteSession, duplicate_key, json_ids, keyset_page, marks
from crm_domain.customers import Customer
from crm_domain.records import Page, PageRequest
from crm_domain.scope import Scope
from crm_domain.search import TextQuery
from crm_domain.users import User

_SUBORDINATES = """
    WITH RECURSIVE under (id) AS (
        SELECT id FROM users WHERE manager_id = ?
        UNION
        SELECT users.id FROM users JOIN under ON users.manager_id = under.id
    )
    SELECT id FROM under WHERE id != ?
"""


class SqliteUserRepository:
    def __init__(self, session: SqliteSession) -> None:
        self._s = session

    def get(self, user_id: str) -> User | None:
        row = self._s.execute(f"SELECT {codec.USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else codec.user_from(row)

    def get_by_mobile(self, mobile: str) -> User | None:
        row = self._s.execute(f"SELECT {codec.USER_COLUMNS} FROM users WHERE mobile = ?", (mobile,)).fetchone()
        return None if row is None else codec.user_from(row)

    def add(self, user: User) -> None:
        self._write(f"INSERT INTO users ({codec.USER_COLUMNS}) VALUES ({marks(11)})", user)

    def save(self, user: User) -> None:
        self._write(
            f"INSERT INTO users ({codec.USER_COLUMNS}) VALUES ({marks(11)}) ON CONFLICT (id) DO UPDATE SET "
            "mobile = excluded.mobile, name = excluded.name, roles = excluded.roles, email = excluded.email, "
            "manager_id = excluded.manager_id, territory = excluded.territory, customer_id = excluded.customer_id, "
            "active = excluded.active, created_at = excluded.created_at, updated_at = excluded.updated_at",
            user,
        )

    def _write(self, sql: str, user: User) -> None:
        try:
            self._s.execute(sql, codec.user_row(user))
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(
                exc, {"users.mobile": ("user", "mobile", user.mobile), "users.id": ("user", "id", user.id)}
            ) from exc

    def page(
        self, page: PageRequest, *, ids: frozenset[str] | None = None, updated_since: datetime | None = None
    ) -> Page[User]:
        where: list[str] = [] if ids is None else ["id IN (SELECT value FROM json_each(?))"]
        params: list[Any] = [] if ids is None else [json_ids(ids)]
        if updated_since is not None:
            where, params = [*where, "updated_at >= ?"], [*params, codec.micros(updated_since)]
        return keyset_page(
            self._s,
            select=f"SELECT {codec.USER_COLUMNS} FROM users",
            where=where,
            params=params,
            key_columns=("name", "id"),
            key_types=(str, str),
            descending=False,
            page=page,
            decode=codec.user_from,
        )

    def subordinate_ids(self, manager_id: str) -> frozenset[str]:
        return frozenset(row[0] for row in self._s.execute(_SUBORDINATES, (manager_id, manager_id)))


class SqliteCustomerRepository:
    """`cache`: the process's decoded customers, for a read-only unit of work (see read_cache.py)."""

    def __init__(self, session: SqliteSession, cache: VersionedRows[str, Customer] | None = None) -> None:
        self._s = session
        self._cache = cache

    def get(self, customer_id: str) -> Customer | None:
        cache = self._cache
        cached = None if cache is None else cache.at(self._s.table_version("customers"))
        if cached is not None and (customer := cached.get(customer_id)) is not None:
            return customer
        row = self._s.execute(f"SELECT {codec.CUSTOMER_COLUMNS} FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if row is None:
            return None
        customer = codec.customer_from(row)
        if cache is not None and cached is not None:
            cache.keep(cached, customer_id, customer)
        return customer

    def get_by_code(self, code: str) -> Customer | None:
        row = self._s.execute(f"SELECT {codec.CUSTOMER_COLUMNS} FROM customers WHERE code = ?", (code,)).fetchone()
        return None if row is None else codec.customer_from(row)

    def add(self, customer: Customer) -> None:
        self._write(f"INSERT INTO customers ({codec.CUSTOMER_COLUMNS}) VALUES ({marks(12)})", customer)

    def save(self, customer: Customer) -> None:
        self._write(
            f"INSERT INTO customers ({codec.CUSTOMER_COLUMNS}) VALUES ({marks(12)}) ON CONFLICT (id) DO UPDATE SET "
            "code = excluded.code, name = excluded.name, mobile = excluded.mobile, territory = excluded.territory, "
            "currency = excluded.currency, erp_system = excluded.erp_system, "
            "erp_customer_id = excluded.erp_customer_id, assigned_rep_id = excluded.assigned_rep_id, "
            "active = excluded.active, created_at = excluded.created_at, updated_at = excluded.updated_at",
            customer,
        )

    def _write(self, sql: str, customer: Customer) -> None:
        try:
            self._s.execute(sql, codec.customer_row(customer))
        except sqlite3.IntegrityError as exc:
            raise duplicate_key(
                exc,
                {
                    "customers.code": ("customer", "code", customer.code),
                    "customers.id": ("customer", "id", customer.id),
                },
            ) from exc

    def page(
        self,
        page: PageRequest,
        scope: Scope,
        *,
        text: TextQuery | None = None,
        updated_since: datetime | None = None,
    ) -> Page[Customer]:
        where, scope_params = _scope_filter(scope)
        params: list[Any] = list(scope_params)
        if text is not None:
            sql, text_params = text_filter("customer", "id", text, by_mobile=True)
            where, params = [*where, sql], [*params, *text_params]
        if updated_since is not None:
            where, params = [*where, "updated_at >= ?"], [*params, codec.micros(updated_since)]
        return keyset_page(
            self._s,
            select=f"SELECT {codec.CUSTOMER_COLUMNS} FROM customers",
            where=where,
            params=params,
            key_columns=("code",),
            key_types=(str,),
            descending=False,
            page=page,
            decode=codec.customer_from,
        )

    def ids_in_scope(self, scope: Scope) -> frozenset[str] | None:
        if scope.all_customers:
            return None
        where, params = _scope_filter(scope)
        rows = self._s.execute(f"SELECT id FROM customers WHERE {' AND '.join(where)}", params)
        return frozenset(row[0] for row in rows)


def _scope_filter(scope: Scope) -> tuple[list[str], list[str]]:
    if scope.all_customers:
        return [], []
    return (
        [
            "(assigned_rep_id IN (SELECT value FROM json_each(?)) OR id IN (SELECT value FROM json_each(?)))",
        ],
        [json_ids(scope.rep_ids), json_ids(scope.customer_ids)],
    )
