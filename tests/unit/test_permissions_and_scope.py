"""SPEC §2.2: one table of role permissions, and scope (which customers) enforced in the services; anything
outside scope is reported as not found, never as forbidden."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crm_domain.errors import EntityNotFound, PermissionDenied
from crm_domain.orders import LineRequest, Order
from crm_domain.records import PageRequest
from crm_domain.services.customers import CustomerChanges
from crm_domain.services.orders import NewOrder
from crm_domain.users import ROLE_PERMISSIONS, Actor, Permission, Role, permissions_of
from tests.unit.world import World, inr

P = Permission
R = Role

#: The SPEC's personas, read as a table: (role, permission, granted).
TABLE: list[tuple[Role, Permission, bool]] = [
    (R.SALES_REP, P.ORDER_CREATE, True),
    (R.SALES_REP, P.ORDER_SUBMIT, True),
    (R.SALES_REP, P.ORDER_CANCEL, True),
    (R.SALES_REP, P.CUSTOMER_READ, True),
    (R.SALES_REP, P.CREDIT_READ, True),
    (R.SALES_REP, P.PERFORMANCE_READ, True),
    (R.SALES_REP, P.REPORT_READ, True),
    (R.SALES_REP, P.ORDER_RELEASE, False),
    (R.SALES_REP, P.CREDIT_LIMIT_APPROVE, False),
    (R.SALES_REP, P.CUSTOMER_WRITE, False),
    (R.SALES_REP, P.TARGET_WRITE, False),
    (R.SALES_REP, P.USER_MANAGE, False),
    (R.DEALER, P.ORDER_CREATE, True),
    (R.DEALER, P.ORDER_SUBMIT, True),
    (R.DEALER, P.CREDIT_READ, True),
    (R.DEALER, P.ORDER_RELEASE, False),
    (R.DEALER, P.CREDIT_LIMIT_REQUEST, False),
    (R.DEALER, P.PERFORMANCE_READ, False),
    (R.DEALER, P.REPORT_READ, False),
    (R.CALL_CENTER_AGENT, P.ORDER_CREATE, True),
    (R.CALL_CENTER_AGENT, P.ORDER_SUBMIT, True),
    (R.CALL_CENTER_AGENT, P.ORDER_RELEASE, False),
    (R.CALL_CENTER_AGENT, P.CREDIT_LIMIT_APPROVE, False),
    (R.SALES_MANAGER, P.ORDER_CREATE, True),
    (R.SALES_MANAGER, P.CREDIT_LIMIT_REQUEST, True),
    (R.SALES_MANAGER, P.TARGET_WRITE, True),
    (R.SALES_MANAGER, P.PERFORMANCE_READ, True),
    (R.SALES_MANAGER, P.REPORT_READ, True),
    (R.SALES_MANAGER, P.CREDIT_LIMIT_APPROVE, False),
    (R.SALES_MANAGER, P.ORDER_RELEASE, False),
    (R.SALES_MANAGER, P.USER_MANAGE, False),
    (R.CREDIT_CONTROLLER, P.ORDER_RELEASE, True),
    (R.CREDIT_CONTROLLER, P.CREDIT_LIMIT_APPROVE, True),
    (R.CREDIT_CONTROLLER, P.CREDIT_READ, True),
    (R.CREDIT_CONTROLLER, P.REPORT_READ, True),
    (R.CREDIT_CONTROLLER, P.ORDER_CREATE, False),
    (R.CREDIT_CONTROLLER, P.USER_MANAGE, False),
    (R.CREDIT_CONTROLLER, P.CREDIT_LIMIT_SET, False),
]


class TestPermissionTable:
    @pytest.mark.parametrize(("role", "permission", "granted"), TABLE)
    def test_role_grants(self, role: Role, permission: Permission, granted: bool) -> None:
        assert (permission in ROLE_PERMISSIONS[role]) is granted

    def test_every_role_is_in_the_table_and_admin_may_do_everything(self) -> None:
        assert set(ROLE_PERMISSIONS) == set(Role)
        assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)

    def test_several_roles_grant_the_union(self) -> None:
        both = permissions_of(frozenset({Role.SALES_REP, Role.CREDIT_CONTROLLER}))
        assert both == ROLE_PERMISSIONS[Role.SALES_REP] | ROLE_PERMISSIONS[Role.CREDIT_CONTROLLER]

    def test_an_actor_without_the_permission_is_denied_with_its_name(self) -> None:
        actor = Actor(id="u1", roles=frozenset({Role.DEALER}))
        assert actor.can(P.ORDER_CREATE)
        with pytest.raises(PermissionDenied) as raised:
            actor.require(P.ORDER_RELEASE)
        assert raised.value.permission == "order:release"


Call = Callable[[World], object]
#: Use cases refused for lack of a permission, whatever the scope.
DENIED: dict[str, tuple[str, Call]] = {
    "rep releases": ("order:release", lambda w: w.crm.orders.release(w.rep, "any", "note")),
    "agent rejects": ("order:release", lambda w: w.crm.orders.reject(w.agent, "any", "reason")),
    "dealer asks for a limit": (
        "credit_limit:request",
        lambda w: w.crm.credit.request_limit_change(w.dealer, w.customer.id, inr("1.00"), "more"),
    ),
    "manager approves a limit": ("credit_limit:approve", lambda w: w.crm.credit.approve_request(w.manager, "any")),
    "rep blocks a customer": ("credit_limit:approve", lambda w: w.crm.credit.block(w.rep, w.customer.id, "late")),
    "controller orders": (
        "order:create",
        lambda w: w.crm.orders.create(
            w.controller, NewOrder(customer_id=w.customer.id, lines=(LineRequest(sku="PUMP", quantity="1"),))
        ),
    ),
    "rep sets a target": (
        "target:write",
        lambda w: w.crm.performance.set_target(w.rep, w.rep.id, "2026-11", inr("1.00")),
    ),
    "manager sets a limit directly": (
        "credit_limit:set",
        lambda w: w.crm.credit.set_limit(w.manager, w.customer.id, inr("1.00"), "x"),
    ),
    "dealer reads performance": ("performance:read", lambda w: w.crm.performance.figures(w.dealer, "2026-11")),
}


class TestPermissionsInServices:
    @pytest.mark.parametrize("case", sorted(DENIED))
    def test_missing_permission_is_refused_and_changes_nothing(self, world: World, case: str) -> None:
        permission, call = DENIED[case]
        before = world.snapshot()
        with pytest.raises(PermissionDenied) as raised:
            call(world)
        assert raised.value.permission == permission
        assert world.snapshot() == before


def codes(world: World, actor: Actor) -> list[str]:
    return [c.code for c in world.crm.customers.list(actor, PageRequest(limit=200)).items]


ALL = ["D-OMAR", "D-RAVI", "D-REKHA"]


class TestCustomerScope:
    @pytest.mark.parametrize(
        ("who", "visible"),
        [
            ("rep", ["D-RAVI"]),
            ("rep2", ["D-REKHA"]),
            ("manager", ["D-RAVI", "D-REKHA"]),
            ("head", ["D-RAVI", "D-REKHA"]),
            ("other_manager", ["D-OMAR"]),
            ("other_rep", ["D-OMAR"]),
            ("dealer", ["D-RAVI"]),
            ("agent", ALL),
            ("controller", ALL),
            ("admin", ALL),
        ],
    )
    def test_who_sees_which_customers(self, world: World, who: str, visible: list[str]) -> None:
        assert codes(world, getattr(world, who)) == visible

    def test_a_manager_sees_reps_three_levels_down(self, world: World) -> None:
        lead = world.user(Role.SALES_MANAGER, name="Tara Teamlead", manager=world.manager)
        deep_rep = world.user(Role.SALES_REP, name="Dinesh Deep", manager=lead)
        world.new_customer(deep_rep, code="D-DEEP")

        assert "D-DEEP" in codes(world, world.head)  # head → manager → lead → deep_rep
        assert "D-DEEP" in codes(world, world.manager)
        assert codes(world, lead) == ["D-DEEP"]
        assert "D-DEEP" not in codes(world, world.rep)
        assert "D-DEEP" not in codes(world, world.other_manager)

    def test_a_managers_own_customers_are_in_scope(self, world: World) -> None:
        world.new_customer(world.manager, code="D-MGR")
        assert "D-MGR" in codes(world, world.manager)
        assert "D-MGR" in codes(world, world.head)
        assert "D-MGR" not in codes(world, world.rep)

    def test_scope_follows_a_customers_reassignment(self, world: World) -> None:
        world.crm.customers.update(world.admin, world.customer.id, CustomerChanges(assigned_rep_id=world.rep2.id))
        assert codes(world, world.rep) == []
        assert codes(world, world.rep2) == ["D-RAVI", "D-REKHA"]
        assert codes(world, world.dealer) == ["D-RAVI"]  # a dealer always sees their own customer

    def test_a_customer_without_a_rep_is_seen_only_by_those_who_see_all(self, world: World) -> None:
        world.new_customer(None, code="D-NOREP")
        assert "D-NOREP" in codes(world, world.agent)
        assert "D-NOREP" not in codes(world, world.head)


ScopedCall = Callable[[World, Order, Actor], object]
#: Reads and writes of something outside the actor's scope: (world, an order of D-RAVI, a dealer of D-REKHA).
OUT_OF_SCOPE: dict[str, ScopedCall] = {
    "customer": lambda w, o, d: w.crm.customers.get(w.rep2, w.customer.id),
    "customer by code": lambda w, o, d: w.crm.customers.get_by_code(w.dealer, "D-REKHA"),
    "credit position": lambda w, o, d: w.crm.credit.position(w.other_manager, w.customer.id),
    "limit history": lambda w, o, d: w.crm.credit.limit_history(w.rep2, w.customer.id),
    "limit request": lambda w, o, d: w.crm.credit.request_limit_change(w.other_manager, w.customer.id, inr("1"), "x"),
    "order": lambda w, o, d: w.crm.orders.get(w.rep2, o.id),
    "order of another dealer": lambda w, o, d: w.crm.orders.get(d, o.id),
    "submit": lambda w, o, d: w.crm.orders.submit(w.other_rep, o.id),
    "cancel": lambda w, o, d: w.crm.orders.cancel(d, o.id, "mine now"),
    "quote": lambda w, o, d: w.crm.orders.quote(
        w.other_manager, NewOrder(customer_id=o.customer_id, lines=(LineRequest(sku="PUMP", quantity="1"),))
    ),
}


class TestOutOfScopeIsNotFound:
    @pytest.mark.parametrize("case", sorted(OUT_OF_SCOPE))
    def test_out_of_scope_is_not_found_and_changes_nothing(self, world: World, case: str) -> None:
        order = world.order(world.rep, world.customer, ("PUMP", "1"), submit=False)
        other_dealer = world.user(Role.DEALER, name="Rita Dealer", customer=world.customer2)
        before = world.snapshot()
        with pytest.raises(EntityNotFound):
            OUT_OF_SCOPE[case](world, order, other_dealer)
        assert world.snapshot() == before

    def test_not_found_looks_the_same_as_a_missing_customer(self, world: World) -> None:
        with pytest.raises(EntityNotFound) as hidden:
            world.crm.customers.get(world.rep2, world.customer.id)
        with pytest.raises(EntityNotFound) as missing:
            world.crm.customers.get(world.rep2, "no-such-customer")
        assert type(hidden.value) is type(missing.value)
        assert hidden.value.kind == missing.value.kind == "customer"

    def test_order_lists_follow_scope(self, world: World) -> None:
        mine = world.order(world.rep, world.customer, ("PUMP", "1"), submit=False)
        theirs = world.order(world.rep2, world.customer2, ("PUMP", "1"), submit=False)
        outside = world.order(world.other_rep, world.outsider, ("PUMP", "1"), submit=False)

        def ids(actor: Actor) -> set[str]:
            return {o.id for o in world.crm.orders.list(actor, PageRequest(limit=200)).items}

        assert ids(world.rep) == {mine.id}
        assert ids(world.dealer) == {mine.id}
        assert ids(world.manager) == {mine.id, theirs.id}
        assert ids(world.head) == {mine.id, theirs.id}
        assert ids(world.controller) == {mine.id, theirs.id, outside.id}
        assert ids(world.agent) == {mine.id, theirs.id, outside.id}

    def test_in_scope_the_same_calls_succeed(self, world: World) -> None:
        order = world.order(world.rep, world.customer, ("PUMP", "1"), submit=False)
        assert world.crm.orders.get(world.head, order.id).id == order.id
        assert world.crm.orders.get(world.dealer, order.id).id == order.id
        assert world.crm.credit.position(world.dealer, world.customer.id).limit == inr("10000.00")
        assert world.crm.customers.get_by_code(world.manager, "D-RAVI").customer.id == world.customer.id
