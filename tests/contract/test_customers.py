"""CustomerRepository: round trips, the unique code, the code-ordered list and scope filtering."""

from __future__ import annotations

import attrs
import pytest

from crm_domain.customers import ErpSystem
from crm_domain.errors import DuplicateKey, ValidationFailed
from crm_domain.ports import UnitOfWorkFactory
from crm_domain.records import PageRequest
from crm_domain.scope import Scope
from tests.contract.builders import a_customer, forged_cursors, read, walk, write


class TestCustomerRoundTrip:
    def test_get_returns_every_field_as_added(self, store: UnitOfWorkFactory) -> None:
        customer = a_customer()
        write(store, lambda uow: uow.customers.add(customer))

        assert read(store, lambda uow: uow.customers.get(customer.id)) == customer

    def test_get_by_code_finds_the_customer(self, store: UnitOfWorkFactory) -> None:
        customer = a_customer(code="D-PUNE-001")
        write(store, lambda uow: uow.customers.add(customer))

        assert read(store, lambda uow: uow.customers.get_by_code("D-PUNE-001")) == customer
        assert read(store, lambda uow: uow.customers.get_by_code("D-PUNE-002")) is None
        assert read(store, lambda uow: uow.customers.get("c-unknown")) is None

    def test_save_replaces_the_stored_customer(self, store: UnitOfWorkFactory) -> None:
        customer = a_customer()
        write(store, lambda uow: uow.customers.add(customer))
        changed = attrs.evolve(
            customer,
            name="Dealer Renamed",
            erp_system=ErpSystem.SAP,
            erp_customer_id=None,
            assigned_rep_id=None,
            active=True,
        )

        write(store, lambda uow: uow.customers.save(changed))

        assert read(store, lambda uow: uow.customers.get(customer.id)) == changed


class TestCodeIsUnique:
    def test_adding_a_taken_code_is_a_duplicate(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.customers.add(a_customer("c-1", code="D-1")))

        with pytest.raises(DuplicateKey) as raised, store() as uow:
            uow.customers.add(a_customer("c-2", code="D-1"))

        assert (raised.value.kind, raised.value.field, raised.value.value) == ("customer", "code", "D-1")
        assert read(store, lambda uow: uow.customers.get("c-2")) is None

    def test_saving_with_another_customers_code_is_a_duplicate(self, store: UnitOfWorkFactory) -> None:
        second = a_customer("c-2", code="D-2")
        write(store, lambda uow: (uow.customers.add(a_customer("c-1", code="D-1")), uow.customers.add(second)))

        with pytest.raises(DuplicateKey) as raised, store() as uow:
            uow.customers.save(attrs.evolve(second, code="D-1"))

        assert (raised.value.kind, raised.value.field) == ("customer", "code")
        assert read(store, lambda uow: uow.customers.get("c-2")) == second


def _customers(store: UnitOfWorkFactory) -> None:
    # (id, code, assigned rep)
    rows = [
        ("c-1", "D-050", "rep-a"),
        ("c-2", "D-010", "rep-b"),
        ("c-3", "D-030", "rep-a"),
        ("c-4", "D-020", None),
        ("c-5", "D-040", "rep-c"),
    ]
    write(store, lambda uow: [uow.customers.add(a_customer(i, code=c, assigned_rep_id=r)) for i, c, r in rows])


class TestCustomerList:
    @pytest.mark.parametrize("limit", [1, 2, 3, 200])
    def test_pages_walk_every_customer_once_by_code(self, store: UnitOfWorkFactory, limit: int) -> None:
        _customers(store)

        found = read(store, lambda uow: walk(lambda page: uow.customers.page(page, Scope(all_customers=True)), limit))

        assert [c.code for c in found] == ["D-010", "D-020", "D-030", "D-040", "D-050"]

    @pytest.mark.parametrize("cursor", forged_cursors(["D-010"]))
    def test_a_forged_cursor_is_a_validation_error(self, store: UnitOfWorkFactory, cursor: str) -> None:
        _customers(store)

        with pytest.raises(ValidationFailed), store(read_only=True) as uow:
            uow.customers.page(PageRequest(limit=2, cursor=cursor), Scope(all_customers=True))


SCOPES = {
    "every customer": (Scope(all_customers=True), ["c-2", "c-4", "c-3", "c-5", "c-1"]),
    "one rep": (Scope(rep_ids=frozenset({"rep-a"})), ["c-3", "c-1"]),
    "a manager's reps": (Scope(rep_ids=frozenset({"rep-a", "rep-b", "rep-x"})), ["c-2", "c-3", "c-1"]),
    "a dealer's own customer": (Scope(customer_ids=frozenset({"c-4"})), ["c-4"]),
    "reps and customers together": (
        Scope(rep_ids=frozenset({"rep-c"}), customer_ids=frozenset({"c-2", "c-5"})),
        ["c-2", "c-5"],
    ),
    "nobody": (Scope(), []),
}


class TestScope:
    @pytest.mark.parametrize("name", list(SCOPES))
    def test_the_list_holds_exactly_the_customers_in_scope(self, store: UnitOfWorkFactory, name: str) -> None:
        scope, expected = SCOPES[name]
        _customers(store)

        found = read(store, lambda uow: walk(lambda page: uow.customers.page(page, scope), 2))

        assert [c.id for c in found] == expected

    @pytest.mark.parametrize("name", [n for n in SCOPES if n != "every customer"])
    def test_ids_in_scope_are_the_customers_in_scope(self, store: UnitOfWorkFactory, name: str) -> None:
        scope, expected = SCOPES[name]
        _customers(store)

        assert read(store, lambda uow: uow.customers.ids_in_scope(scope)) == frozenset(expected)

    def test_ids_in_scope_of_every_customer_is_none(self, store: UnitOfWorkFactory) -> None:
        _customers(store)

        assert read(store, lambda uow: uow.customers.ids_in_scope(Scope(all_customers=True))) is None

    def test_a_reassigned_customer_follows_its_new_rep(self, store: UnitOfWorkFactory) -> None:
        _customers(store)
        customer = read(store, lambda uow: uow.customers.get("c-1"))
        assert customer is not None

        write(store, lambda uow: uow.customers.save(attrs.evolve(customer, assigned_rep_id="rep-b")))

        assert read(store, lambda uow: uow.customers.ids_in_scope(Scope(rep_ids=frozenset({"rep-a"})))) == {"c-3"}
        assert read(store, lambda uow: uow.customers.ids_in_scope(Scope(rep_ids=frozenset({"rep-b"})))) == {
            "c-1",
            "c-2",
        }
