"""The one text search of customers (`q` on the list and the call-center portal's caller lookup) and products, and
`updated_since` on their lists, the same on every store (crm_domain/search.py states the rule; the memory store
follows it literally, SQLite through its trigger-kept terms, MongoDB through anchored regular expressions on
indexed fields, the name's words a multikey array). A property test checks every store against the rule itself."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_domain.ports import UnitOfWorkFactory
from crm_domain.records import PageRequest
from crm_domain.scope import Scope
from crm_domain.search import TextQuery
from tests.contract.builders import a_customer, a_product, at, read, walk, write

EVERYONE = Scope(all_customers=True)
ALL = PageRequest(limit=200)
#: (id, code, name, mobile, assigned rep)
CUSTOMERS = [
    ("c-1", "D0001", "Jaipur Agro Traders", "+919100000001", "rep-a"),
    ("c-2", "D0002", "Madurai Pumps & Motors", "+919100000002", "rep-b"),
    ("c-3", "D0103", "Agro-Tech (Jaipur) Pvt. Ltd", "+919812345678", "rep-a"),
    ("c-4", "X-77", "Shree Ganesh Agencies", "+14155550100", None),
]


def _customers(store: UnitOfWorkFactory) -> None:
    def add(uow: object) -> None:
        for i, code, name, mobile, rep in CUSTOMERS:
            customer = attrs.evolve(a_customer(i, code=code, assigned_rep_id=rep, mobile=mobile), name=name)
            uow.customers.add(customer)  # type: ignore[attr-defined]

    write(store, add)


def _find(store: UnitOfWorkFactory, q: str, scope: Scope = EVERYONE) -> list[str]:
    text = TextQuery.parse(q)
    return [c.id for c in read(store, lambda uow: walk(lambda p: uow.customers.page(p, scope, text=text), 2))]


class TestCustomerSearch:
    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("D000", ["c-1", "c-2"]),  # code prefix
            ("d01", ["c-3"]),  # ASCII case ignored
            ("x-7", ["c-4"]),
            ("jaipur", ["c-1", "c-3"]),  # a name word, anywhere in the name
            ("agro jai", ["c-1", "c-3"]),  # every word starts a word of the name, any order
            ("tech", ["c-3"]),  # words are cut at '-'
            ("pvt", ["c-3"]),  # ... and at '.' and brackets
            ("pumps motor", ["c-2"]),
            ("pumps tractor", []),  # every word must match
            ("9100000002", ["c-2"]),  # national number
            ("+91 98123", ["c-3"]),  # international, spaces and '+' aside
            ("919100", ["c-1", "c-2"]),
            ("1415555", ["c-4"]),
            ("55501", []),  # digits inside the number are not a prefix of it
            ("098123 45678", ["c-3"]),  # a whole number in any format: a trunk 0, dots, slashes, brackets
            ("(0) 98123.456/78", ["c-3"]),
            ("(+91) 98123-45678", ["c-3"]),
            ("0091 98123", ["c-3"]),  # 00 for an international call
            ("910", []),  # three digits are too few for a mobile
            ("raders", []),  # a word's inside is not its start
        ],
    )
    def test_q_finds_by_code_prefix_name_words_and_mobile_digits(
        self, store: UnitOfWorkFactory, q: str, expected: list[str]
    ) -> None:
        _customers(store)

        assert _find(store, q) == expected

    def test_search_keeps_the_scope(self, store: UnitOfWorkFactory) -> None:
        _customers(store)

        assert _find(store, "jaipur", Scope(rep_ids=frozenset({"rep-a"}))) == ["c-1", "c-3"]
        assert _find(store, "agro", Scope(customer_ids=frozenset({"c-1"}))) == ["c-1"]
        assert _find(store, "madurai", Scope(rep_ids=frozenset({"rep-a"}))) == []

    def test_a_page_of_matches_by_code(self, store: UnitOfWorkFactory) -> None:
        _customers(store)
        text = TextQuery.parse("0091 9")  # c-1, c-2 and c-3

        first = read(store, lambda uow: uow.customers.page(PageRequest(limit=2), EVERYONE, text=text))

        assert [c.id for c in first.items] == ["c-1", "c-2"]
        assert first.next_cursor is not None

    def test_a_renamed_customer_is_found_by_its_new_name_only(self, store: UnitOfWorkFactory) -> None:
        _customers(store)
        customer = read(store, lambda uow: uow.customers.get("c-2"))
        assert customer is not None
        write(store, lambda uow: uow.customers.save(attrs.evolve(customer, name="Kaveri Irrigation")))

        assert _find(store, "madurai") == []
        assert _find(store, "kaveri irr") == ["c-2"]

    def test_updated_since_keeps_the_customers_changed_at_or_after_it(self, store: UnitOfWorkFactory) -> None:
        _customers(store)
        customer = read(store, lambda uow: uow.customers.get("c-3"))
        assert customer is not None
        later = customer.updated_at + timedelta(hours=1)
        write(store, lambda uow: uow.customers.save(attrs.evolve(customer, territory="West", updated_at=later)))

        def since(instant: object) -> list[str]:
            return [
                c.id
                for c in read(
                    store,
                    lambda uow: walk(lambda p: uow.customers.page(p, EVERYONE, updated_since=instant), 10),  # type: ignore[arg-type]
                )
            ]

        assert since(later) == ["c-3"]
        assert since(later + timedelta(microseconds=1)) == []
        assert since(customer.updated_at) == ["c-1", "c-2", "c-3", "c-4"]


PRODUCTS = [("PMP-1", "Pump 1 HP"), ("PMP-2", "Pump 2 HP monoblock"), ("VLV-10", "Gate valve (brass)")]


def _products(store: UnitOfWorkFactory) -> None:
    write(store, lambda uow: uow.products.upsert_many([a_product(s, name=n) for s, n in PRODUCTS]))


class TestProductSearch:
    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("PMP", ["PMP-1", "PMP-2"]),
            ("vlv-1", ["VLV-10"]),
            ("pump", ["PMP-1", "PMP-2"]),
            ("mono pump", ["PMP-2"]),
            ("brass", ["VLV-10"]),
            ("hp", ["PMP-1", "PMP-2"]),
            ("valve steel", []),
        ],
    )
    def test_q_finds_by_sku_prefix_and_name_words(self, store: UnitOfWorkFactory, q: str, expected: list[str]) -> None:
        _products(store)
        text = TextQuery.parse(q)

        found = read(store, lambda uow: walk(lambda p: uow.products.page(p, text=text), 1))

        assert [p.sku for p in found] == expected

    def test_updated_since_and_active_only_combine(self, store: UnitOfWorkFactory) -> None:
        _products(store)
        later = at() + timedelta(days=1)
        write(
            store,
            lambda uow: uow.products.upsert_many(
                [
                    attrs.evolve(a_product("PMP-2", name="Pump 2 HP"), updated_at=later),
                    attrs.evolve(a_product("VLV-10", name="Gate valve", active=False), updated_at=later),
                ]
            ),
        )

        changed = read(store, lambda uow: uow.products.page(ALL, updated_since=later))
        active_changed = read(store, lambda uow: uow.products.page(ALL, updated_since=later, active_only=True))

        assert [p.sku for p in changed.items] == ["PMP-2", "VLV-10"]
        assert [p.sku for p in active_changed.items] == ["PMP-2"]


WORDS = ["agro", "jaipur", "pump", "d0", "91", "x-", "tech", "ltd", "motor", "98"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join))
def test_every_store_follows_the_rule(store: UnitOfWorkFactory, q: str) -> None:
    """Whatever the query, a store finds exactly the customers the rule of crm_domain.search matches."""
    if read(store, lambda uow: uow.customers.get("c-1")) is None:
        _customers(store)
    text = TextQuery.parse(q)
    expected = [
        i
        for i, code, name, mobile, _ in sorted(CUSTOMERS, key=lambda c: c[1])
        if text.matches_customer(code, name, mobile)
    ]

    assert _find(store, q) == expected
