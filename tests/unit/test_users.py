"""SPEC §2.2: users with normalised unique mobiles, roles, a manager tree, dealer links, deactivation, and who
may see whom."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_domain.errors import DuplicateKey, EntityNotFound, PermissionDenied, ValidationFailed
from crm_domain.records import PageRequest
from crm_domain.services.users import NewUser, UserChanges
from crm_domain.users import Actor, Permission, Role
from tests.unit.world import World


def everyone(world: World) -> list[str]:
    return sorted(u.id for u in world.crm.users.list(world.admin, PageRequest(limit=200)).items)


def new_user(
    mobile: str = "98220 12345", roles: frozenset[Role] = frozenset({Role.SALES_REP}), **kw: object
) -> NewUser:
    return NewUser(mobile=mobile, name="Nisha New", roles=roles, **kw)  # type: ignore[arg-type]


class TestCreateUser:
    def test_mobile_is_normalised_to_e164_and_times_are_set(self, world: World) -> None:
        user = world.crm.users.create(world.admin, new_user("098220-12345", manager_id=world.manager.id))
        assert user.mobile == "+919822012345"
        assert user.roles == frozenset({Role.SALES_REP})
        assert user.manager_id == world.manager.id
        assert user.active
        assert user.created_at == user.updated_at == world.clock.now()
        assert world.crm.users.get_by_mobile("+91 98220 12345") == user

    @pytest.mark.parametrize("mobile", ["9822012345", "+91 98220 12345", "0 98220 12345"])
    def test_a_taken_mobile_is_refused_however_it_is_written(self, world: World, mobile: str) -> None:
        world.crm.users.create(world.admin, new_user("+919822012345"))
        before = everyone(world)
        with pytest.raises(DuplicateKey) as raised:
            world.crm.users.create(world.admin, new_user(mobile))
        assert raised.value.field == "mobile"
        assert everyone(world) == before

    @pytest.mark.parametrize("mobile", ["12", "not a phone", "", "+91 12345"])
    def test_an_invalid_mobile_is_refused(self, world: World, mobile: str) -> None:
        before = everyone(world)
        with pytest.raises(ValidationFailed) as raised:
            world.crm.users.create(world.admin, new_user(mobile))
        assert raised.value.field == "mobile"
        assert everyone(world) == before

    @pytest.mark.parametrize(
        ("roles", "extra", "field"),
        [
            (frozenset({Role.DEALER}), {}, "customer_id"),  # a dealer user needs their customer
            (frozenset({Role.SALES_REP}), {"customer_id": "CUSTOMER"}, "customer_id"),  # only dealers belong to one
            (frozenset({Role.DEALER}), {"customer_id": "no-such-customer"}, "customer_id"),
            (frozenset({Role.SALES_REP}), {"manager_id": "no-such-user"}, "manager_id"),
            (frozenset(), {}, "roles"),
        ],
    )
    def test_inconsistent_users_are_refused(
        self, world: World, roles: frozenset[Role], extra: dict[str, str], field: str
    ) -> None:
        extra = {k: world.customer.id if v == "CUSTOMER" else v for k, v in extra.items()}
        before = everyone(world)
        with pytest.raises(ValidationFailed) as raised:
            world.crm.users.create(world.admin, new_user(roles=roles, **extra))
        assert raised.value.field == field
        assert everyone(world) == before

    def test_a_dealer_user_belongs_to_their_customer(self, world: World) -> None:
        user = world.crm.users.create(
            world.admin, new_user(roles=frozenset({Role.DEALER}), customer_id=world.customer2.id)
        )
        assert user.actor().customer_id == world.customer2.id

    def test_only_user_managers_create_users(self, world: World) -> None:
        before = everyone(world)
        with pytest.raises(PermissionDenied):
            world.crm.users.create(world.manager, new_user())
        assert everyone(world) == before

    def test_a_user_may_hold_several_roles(self, world: World) -> None:
        user = world.crm.users.create(world.admin, new_user(roles=frozenset({Role.SALES_REP, Role.SALES_MANAGER})))
        actor = user.actor()
        assert actor.can(Permission.TARGET_WRITE)
        assert actor.can(Permission.ORDER_CREATE)


class TestManagerTree:
    def test_a_cycle_is_refused(self, world: World) -> None:
        with pytest.raises(ValidationFailed) as raised:
            world.crm.users.update(world.admin, world.head.id, UserChanges(manager_id=world.rep.id))
        assert raised.value.field == "manager_id"
        assert world.crm.users.get(world.admin, world.head.id).manager_id is None

    def test_nobody_manages_themselves(self, world: World) -> None:
        with pytest.raises(ValidationFailed):
            world.crm.users.update(world.admin, world.rep.id, UserChanges(manager_id=world.rep.id))

    def test_moving_a_rep_moves_their_customers_between_managers(self, world: World) -> None:
        world.crm.users.update(world.admin, world.rep.id, UserChanges(manager_id=world.other_manager.id))
        other = {c.code for c in world.crm.customers.list(world.other_manager, PageRequest()).items}
        mine = {c.code for c in world.crm.customers.list(world.manager, PageRequest()).items}
        assert other == {"D-OMAR", "D-RAVI"}
        assert mine == {"D-REKHA"}


class TestUpdateUser:
    def test_deactivating_keeps_the_user_and_records_the_change(self, world: World) -> None:
        world.clock.advance(timedelta(hours=3))
        user = world.crm.users.update(world.admin, world.rep.id, UserChanges(active=False))
        assert not user.active
        assert user.updated_at == world.clock.now()
        assert user.updated_at > user.created_at
        assert not world.crm.users.find(world.rep.id).active  # type: ignore[union-attr]

    def test_you_cannot_deactivate_yourself(self, world: World) -> None:
        with pytest.raises(ValidationFailed):
            world.crm.users.update(world.admin, world.admin.id, UserChanges(active=False))
        assert world.crm.users.find(world.admin.id).active  # type: ignore[union-attr]

    def test_changing_to_a_taken_mobile_is_refused(self, world: World) -> None:
        taken = world.crm.users.get(world.admin, world.rep2.id).mobile
        with pytest.raises(DuplicateKey):
            world.crm.users.update(world.admin, world.rep.id, UserChanges(mobile=taken))

    def test_only_given_fields_change(self, world: World) -> None:
        before = world.crm.users.get(world.admin, world.rep.id)
        after = world.crm.users.update(world.admin, world.rep.id, UserChanges(territory="Nashik"))
        assert after.territory == "Nashik"
        assert (after.name, after.mobile, after.roles, after.manager_id) == (
            before.name,
            before.mobile,
            before.roles,
            before.manager_id,
        )

    def test_an_unknown_user_is_not_found(self, world: World) -> None:
        with pytest.raises(EntityNotFound):
            world.crm.users.update(world.admin, "nobody", UserChanges(name="X"))


class TestWhoSeesWhom:
    def ids(self, world: World, actor: Actor) -> set[str]:
        return {u.id for u in world.crm.users.list(actor, PageRequest(limit=200)).items}

    def test_managers_see_their_team_recursively_and_themselves(self, world: World) -> None:
        assert self.ids(world, world.head) == {world.head.id, world.manager.id, world.rep.id, world.rep2.id}
        assert self.ids(world, world.manager) == {world.manager.id, world.rep.id, world.rep2.id}

    def test_others_see_only_themselves(self, world: World) -> None:
        assert self.ids(world, world.rep) == {world.rep.id}
        assert self.ids(world, world.dealer) == {world.dealer.id}

    def test_admins_see_everyone(self, world: World) -> None:
        assert world.dealer.id in self.ids(world, world.admin)
        assert len(self.ids(world, world.admin)) == 11

    def test_a_user_outside_the_team_is_not_found(self, world: World) -> None:
        assert world.crm.users.get(world.manager, world.rep.id).id == world.rep.id
        with pytest.raises(EntityNotFound):
            world.crm.users.get(world.manager, world.other_rep.id)
        with pytest.raises(EntityNotFound):
            world.crm.users.get(world.rep, world.rep2.id)
