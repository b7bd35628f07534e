"""Issue 12, finding 1: one person could get their own held order through by raising its customer's credit alone
(a huge temporary limit, tolerance 100 %, unblocking …); the automatic re-evaluation then released it "by the
system". SPEC §2.3 credit governance: every raise is a credit-term change request approved by a second person,
within bounds; the re-evaluation after it never releases an order of the requester or the approver. Reproduced
through the library, the API (both configurations) and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crm_domain.credit_governance import TermKind
from crm_domain.errors import CreditRaiseNeedsApproval, FourEyesViolation, ValidationFailed
from crm_domain.orders import Order, OrderStatus
from crm_domain.services.credit import AUTO_RELEASE_NOTE, TermRequest
from crm_domain.services.customers import CreditTerms, CustomerRecord
from entrypoints.cli.context import OPERATOR, container
from tests.api.conftest import Api, problem
from tests.cli.conftest import Result
from tests.unit.world import World, inr

HELD = OrderStatus.ON_CREDIT_HOLD
FAR = date(2036, 12, 31)

#: Each way one person could raise credit alone, given the customer (limit 10000, overdue block 30 days) and
#: `until`, a valid-until date within the bounds.
Raise = Callable[[World, date], object]
DIRECT_RAISES: dict[str, Raise] = {
    "a huge temporary limit": lambda w, until: w.crm.credit.set_temporary_limit(
        w.admin, w.customer.id, inr("9999999999999.00"), until, "probe"
    ),
    "tolerance 100 %": lambda w, until: w.crm.credit.set_tolerance(w.admin, w.customer.id, "100", "probe"),
    "the base limit up": lambda w, until: w.crm.credit.set_limit(w.admin, w.customer.id, inr("90000.00"), "probe"),
    "unblocking": lambda w, until: w.crm.credit.unblock(w.admin, w.customer.id, "probe"),
    "the overdue block removed": lambda w, until: w.crm.credit.set_overdue_block(w.admin, w.customer.id, None, "x"),
    "an import raising the limit": lambda w, until: w.crm.customers.upsert(
        w.admin,
        CustomerRecord(
            code=w.customer.code,
            name=w.customer.name,
            currency="INR",
            terms=CreditTerms(limit=inr("90000.00"), overdue_block_days=30),
        ),
    ),
}


def own_held_order(world: World) -> Order:
    """The admin (every credit permission) creates an order that goes on hold; for "unblocking" the customer is
    blocked, for the overdue block it is overdue."""
    world.crm.credit.set_overdue_block(world.controller, world.customer.id, 30, "terms")
    order = world.order_of("12000.00", actor=world.admin)
    assert order.status is HELD
    return order


class TestLibrary:
    @pytest.mark.parametrize("how", sorted(DIRECT_RAISES))
    def test_one_person_cannot_raise_credit_alone_to_release_their_own_held_order(self, world: World, how: str) -> None:
        order = own_held_order(world)
        if how == "unblocking":
            world.crm.credit.block(world.controller, world.customer.id, "cheque bounced")
        if how == "the overdue block removed":
            world.crm.credit.update_balance(world.customer.id, inr("0.00"), 45)
        before = world.snapshot()

        with pytest.raises(CreditRaiseNeedsApproval) as refused:
            DIRECT_RAISES[how](world, world.crm.ctx.today() + timedelta(days=7))

        assert "credit-limit-requests" in str(refused.value)
        assert world.snapshot() == before
        assert world.crm.orders.get(world.admin, order.id).status is HELD

    def test_a_raise_one_asked_for_does_not_release_ones_own_order_even_when_another_approves(
        self, world: World
    ) -> None:
        own = own_held_order(world)
        others = world.order_of("11000.00")  # the rep's: fits once the limit is raised
        assert others.status is HELD
        until = world.crm.ctx.today() + timedelta(days=30)
        request = world.crm.credit.request_term_change(
            world.admin,
            world.customer.id,
            TermRequest(kind=TermKind.TEMPORARY_LIMIT, new_limit=inr("50000.00"), valid_until=until),
            "season",
        )
        with pytest.raises(FourEyesViolation):
            world.crm.credit.approve_request(world.admin, request.id)

        world.crm.credit.approve_request(world.controller, request.id)

        assert world.crm.orders.get(world.admin, own.id).status is HELD
        released = world.crm.orders.get(world.admin, others.id)
        assert released.status is OrderStatus.SUBMITTED
        last = released.history[-1]
        assert (last.actor_id, last.note) == (world.controller.id, AUTO_RELEASE_NOTE)
        # a later sweep does not release it either: it waits for another person
        assert world.crm.credit.reevaluate(world.customer.id) == []
        assert world.crm.orders.get(world.admin, own.id).status is HELD
        with pytest.raises(FourEyesViolation):
            world.crm.orders.release(world.admin, own.id, "mine")
        assert world.crm.orders.release(world.controller2, own.id, "checked").status is OrderStatus.SUBMITTED

    def test_a_raise_one_approved_does_not_release_ones_own_order(self, world: World) -> None:
        own = own_held_order(world)
        request = world.crm.credit.request_limit_change(world.controller, world.customer.id, inr("50000.00"), "x")
        world.crm.credit.approve_request(world.admin, request.id)
        assert world.crm.orders.get(world.admin, own.id).status is HELD

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            (
                TermRequest(kind=TermKind.TEMPORARY_LIMIT, new_limit=inr("9999999999999.00"), valid_until=FAR),
                "valid_until",
            ),
            (TermRequest(kind=TermKind.TOLERANCE, tolerance_pct=Decimal(100)), "tolerance_pct"),
        ],
    )
    def test_a_request_beyond_the_bounds_is_refused(self, world: World, change: TermRequest, field: str) -> None:
        before = world.snapshot()
        with pytest.raises(ValidationFailed) as refused:
            world.crm.credit.request_term_change(world.admin, world.customer.id, change, "probe")
        assert refused.value.field == field
        assert world.snapshot() == before


def _api_order_held_by_admin(api: Api) -> dict[str, Any]:
    order = api.order(api.admin, quantity="25")
    assert order["status"] == "on_credit_hold"
    return order


def _status(api: Api, order_id: str) -> str:
    response = api.client.get(f"/api/v1/orders/{order_id}", headers=api.login(api.admin))
    return str(response.json()["status"])


class TestApi:
    def test_one_person_cannot_raise_credit_alone_to_release_their_own_held_order(self, api: Api) -> None:
        order = _api_order_held_by_admin(api)
        admin = api.login(api.admin)
        credit = f"/api/v1/customers/{api.customer.id}"
        raises = [
            (
                "post",
                f"{credit}/credit/temporary-limit",
                {"amount": "9999999999999.00", "valid_until": "2027-01-01", "reason": "probe"},
            ),
            ("patch", credit, {"tolerance_pct": "20", "reason": "probe"}),
            ("patch", credit, {"credit_limit": "90000.00", "reason": "probe"}),
        ]
        for method, url, body in raises:
            response = api.client.request(method, url, json=body, headers=admin)
            assert "credit-limit-requests" in problem(response, 403, "credit_raise_needs_approval")["detail"]
        assert api.client.post(f"{credit}/credit/block", json={"reason": "x"}, headers=admin).status_code == 200
        response = api.client.post(f"{credit}/credit/unblock", json={"reason": "probe"}, headers=admin)
        problem(response, 403, "credit_raise_needs_approval")
        assert _status(api, order["id"]) == "on_credit_hold"

    def test_a_patch_that_raises_credit_changes_no_master_data_either(self, api: Api) -> None:
        url = f"/api/v1/customers/{api.customer.id}"
        body = {"name": "Renamed", "credit_limit": "90000.00", "reason": "probe"}
        problem(api.client.patch(url, json=body, headers=api.login(api.admin)), 403, "credit_raise_needs_approval")
        after = api.client.get(url, headers=api.login(api.admin)).json()
        assert (after["name"], after["credit_limit"]) == ("Jaipur Agro", "10000.00")

    def test_a_raise_is_a_request_within_bounds_and_does_not_release_the_requesters_order(self, api: Api) -> None:
        order = _api_order_held_by_admin(api)
        url = f"/api/v1/customers/{api.customer.id}/credit-limit-requests"
        admin = api.login(api.admin)
        far = {"kind": "temporary_limit", "new_limit": "9999999999999.00", "valid_until": "2036-12-31", "reason": "x"}
        problem(api.client.post(url, json=far, headers=admin), 400)
        problem(
            api.client.post(url, json={"kind": "tolerance", "tolerance_pct": "100", "reason": "x"}, headers=admin), 400
        )
        until = (api.container.crm.ctx.today() + timedelta(days=30)).isoformat()
        body = {"kind": "temporary_limit", "new_limit": "50000.00", "valid_until": until, "reason": "season"}
        created = api.client.post(url, json=body, headers=admin)
        assert created.status_code == 201, created.text
        request = created.json()
        assert (request["kind"], request["new_limit"], request["valid_until"]) == ("temporary_limit", "50000.00", until)
        decide = f"/api/v1/credit-limit-requests/{request['id']}/approve"
        problem(api.client.post(decide, headers=admin), 403, "four_eyes")
        approved = api.client.post(decide, headers=api.login(api.controller))
        assert approved.status_code == 200, approved.text
        assert _status(api, order["id"]) == "on_credit_hold"


Cli = Callable[..., Result]


class TestCli:
    def test_an_import_cannot_raise_an_existing_customers_limit(self, crm_cli: Cli, tmp_path: Path) -> None:
        first = tmp_path / "a.csv"
        first.write_text("code,name,mobile,credit_limit\nD1,Jaipur Agro,9876500011,1000.00\n")
        assert crm_cli("customers", "import", str(first)).code == 0  # a new customer's opening limit
        raised = tmp_path / "b.csv"
        raised.write_text("code,name,mobile,credit_limit\nD1,Jaipur Agro,9876500011,9999999.00\n")

        result = crm_cli("customers", "import", str(raised))

        assert result.code == 1
        assert "credit-term change request" in result.out + result.err
        assert container().crm.customers.get_by_code(OPERATOR, "D1").account.limit == 100_000
