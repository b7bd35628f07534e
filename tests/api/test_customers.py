"""/api/v1/customers over HTTP: create, list, read and change within scope; credit terms through PATCH."""

from __future__ import annotations

from typing import Any

import pytest

from crm_domain.money import Money
from crm_domain.services.customers import NewCustomer
from tests.api.conftest import Api, problem

CUSTOMERS = "/api/v1/customers"
MASTER_KEYS = {
    "id",
    "code",
    "name",
    "mobile",
    "territory",
    "currency",
    "erp_system",
    "erp_customer_id",
    "assigned_rep_id",
    "active",
    "created_at",
    "updated_at",
}


def new_customer(api: Api, **change: Any) -> dict[str, Any]:
    return {
        "code": "D0100",
        "name": "Nashik Farm Supply",
        "mobile": "+919100000099",
        "territory": "West",
        "currency": "INR",
        "erp_system": "sap",
        "erp_customer_id": "SAP-100",
        "credit_limit": "100000.00",
        "assigned_rep_id": api.rep.id,
        "tolerance_pct": "5",
        "overdue_block_days": 30,
        **change,
    }


def everything(api: Api) -> list[dict[str, Any]]:
    """Every customer as the admin reads it, with its credit terms and position."""
    headers = api.login(api.admin)
    listed = api.client.get(CUSTOMERS, params={"limit": 200}, headers=headers)
    assert listed.status_code == 200, listed.text
    full = []
    for item in listed.json()["items"]:
        one = api.client.get(f"{CUSTOMERS}/{item['id']}", headers=headers).json()
        credit = api.client.get(f"{CUSTOMERS}/{item['id']}/credit", headers=headers).json()
        full.append({**one, "position": credit})
    return full


def customer(api: Api, customer_id: str) -> dict[str, Any]:
    response = api.client.get(f"{CUSTOMERS}/{customer_id}", headers=api.login(api.admin))
    assert response.status_code == 200, response.text
    return dict(response.json())


class TestCreateCustomer:
    def test_admin_creates_a_customer_with_its_credit_terms(self, api: Api) -> None:
        response = api.client.post(CUSTOMERS, json=new_customer(api), headers=api.login(api.admin))
        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == MASTER_KEYS | {"credit_limit", "tolerance_pct", "overdue_block_days"}
        assert {k: v for k, v in created.items() if k not in {"id", "created_at", "updated_at"}} == {
            "code": "D0100",
            "name": "Nashik Farm Supply",
            "mobile": "+919100000099",
            "territory": "West",
            "currency": "INR",
            "erp_system": "sap",
            "erp_customer_id": "SAP-100",
            "assigned_rep_id": api.rep.id,
            "active": True,
            "credit_limit": "100000.00",
            "tolerance_pct": "5",
            "overdue_block_days": 30,
        }
        assert created["created_at"] == created["updated_at"]
        assert customer(api, created["id"]) == created
        # The assigned rep sees it; the other rep does not.
        assert api.client.get(f"{CUSTOMERS}/{created['id']}", headers=api.login(api.rep)).status_code == 200
        problem(api.client.get(f"{CUSTOMERS}/{created['id']}", headers=api.login(api.other_rep)), 404)
        credit = api.client.get(f"{CUSTOMERS}/{created['id']}/credit", headers=api.login(api.rep)).json()
        assert (credit["limit"], credit["available"], credit["tolerance_pct"]) == ("100000.00", "100000.00", "5")

    def test_only_the_required_fields_and_currency_defaults_to_inr(self, api: Api) -> None:
        body = {"code": "D0101", "name": "Pune Pipes", "mobile": "98765 11111", "credit_limit": "2500.5"}
        response = api.client.post(CUSTOMERS, json=body, headers=api.login(api.admin))
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["currency"] == "INR"
        assert created["mobile"] == "+919876511111"
        assert created["credit_limit"] == "2500.50"
        assert (created["erp_system"], created["assigned_rep_id"], created["overdue_block_days"]) == (
            "sandbox",
            None,
            None,
        )
        assert created["tolerance_pct"] == "0"

    def test_another_currency_is_kept(self, api: Api) -> None:
        body = new_customer(api, code="EXP-1", currency="USD", credit_limit="900.00")
        created = api.client.post(CUSTOMERS, json=body, headers=api.login(api.admin)).json()
        credit = api.client.get(f"{CUSTOMERS}/{created['id']}/credit", headers=api.login(api.admin)).json()
        assert (created["currency"], credit["currency"], credit["limit"]) == ("USD", "USD", "900.00")

    def test_a_taken_code_is_409(self, api: Api) -> None:
        before = everything(api)
        response = api.client.post(CUSTOMERS, json=new_customer(api, code="D0001"), headers=api.login(api.admin))
        problem(response, 409, "duplicate")
        assert everything(api) == before

    def test_without_a_token_is_401(self, api: Api) -> None:
        problem(api.client.post(CUSTOMERS, json=new_customer(api)), 401)
        problem(api.client.get(CUSTOMERS), 401)
        problem(api.client.get(f"{CUSTOMERS}/{api.customer.id}"), 401)
        problem(api.client.patch(f"{CUSTOMERS}/{api.customer.id}", json={"name": "X"}), 401)

    @pytest.mark.parametrize("who", ["rep", "manager", "controller", "agent", "dealer"])
    def test_only_admins_create_customers(self, api: Api, who: str) -> None:
        before = everything(api)
        response = api.client.post(CUSTOMERS, json=new_customer(api), headers=api.login(getattr(api, who)))
        problem(response, 403, "permission_denied")
        assert everything(api) == before

    @pytest.mark.parametrize(
        "change",
        [
            {"code": {"$gt": ""}},
            {"name": {"$ne": None}},
            {"code": "has space"},
            {"code": ""},
            {"name": ""},
            {"mobile": "12345"},
            {"mobile": "call me"},
            {"mobile": 919100000099},
            {"credit_limit": "-1.00"},
            {"credit_limit": "1.234"},
            {"credit_limit": 100000},
            {"credit_limit": "1e5"},
            {"credit_limit": None},
            {"currency": "inr"},
            {"currency": "RUPEES"},
            {"erp_system": "oracle"},
            {"assigned_rep_id": "no-such-rep"},
            {"assigned_rep_id": {"$gt": ""}},
            {"tolerance_pct": "101"},
            {"tolerance_pct": "-1"},
            {"tolerance_pct": "1.234"},
            {"tolerance_pct": 2.5},
            {"tolerance_pct": True},
            {"overdue_block_days": "30"},
            {"overdue_block_days": -1},
            {"overdue_block_days": 1.5},
            {"overdue_block_days": True},
            {"credit_blocked": True},
            {"id": "chosen-id"},
        ],
    )
    def test_bad_input_is_400_and_creates_nothing(self, api: Api, change: dict[str, Any]) -> None:
        before = everything(api)
        response = api.client.post(CUSTOMERS, json=new_customer(api, **change), headers=api.login(api.admin))
        problem(response, 400)
        assert everything(api) == before

    def test_a_missing_field_is_400(self, api: Api) -> None:
        body = new_customer(api)
        del body["credit_limit"]
        problem(api.client.post(CUSTOMERS, json=body, headers=api.login(api.admin)), 400)


class TestReadCustomers:
    def test_lists_follow_scope(self, api: Api) -> None:
        def codes(who: Any) -> list[str]:
            response = api.client.get(CUSTOMERS, headers=api.login(who))
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            assert all(set(item) == MASTER_KEYS for item in items)
            return [item["code"] for item in items]

        assert codes(api.rep) == ["D0001"]
        assert codes(api.other_rep) == ["D0002"]
        assert codes(api.dealer) == ["D0001"]
        assert codes(api.manager) == ["D0001"]
        assert codes(api.head) == ["D0001", "D0002"]
        assert codes(api.agent) == ["D0001", "D0002"]
        assert codes(api.controller) == ["D0001", "D0002"]

    def test_outside_scope_is_404(self, api: Api) -> None:
        other = f"{CUSTOMERS}/{api.other_customer.id}"
        for who in (api.rep, api.dealer, api.manager):
            problem(api.client.get(other, headers=api.login(who)), 404, "not_found")
        problem(api.client.get(f"{CUSTOMERS}/no-such-customer", headers=api.login(api.admin)), 404, "not_found")
        for who in (api.head, api.other_rep, api.agent, api.controller):
            assert api.client.get(other, headers=api.login(who)).status_code == 200
        own = api.client.get(f"{CUSTOMERS}/{api.customer.id}", headers=api.login(api.dealer)).json()
        assert (own["code"], own["credit_limit"], own["tolerance_pct"]) == ("D0001", "10000.00", "0")

    def test_pagination_walks_every_customer_once(self, api: Api) -> None:
        admin = api.admin.actor()
        for n in range(9):
            api.container.crm.customers.create(
                admin,
                NewCustomer(
                    code=f"P{n:03d}",
                    name=f"Paged {n}",
                    mobile=f"+91910000010{n}",
                    credit_limit=Money.of("1000.00", "INR"),
                    assigned_rep_id=api.rep.id,
                ),
            )
        seen: list[str] = []
        sizes: list[int] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            body = api.client.get(CUSTOMERS, params=params, headers=api.login(api.rep)).json()
            seen += [c["code"] for c in body["items"]]
            sizes.append(len(body["items"]))
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == ["D0001", *(f"P{n:03d}" for n in range(9))]
        assert sizes == [3, 3, 3, 1]

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 500}, {"cursor": "@@@"}])
    def test_bad_paging_is_400(self, api: Api, params: dict[str, Any]) -> None:
        problem(api.client.get(CUSTOMERS, params=params, headers=api.login(api.admin)), 400)


class TestUpdateCustomer:
    def test_admin_changes_master_data_and_scope_follows_the_rep(self, api: Api) -> None:
        url = f"{CUSTOMERS}/{api.customer.id}"
        before = customer(api, api.customer.id)
        change = {
            "name": "Jaipur Agro Ltd",
            "mobile": "98290 00000",
            "territory": "North-West",
            "erp_system": "gennext",
            "erp_customer_id": "GN-7",
            "assigned_rep_id": api.other_rep.id,
        }
        response = api.client.patch(url, json=change, headers=api.login(api.admin))
        assert response.status_code == 200, response.text
        after = response.json()
        assert after == {
            **before,
            **change,
            "mobile": "+919829000000",
            "updated_at": after["updated_at"],
        }
        assert after["updated_at"] >= before["updated_at"]
        problem(api.client.get(url, headers=api.login(api.rep)), 404)
        assert api.client.get(url, headers=api.login(api.other_rep)).status_code == 200

    def test_admin_lowers_the_limit_with_a_reason_and_a_raise_is_refused(self, api: Api) -> None:
        held = api.order(api.rep, quantity="25")
        assert held["status"] == "on_credit_hold"
        url = f"{CUSTOMERS}/{api.customer.id}"
        change = {"credit_limit": "8000.00", "reason": "annual review"}
        response = api.client.patch(url, json=change, headers=api.login(api.admin))
        assert response.status_code == 200, response.text
        assert response.json()["credit_limit"] == "8000.00"
        raised = api.client.patch(url, json={"credit_limit": "20000.00"}, headers=api.login(api.admin))
        problem(raised, 403, "credit_raise_needs_approval")
        order = api.client.get(f"/api/v1/orders/{held['id']}", headers=api.login(api.rep)).json()
        assert order["status"] == "on_credit_hold"
        history = api.client.get(f"{url}/credit/history", headers=api.login(api.rep)).json()["items"]
        assert [(h["kind"], h["old"], h["new"], h["changed_by"], h["reason"]) for h in history] == [
            ("limit", "10000.00", "8000.00", api.admin.id, "annual review")
        ]

    def test_credit_controller_tightens_tolerance_and_overdue_block_and_loosening_is_refused(self, api: Api) -> None:
        url = f"{CUSTOMERS}/{api.customer.id}"
        headers = api.login(api.controller)
        raised = api.client.patch(url, json={"tolerance_pct": "7.5", "reason": "good payer"}, headers=headers)
        problem(raised, 403, "credit_raise_needs_approval")
        change = {"tolerance_pct": "0", "overdue_block_days": 45, "reason": "good payer"}
        response = api.client.patch(url, json=change, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["tolerance_pct"], body["overdue_block_days"]) == ("0", 45)
        credit = api.client.get(f"{url}/credit", headers=headers).json()
        assert (credit["tolerance_pct"], credit["overdue_block_days"]) == ("0", 45)
        tighter = api.client.patch(url, json={"overdue_block_days": 30}, headers=headers).json()
        assert tighter["overdue_block_days"] == 30
        cleared = api.client.patch(url, json={"overdue_block_days": None}, headers=headers)
        problem(cleared, 403, "credit_raise_needs_approval")
        history = api.client.get(f"{url}/credit/history", headers=headers).json()["items"]
        assert [(h["kind"], h["old"], h["new"], h["reason"]) for h in history] == [
            ("tolerance", "0", "0", "good payer"),
            ("overdue_block_days", None, "45", "good payer"),
            ("overdue_block_days", "45", "30", "changed with the customer's master data"),
        ]

    @pytest.mark.parametrize(
        ("who", "change"),
        [
            ("controller", {"name": "Renamed"}),
            ("controller", {"credit_limit": "99999.00"}),
            ("controller", {"name": "Renamed", "tolerance_pct": "5"}),
            ("manager", {"tolerance_pct": "5"}),
            ("rep", {"assigned_rep_id": "x"}),
            ("rep", {"credit_limit": "99999.00"}),
            ("dealer", {"name": "Mine now"}),
            ("agent", {"territory": "East"}),
        ],
    )
    def test_without_the_permission_is_403_and_nothing_changes(
        self, api: Api, who: str, change: dict[str, Any]
    ) -> None:
        before = everything(api)
        url = f"{CUSTOMERS}/{api.customer.id}"
        problem(api.client.patch(url, json=change, headers=api.login(getattr(api, who))), 403, "permission_denied")
        assert everything(api) == before

    def test_an_unknown_customer_is_404(self, api: Api) -> None:
        # Everyone who may change a customer (admin, credit controller) sees them all: no scope to fall out of.
        headers = api.login(api.admin)
        problem(api.client.patch(f"{CUSTOMERS}/nope", json={"name": "X"}, headers=headers), 404, "not_found")
        problem(api.client.patch(f"{CUSTOMERS}/nope", json={"tolerance_pct": "5"}, headers=headers), 404, "not_found")

    @pytest.mark.parametrize(
        "change",
        [
            {"name": {"$gt": ""}},
            {"name": None},
            {"name": ""},
            {"mobile": "12"},
            {"active": "no"},
            {"active": None},
            {"erp_system": "oracle"},
            {"credit_limit": "-5.00"},
            {"credit_limit": "1.234"},
            {"credit_limit": 20000},
            {"credit_limit": None},
            {"tolerance_pct": None},
            {"tolerance_pct": "200"},
            {"overdue_block_days": -3},
            {"overdue_block_days": "3"},
            {"reason": "no credit change"},
            {"code": "D0009"},
            {"currency": "USD"},
            {"assigned_rep_id": "no-such-rep"},
            {"name": "Fine", "credit_limit": "1.001"},
        ],
    )
    def test_bad_changes_are_400_and_change_nothing(self, api: Api, change: dict[str, Any]) -> None:
        before = everything(api)
        url = f"{CUSTOMERS}/{api.customer.id}"
        problem(api.client.patch(url, json=change, headers=api.login(api.admin)), 400)
        assert everything(api) == before
