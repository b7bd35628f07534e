"""TargetRepository: one target per (user, month), replaced by `put`, listed by user; `updated_since` keeps
those set since."""

from __future__ import annotations

import attrs

from crm_domain.ports import UnitOfWorkFactory
from tests.contract.builders import a_target, at, inr, read, write


class TestTargets:
    def test_get_returns_the_target_as_put(self, store: UnitOfWorkFactory) -> None:
        target = a_target()
        write(store, lambda uow: uow.targets.put(target))

        assert read(store, lambda uow: uow.targets.get("u-1", "2026-11")) == target

    def test_unknown_user_or_month_has_no_target(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.targets.put(a_target()))

        assert read(store, lambda uow: uow.targets.get("u-1", "2026-12")) is None
        assert read(store, lambda uow: uow.targets.get("u-2", "2026-11")) is None

    def test_put_replaces_the_target_of_the_same_user_and_month(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.targets.put(a_target(amount=100)))
        replacement = attrs.evolve(a_target(amount=250), set_by="u-admin", updated_at=at(60))

        write(store, lambda uow: uow.targets.put(replacement))

        assert read(store, lambda uow: uow.targets.get("u-1", "2026-11")) == replacement
        assert read(store, lambda uow: uow.targets.for_period("2026-11")) == [replacement]

    def test_list_holds_the_months_targets_by_user(self, store: UnitOfWorkFactory) -> None:
        targets = [a_target("u-3"), a_target("u-1"), a_target("u-2"), a_target("u-1", "2026-12")]
        write(store, lambda uow: [uow.targets.put(t) for t in targets])

        assert [t.user_id for t in read(store, lambda uow: uow.targets.for_period("2026-11"))] == ["u-1", "u-2", "u-3"]
        assert read(store, lambda uow: uow.targets.for_period("2026-12")) == [a_target("u-1", "2026-12")]
        assert read(store, lambda uow: uow.targets.for_period("2027-01")) == []

    def test_list_of_some_users_leaves_the_others_out(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: [uow.targets.put(a_target(u)) for u in ["u-1", "u-2", "u-3"]])

        found = read(store, lambda uow: uow.targets.for_period("2026-11", frozenset({"u-3", "u-1", "u-9"})))

        assert [t.user_id for t in found] == ["u-1", "u-3"]
        assert read(store, lambda uow: uow.targets.for_period("2026-11", frozenset())) == []

    def test_the_amount_keeps_its_currency(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.targets.put(attrs.evolve(a_target(), amount=inr(12_345_67))))

        stored = read(store, lambda uow: uow.targets.get("u-1", "2026-11"))

        assert stored is not None
        assert stored.amount == inr(12_345_67)


class TestTargetsUpdatedSince:
    def test_only_the_months_targets_set_at_or_after_the_instant_within_the_users(
        self, store: UnitOfWorkFactory
    ) -> None:
        targets = [
            attrs.evolve(a_target("u-1"), updated_at=at(0)),
            attrs.evolve(a_target("u-2"), updated_at=at(10)),
            attrs.evolve(a_target("u-3"), updated_at=at(20)),
            attrs.evolve(a_target("u-1", "2026-12"), updated_at=at(30)),  # another month
        ]
        write(store, lambda uow: [uow.targets.put(t) for t in targets])

        def since(minutes: float, user_ids: frozenset[str] | None = None) -> list[str]:
            found = read(store, lambda uow: uow.targets.for_period("2026-11", user_ids, updated_since=at(minutes)))
            return [t.user_id for t in found]

        assert since(10) == ["u-2", "u-3"]  # at the instant counts
        assert since(10.001) == ["u-3"]
        assert since(0, frozenset({"u-1", "u-3"})) == ["u-1", "u-3"]
        assert since(10, frozenset({"u-1", "u-2"})) == ["u-2"]
        assert since(31) == []

    def test_replacing_a_target_brings_it_back_into_the_delta(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: [uow.targets.put(a_target(u)) for u in ["u-1", "u-2"]])
        write(store, lambda uow: uow.targets.put(attrs.evolve(a_target("u-2", amount=1), updated_at=at(60))))

        found = read(store, lambda uow: uow.targets.for_period("2026-11", updated_since=at(30)))

        assert [(t.user_id, t.amount) for t in found] == [("u-2", inr(1))]
