"""UserRepository: round trips, the unique mobile, the name-ordered list and the manager tree."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from crm_domain.errors import DuplicateKey, ValidationFailed
from crm_domain.ports import UnitOfWorkFactory
from crm_domain.records import PageRequest
from crm_domain.users import Role
from tests.contract.builders import a_user, read, walk, write


class TestUserRoundTrip:
    def test_get_returns_every_field_as_added(self, store: UnitOfWorkFactory) -> None:
        user = a_user()
        write(store, lambda uow: uow.users.add(user))

        got = read(store, lambda uow: uow.users.get(user.id))

        assert got == user
        assert got is not None
        assert got.created_at.utcoffset() is not None

    def test_get_by_mobile_finds_the_user(self, store: UnitOfWorkFactory) -> None:
        user = a_user()
        write(store, lambda uow: uow.users.add(user))

        assert read(store, lambda uow: uow.users.get_by_mobile(user.mobile)) == user

    def test_unknown_ids_and_mobiles_are_none(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.users.add(a_user()))

        assert read(store, lambda uow: uow.users.get("nobody")) is None
        assert read(store, lambda uow: uow.users.get_by_mobile("+919000000000")) is None

    def test_a_dealer_user_keeps_their_customer(self, store: UnitOfWorkFactory) -> None:
        dealer = a_user("u-dealer", roles=frozenset({Role.DEALER}), customer_id="c-1", manager_id=None)
        write(store, lambda uow: uow.users.add(dealer))

        assert read(store, lambda uow: uow.users.get("u-dealer")) == dealer

    def test_save_replaces_the_stored_user(self, store: UnitOfWorkFactory) -> None:
        user = a_user()
        write(store, lambda uow: uow.users.add(user))
        changed = attrs.evolve(user, name="Asha R.", email=None, territory=None, active=True, manager_id=None)

        write(store, lambda uow: uow.users.save(changed))

        assert read(store, lambda uow: uow.users.get(user.id)) == changed


class TestMobileIsUnique:
    def test_adding_a_taken_mobile_is_a_duplicate(self, store: UnitOfWorkFactory) -> None:
        first = a_user("u-1")
        write(store, lambda uow: uow.users.add(first))

        with pytest.raises(DuplicateKey) as raised, store() as uow:
            uow.users.add(a_user("u-2", mobile=first.mobile))

        assert (raised.value.kind, raised.value.field, raised.value.value) == ("user", "mobile", first.mobile)
        assert read(store, lambda uow: uow.users.get("u-2")) is None

    def test_saving_with_another_users_mobile_is_a_duplicate(self, store: UnitOfWorkFactory) -> None:
        first, second = a_user("u-1"), a_user("u-2")
        write(store, lambda uow: (uow.users.add(first), uow.users.add(second)))

        with pytest.raises(DuplicateKey) as raised, store() as uow:
            uow.users.save(attrs.evolve(second, mobile=first.mobile))

        assert (raised.value.kind, raised.value.field) == ("user", "mobile")
        assert read(store, lambda uow: uow.users.get("u-2")) == second

    def test_saving_a_user_with_their_own_mobile_is_fine(self, store: UnitOfWorkFactory) -> None:
        user = a_user()
        write(store, lambda uow: uow.users.add(user))

        write(store, lambda uow: uow.users.save(attrs.evolve(user, name="Renamed")))

        stored = read(store, lambda uow: uow.users.get(user.id))
        assert stored is not None
        assert stored.name == "Renamed"

    def test_a_freed_mobile_can_be_taken(self, store: UnitOfWorkFactory) -> None:
        first = a_user("u-1")
        write(store, lambda uow: uow.users.add(first))
        write(store, lambda uow: uow.users.save(attrs.evolve(first, mobile="+919811111111")))

        write(store, lambda uow: uow.users.add(a_user("u-2", mobile=first.mobile)))

        stored = read(store, lambda uow: uow.users.get_by_mobile(first.mobile))
        assert stored is not None
        assert stored.id == "u-2"


class TestUserList:
    NAMES = [("u-5", "Zoya"), ("u-2", "Asha"), ("u-9", "Meera"), ("u-1", "Asha"), ("u-3", "Bala")]
    ORDER = ["u-1", "u-2", "u-3", "u-9", "u-5"]  # by name, then id

    def _add_all(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: [uow.users.add(a_user(i, name=n)) for i, n in self.NAMES])

    @pytest.mark.parametrize("limit", [1, 2, 5, 200])
    def test_pages_walk_every_user_once_by_name_then_id(self, store: UnitOfWorkFactory, limit: int) -> None:
        self._add_all(store)

        users = read(store, lambda uow: walk(uow.users.page, limit))

        assert [u.id for u in users] == self.ORDER

    def test_an_exactly_full_last_page_has_no_next_cursor(self, store: UnitOfWorkFactory) -> None:
        self._add_all(store)

        first = read(store, lambda uow: uow.users.page(PageRequest(limit=5)))

        assert len(first.items) == 5
        assert first.next_cursor is None

    def test_only_the_given_ids_are_listed(self, store: UnitOfWorkFactory) -> None:
        self._add_all(store)
        wanted = frozenset({"u-5", "u-1", "u-missing"})

        users = read(store, lambda uow: walk(lambda page: uow.users.page(page, ids=wanted), 1))

        assert [u.id for u in users] == ["u-1", "u-5"]

    def test_an_empty_id_set_lists_nobody(self, store: UnitOfWorkFactory) -> None:
        self._add_all(store)

        assert read(store, lambda uow: uow.users.page(PageRequest(), ids=frozenset())).items == []

    @pytest.mark.parametrize("cursor", ["not a cursor!", "e30", "WyJhIl0", "WzEsMl0"])
    def test_a_forged_cursor_is_a_validation_error(self, store: UnitOfWorkFactory, cursor: str) -> None:
        self._add_all(store)  # cursors: ["a"] has one key instead of two; [1, 2] has numbers for names

        with pytest.raises(ValidationFailed), store(read_only=True) as uow:
            uow.users.page(PageRequest(limit=2, cursor=cursor))


class TestManagerTree:
    def _tree(self, store: UnitOfWorkFactory) -> None:
        # head ── m1 ── r1 ── r1a
        #      │     └─ r2
        #      └─ m2
        # other ── r3
        edges = [
            ("head", None),
            ("m1", "head"),
            ("m2", "head"),
            ("r1", "m1"),
            ("r2", "m1"),
            ("r1a", "r1"),
            ("other", None),
            ("r3", "other"),
        ]
        write(store, lambda uow: [uow.users.add(a_user(i, manager_id=m)) for i, m in edges])

    def test_subordinates_are_everyone_below_recursively(self, store: UnitOfWorkFactory) -> None:
        self._tree(store)

        assert read(store, lambda uow: uow.users.subordinate_ids("head")) == {"m1", "m2", "r1", "r2", "r1a"}
        assert read(store, lambda uow: uow.users.subordinate_ids("m1")) == {"r1", "r2", "r1a"}

    def test_a_leaf_and_an_unknown_user_have_no_subordinates(self, store: UnitOfWorkFactory) -> None:
        self._tree(store)

        assert read(store, lambda uow: uow.users.subordinate_ids("r1a")) == frozenset()
        assert read(store, lambda uow: uow.users.subordinate_ids("nobody")) == frozenset()

    def test_a_cycle_in_the_data_ends_and_excludes_the_manager(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: [uow.users.add(a_user(i, manager_id=m)) for i, m in [("a", "c"), ("b", "a")]])
        write(store, lambda uow: uow.users.add(a_user("c", manager_id="b")))

        assert read(store, lambda uow: uow.users.subordinate_ids("a")) == {"b", "c"}

    def test_a_moved_user_takes_their_team_along(self, store: UnitOfWorkFactory) -> None:
        self._tree(store)
        r1 = read(store, lambda uow: uow.users.get("r1"))
        assert r1 is not None

        write(store, lambda uow: uow.users.save(attrs.evolve(r1, manager_id="other")))

        assert read(store, lambda uow: uow.users.subordinate_ids("other")) == {"r3", "r1", "r1a"}
        assert read(store, lambda uow: uow.users.subordinate_ids("m1")) == {"r2"}


class TestUsersUpdatedSince:
    def test_only_users_changed_at_or_after_the_instant_within_the_ids(self, store: UnitOfWorkFactory) -> None:
        users = [a_user("u-1", name="A"), a_user("u-2", name="B"), a_user("u-3", name="C")]
        write(store, lambda uow: [uow.users.add(u) for u in users])
        later = users[1].updated_at + timedelta(minutes=5)
        write(store, lambda uow: uow.users.save(attrs.evolve(users[1], territory="West", updated_at=later)))
        write(store, lambda uow: uow.users.save(attrs.evolve(users[2], territory="East", updated_at=later)))

        def since(ids: frozenset[str] | None) -> list[str]:
            return [
                u.id
                for u in read(store, lambda uow: walk(lambda p: uow.users.page(p, ids=ids, updated_since=later), 1))
            ]

        assert since(None) == ["u-2", "u-3"]
        assert since(frozenset({"u-1", "u-3"})) == ["u-3"]
