"""CustomerRepository.search: the caller lookup of the call-center portal — mobile prefixes, a code prefix in any
case, words of the name (each starting a word), within scope, by code, at most `limit`."""

from __future__ import annotations

import attrs
import pytest

from crm_domain.customers import Customer, CustomerSearch
from crm_domain.ports import UnitOfWorkFactory
from crm_domain.scope import Scope
from tests.contract.builders import a_customer, read, write

EVERYONE = Scope(all_customers=True)


def dealer(id: str, code: str, name: str, mobile: str, rep: str | None = "u-1") -> Customer:
    return attrs.evolve(a_customer(id, code=code, mobile=mobile, assigned_rep_id=rep), name=name)


DEALERS = [
    dealer("c-1", "PUNE-001", "Sharma Traders", "+919876543210"),
    dealer("c-2", "PUNE-002", "Shree Ganesh Hardware", "+919876500000", rep="u-2"),
    dealer("c-3", "nashik-7", "Ganesh Pipes & Fittings", "+919812345678"),
    dealer("c-4", "MUM-9", "Élan Pumps Mumbai", "+14155550123", rep=None),
]


@pytest.fixture
def seeded(store: UnitOfWorkFactory) -> UnitOfWorkFactory:
    write(store, lambda uow: [uow.customers.add(c) for c in DEALERS])
    return store


def codes(store: UnitOfWorkFactory, search: CustomerSearch, scope: Scope = EVERYONE, limit: int = 10) -> list[str]:
    return [c.code for c in read(store, lambda uow: uow.customers.search(search, scope, limit))]


class TestByMobile:
    def test_a_whole_number_finds_its_customer(self, seeded: UnitOfWorkFactory) -> None:
        assert codes(seeded, CustomerSearch(mobile_prefixes=("+919876543210",))) == ["PUNE-001"]

    def test_a_prefix_finds_every_customer_whose_mobile_starts_so(self, seeded: UnitOfWorkFactory) -> None:
        assert codes(seeded, CustomerSearch(mobile_prefixes=("+919876",))) == ["PUNE-001", "PUNE-002"]
        assert codes(seeded, CustomerSearch(mobile_prefixes=("+9198765", "+1415"))) == ["MUM-9", "PUNE-001", "PUNE-002"]

    def test_digits_inside_a_number_do_not_match(self, seeded: UnitOfWorkFactory) -> None:
        assert codes(seeded, CustomerSearch(mobile_prefixes=("+43210",))) == []


class TestByCode:
    def test_a_prefix_in_any_case(self, seeded: UnitOfWorkFactory) -> None:
        assert codes(seeded, CustomerSearch(code_prefix="pune")) == ["PUNE-001", "PUNE-002"]
        assert codes(seeded, CustomerSearch(code_prefix="PUNE-002")) == ["PUNE-002"]
        assert codes(seeded, CustomerSearch(code_prefix="NASH")) == ["nashik-7"]

    def test_a_code_that_only_contains_the_text_is_not_found(self, seeded: UnitOfWorkFactory) -> None:
        assert codes(seeded, CustomerSearch(code_prefix="001")) == []


class TestByNameWords:
    def test_every_word_must_start_a_word_of_the_name(self, seeded: UnitOfWorkFactory) -> None:
        assert codes(seeded, CustomerSearch(name_words=("ganesh",))) == ["PUNE-002", "nashik-7"]
        assert codes(seeded, CustomerSearch(name_words=("gan", "pip"))) == ["nashik-7"]
        assert codes(seeded, CustomerSearch(name_words=("shar",))) == ["PUNE-001"]
        assert codes(seeded, CustomerSearch(name_words=("élan",))) == ["MUM-9"]

    def test_the_middle_of_a_word_does_not_match(self, seeded: UnitOfWorkFactory) -> None:
        assert codes(seeded, CustomerSearch(name_words=("arma",))) == []

    def test_a_renamed_customer_is_found_by_its_new_name_only(self, seeded: UnitOfWorkFactory) -> None:
        write(seeded, lambda uow: uow.customers.save(attrs.evolve(DEALERS[0], name="Verma Agencies")))

        assert codes(seeded, CustomerSearch(name_words=("sharma",))) == []
        assert codes(seeded, CustomerSearch(name_words=("verma", "agen"))) == ["PUNE-001"]


class TestTogether:
    def test_any_part_may_match_and_the_answer_is_by_code(self, seeded: UnitOfWorkFactory) -> None:
        search = CustomerSearch(mobile_prefixes=("+1415",), code_prefix="nash", name_words=("sharma",))

        assert codes(seeded, search) == ["MUM-9", "PUNE-001", "nashik-7"]

    def test_an_empty_search_finds_nothing(self, seeded: UnitOfWorkFactory) -> None:
        assert codes(seeded, CustomerSearch()) == []

    def test_at_most_limit(self, seeded: UnitOfWorkFactory) -> None:
        assert codes(seeded, CustomerSearch(mobile_prefixes=("+91",)), limit=2) == ["PUNE-001", "PUNE-002"]

    def test_only_customers_in_scope(self, seeded: UnitOfWorkFactory) -> None:
        search = CustomerSearch(mobile_prefixes=("+91", "+1"))

        assert codes(seeded, search, Scope(rep_ids=frozenset({"u-1"}))) == ["PUNE-001", "nashik-7"]
        assert codes(seeded, search, Scope(customer_ids=frozenset({"c-4"}))) == ["MUM-9"]
        assert codes(seeded, search, Scope()) == []
