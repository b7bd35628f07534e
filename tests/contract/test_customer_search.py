"""CustomerRepository.search: the caller lookup of the call-center portal — mobile prefixes, a code prefix in any
case, words of the name (each starting a word), within scope, by code, at most `limit`."""

from __future__ import annotations

import itertools
import re

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


WORDS = ["shree", "sharma", "ganesh", "gan", "pipes", "élan", "ÉLAN", "Öko", "traders", "a1", "x"]
_examples = itertools.count()


def _reference(c: Customer, search: CustomerSearch) -> bool:
    """SPEC §12 lookup, stated plainly: a mobile prefix, a code prefix in any case, or every word starting a word."""
    words = [w for w in re.split(r"[^\w]|_", c.name.casefold()) if w]
    return (
        any(c.mobile.startswith(p) for p in search.mobile_prefixes)
        or (bool(search.code_prefix) and c.code.casefold().startswith(search.code_prefix.casefold()))
        or (bool(search.name_words) and all(any(w.startswith(q) for w in words) for q in search.name_words))
    )


class TestAgainstTheReference:
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        names=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3), min_size=1, max_size=5),
        digits=st.lists(st.sampled_from(["98", "97", "1"]), min_size=5, max_size=5),
        code_prefix=st.sampled_from(["", "d", "D-1", "q"]),
        prefixes=st.lists(st.sampled_from(["+9198", "+9197", "+1", "+91981"]), max_size=2),
        query_words=st.lists(st.sampled_from(["sh", "gan", "élan", "öko", "pipes", "a", "zzz"]), max_size=2),
    )
    def test_every_store_answers_like_the_plain_rule(
        self,
        store: UnitOfWorkFactory,
        names: list[list[str]],
        digits: list[str],
        code_prefix: str,
        prefixes: list[str],
        query_words: list[str],
    ) -> None:
        n = next(_examples)  # the store lives across examples: each one searches only its own customers
        customers = [
            dealer(
                f"c{n}-{i}",
                f"{'D' if i % 2 else 'd'}-{i}{n}",
                " ".join(words),
                f"+{'91' if digits[i] != '1' else ''}{digits[i]}{n:04d}{i:04d}",
            )
            for i, words in enumerate(names)
        ]
        write(store, lambda uow: [uow.customers.add(c) for c in customers])
        search = CustomerSearch(
            mobile_prefixes=tuple(prefixes),
            code_prefix=code_prefix,
            name_words=tuple(w.casefold() for w in query_words),
        )
        scope = Scope(customer_ids=frozenset(c.id for c in customers))

        found = read(store, lambda uow: uow.customers.search(search, scope, 50))

        assert [c.id for c in found] == [c.id for c in sorted(customers, key=lambda c: c.code) if _reference(c, search)]
