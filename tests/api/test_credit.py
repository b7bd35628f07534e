"""Credit over HTTP: the position and its history, temporary limits and blocks, and credit-limit requests
decided with four eyes (a raise releases held orders that fit)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import Response

from crm_domain.money import Money
from tests.api.conftest import Api, problem

REQUESTS = "/api/v1/credit-limit-requests"


def credit_url(api: Api, customer_id: str | None = None) -> str:
    return f"/api/v1/customers/{customer_id or api.customer.id}/credit"


def position(api: Api, customer_id: str | None = None) -> dict[str, Any]:
    response = api.client.get(credit_url(api, customer_id), headers=api.login(api.admin))
    assert response.status_code == 200, response.text
    return dict(response.json())


def history(api: Api, customer_id: str | None = None) -> list[dict[str, Any]]:
    response = api.client.get(f"{credit_url(api, customer_id)}/history", headers=api.login(api.admin))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def ask(api: Api, who: Any, new_limit: str = "20000.00", customer_id: str | None = None, **extra: Any) -> Response:
    body = {"new_limit": new_limit, "reason": "festival season", **extra}
    url = f"/api/v1/customers/{customer_id or api.customer.id}/credit-limit-requests"
    return api.client.post(url, json=body, headers=api.login(who))


def requested(api: Api, who: Any, new_limit: str = "20000.00", customer_id: str | None = None) -> dict[str, Any]:
    response = ask(api, who, new_limit, customer_id)
    assert response.status_code == 201, response.text
    return dict(response.json())


def all_requests(api: Api) -> list[dict[str, Any]]:
    response = api.client.get(REQUESTS, params={"limit": 200}, headers=api.login(api.admin))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def order_status(api: Api, order_id: str) -> str:
    return str(api.client.get(f"/api/v1/orders/{order_id}", headers=api.login(api.rep)).json()["status"])


def credit_state(api: Api) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    return position(api), history(api), all_requests(api)


class TestPosition:
    def test_a_fresh_customer(self, api: Api) -> None:
        response = api.client.get(credit_url(api), headers=api.login(api.rep))
        assert response.status_code == 200, response.text
        assert response.json() == {
            "customer_id": api.customer.id,
            "currency": "INR",
            "limit": "10000.00",
            "receivables": "0.00",
            "open_orders": "0.00",
            "exposure": "0.00",
            "available": "10000.00",
            "blocked": False,
            "reason": None,
            "base_limit": "10000.00",
            "temporary_limit": None,
            "temporary_limit_until": None,
            "tolerance_pct": "0",
            "dispatched": "0.00",
            "overdue_days": 0,
            "overdue_block_days": None,
        }

    def test_orders_and_erp_balances_count(self, api: Api) -> None:
        api.order(api.rep, quantity="10")
        api.container.crm.credit.update_balance(api.customer.id, Money.of("1500.25", "INR"), 3)
        p = api.client.get(credit_url(api), headers=api.login(api.dealer)).json()
        assert (p["receivables"], p["open_orders"], p["exposure"], p["available"], p["overdue_days"]) == (
            "1500.25",
            "4956.00",
            "6456.25",
            "3543.75",
            3,
        )

    def test_over_the_limit_shows_negative_available(self, api: Api) -> None:
        api.container.crm.credit.update_balance(api.customer.id, Money.of("12000.00", "INR"), 0)
        assert position(api)["available"] == "-2000.00"

    def test_without_a_token_is_401(self, api: Api) -> None:
        problem(api.client.get(credit_url(api)), 401)
        problem(api.client.get(f"{credit_url(api)}/history"), 401)
        for action in ("temporary-limit", "block", "unblock"):
            problem(api.client.post(f"{credit_url(api)}/{action}", json={"reason": "x"}), 401)

    def test_outside_scope_is_404(self, api: Api) -> None:
        other = credit_url(api, api.other_customer.id)
        for who in (api.rep, api.dealer, api.manager):
            problem(api.client.get(other, headers=api.login(who)), 404, "not_found")
            problem(api.client.get(f"{other}/history", headers=api.login(who)), 404, "not_found")
        problem(api.client.get(credit_url(api, "no-such-customer"), headers=api.login(api.admin)), 404)
        for who in (api.other_rep, api.head, api.agent, api.controller):
            assert api.client.get(other, headers=api.login(who)).status_code == 200
        assert api.client.get(credit_url(api), headers=api.login(api.dealer)).status_code == 200


class TestTemporaryLimit:
    def test_a_temporary_limit_is_asked_for_approved_releases_held_orders_and_can_be_cleared(self, api: Api) -> None:
        held = api.order(api.rep, quantity="25")
        assert held["status"] == "on_credit_hold"
        until = (api.container.crm.ctx.today() + timedelta(days=7)).isoformat()
        body = {"amount": "15000.00", "valid_until": until, "reason": "harvest"}
        response = api.client.post(f"{credit_url(api)}/temporary-limit", json=body, headers=api.login(api.controller))
        problem(response, 403, "credit_raise_needs_approval")
        ask = {"kind": "temporary_limit", "new_limit": "15000.00", "valid_until": until, "reason": "harvest"}
        url = f"/api/v1/customers/{api.customer.id}/credit-limit-requests"
        request = api.client.post(url, json=ask, headers=api.login(api.admin)).json()
        approved = api.client.post(f"{REQUESTS}/{request['id']}/approve", headers=api.login(api.controller))
        assert approved.status_code == 200, approved.text
        p = position(api)
        assert (p["limit"], p["base_limit"], p["temporary_limit"], p["temporary_limit_until"]) == (
            "15000.00",
            "10000.00",
            "15000.00",
            until,
        )
        assert (p["open_orders"], p["available"]) == ("12390.00", "2610.00")
        assert order_status(api, held["id"]) == "submitted"

        clear = {"amount": None, "reason": "harvest over"}
        cleared = api.client.post(f"{credit_url(api)}/temporary-limit", json=clear, headers=api.login(api.controller))
        assert cleared.status_code == 200, cleared.text
        assert (cleared.json()["limit"], cleared.json()["temporary_limit"]) == ("10000.00", None)
        assert [(h["kind"], h["old"], h["new"], h["changed_by"]) for h in history(api)] == [
            ("temporary_limit", None, f"15000.00 until {until}", api.controller.id),
            ("temporary_limit", f"15000.00 until {until}", None, api.controller.id),
        ]

    @pytest.mark.parametrize("who", ["rep", "manager", "dealer", "agent"])
    def test_only_credit_controllers_set_it(self, api: Api, who: str) -> None:
        before = credit_state(api)
        body = {"amount": "99999.00", "valid_until": "2099-01-01", "reason": "please"}
        response = api.client.post(
            f"{credit_url(api)}/temporary-limit", json=body, headers=api.login(getattr(api, who))
        )
        problem(response, 403, "permission_denied")
        assert credit_state(api) == before

    @pytest.mark.parametrize(
        "change",
        [
            {"amount": "-1.00"},
            {"amount": "1.234"},
            {"amount": 15000},
            {"amount": {"$gt": ""}},
            {"valid_until": None},
            {"valid_until": "next week"},
            {"valid_until": 20991231},
            {"valid_until": "2099-02-30"},
            {"reason": ""},
            {"reason": "   "},
            {"reason": {"$ne": ""}},
            {"currency": "USD"},
            {"until": "2099-01-01"},
            {"amount": None},
        ],
    )
    def test_bad_input_is_400_and_changes_nothing(self, api: Api, change: dict[str, Any]) -> None:
        before = credit_state(api)
        body = {"amount": "15000.00", "valid_until": "2099-01-01", "reason": "harvest", **change}
        response = api.client.post(f"{credit_url(api)}/temporary-limit", json=body, headers=api.login(api.controller))
        problem(response, 400)
        assert credit_state(api) == before

    def test_amount_is_required_even_to_clear(self, api: Api) -> None:
        body = {"reason": "forgot the amount"}
        response = api.client.post(f"{credit_url(api)}/temporary-limit", json=body, headers=api.login(api.controller))
        problem(response, 400)


class TestBlock:
    def test_block_holds_submits_and_unblock_releases_them(self, api: Api) -> None:
        controller = api.login(api.controller)
        response = api.client.post(f"{credit_url(api)}/block", json={"reason": "cheque bounced"}, headers=controller)
        assert response.status_code == 200, response.text
        assert (response.json()["blocked"], response.json()["reason"]) == (True, "cheque bounced")
        held = api.order(api.rep, quantity="1")
        assert (held["status"], held["credit"]["reason"]) == ("on_credit_hold", "customer_blocked")

        response = api.client.post(f"{credit_url(api)}/unblock", json={"reason": "cheque cleared"}, headers=controller)
        problem(response, 403, "credit_raise_needs_approval")
        url = f"/api/v1/customers/{api.customer.id}/credit-limit-requests"
        ask = {"kind": "unblock", "reason": "cheque cleared"}
        request = api.client.post(url, json=ask, headers=api.login(api.admin)).json()
        assert api.client.post(f"{REQUESTS}/{request['id']}/approve", headers=controller).status_code == 200
        p = position(api)
        assert (p["blocked"], p["reason"], p["open_orders"]) == (False, None, "495.60")
        assert order_status(api, held["id"]) == "submitted"
        assert [(h["kind"], h["old"], h["new"], h["reason"]) for h in history(api)] == [
            ("block", None, "cheque bounced", "cheque bounced"),
            ("unblock", "cheque bounced", None, "cheque cleared"),
        ]

    @pytest.mark.parametrize("action", ["block", "unblock"])
    @pytest.mark.parametrize("who", ["rep", "manager", "dealer", "agent"])
    def test_only_credit_controllers_block(self, api: Api, action: str, who: str) -> None:
        before = credit_state(api)
        response = api.client.post(
            f"{credit_url(api)}/{action}", json={"reason": "because"}, headers=api.login(getattr(api, who))
        )
        problem(response, 403, "permission_denied")
        assert credit_state(api) == before

    @pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": " "}, {"reason": 1}, {"reason": "x", "force": 1}])
    def test_a_reason_is_required(self, api: Api, body: dict[str, Any]) -> None:
        before = credit_state(api)
        problem(api.client.post(f"{credit_url(api)}/block", json=body, headers=api.login(api.controller)), 400)
        assert credit_state(api) == before

    def test_unknown_customer_is_404(self, api: Api) -> None:
        url = f"{credit_url(api, 'no-such-customer')}/block"
        problem(api.client.post(url, json={"reason": "x"}, headers=api.login(api.controller)), 404)


class TestLimitRequests:
    def test_a_manager_asks_and_a_credit_controller_approves_releasing_the_held_order(self, api: Api) -> None:
        held = api.order(api.rep, quantity="25")
        assert held["status"] == "on_credit_hold"
        request = requested(api, api.manager)
        assert request == {
            "id": request["id"],
            "customer_id": api.customer.id,
            "kind": "limit",
            "currency": "INR",
            "current_limit": "10000.00",
            "new_limit": "20000.00",
            "valid_until": None,
            "tolerance_pct": None,
            "overdue_block_days": None,
            "reason": "festival season",
            "status": "pending",
            "requested_by": api.manager.id,
            "requested_at": request["requested_at"],
            "decided_by": None,
            "decided_at": None,
            "decision_note": None,
            "updated_at": request["requested_at"],
        }
        assert order_status(api, held["id"]) == "on_credit_hold"

        response = api.client.post(
            f"{REQUESTS}/{request['id']}/approve",
            json={"note": "payment record is good"},
            headers=api.login(api.controller),
        )
        assert response.status_code == 200, response.text
        decided = response.json()
        assert decided == {
            **request,
            "status": "approved",
            "decided_by": api.controller.id,
            "decided_at": decided["decided_at"],
            "decision_note": "payment record is good",
            "updated_at": decided["decided_at"],
        }
        assert order_status(api, held["id"]) == "submitted"
        p = position(api)
        assert (p["limit"], p["open_orders"], p["available"]) == ("20000.00", "12390.00", "7610.00")
        (change,) = history(api)
        assert change == {
            "id": change["id"],
            "kind": "limit",
            "old": "10000.00",
            "new": "20000.00",
            "changed_by": api.controller.id,
            "at": change["at"],
            "reason": "festival season",
            "request_id": request["id"],
        }
        got = api.client.get(f"{REQUESTS}/{request['id']}", headers=api.login(api.manager))
        assert got.status_code == 200
        assert got.json() == decided

    def test_rejecting_changes_no_limit(self, api: Api) -> None:
        held = api.order(api.rep, quantity="25")
        request = requested(api, api.manager)
        response = api.client.post(
            f"{REQUESTS}/{request['id']}/reject", json={"note": "too many overdue bills"}, headers=api.login(api.admin)
        )
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["decision_note"]) == ("rejected", "too many overdue bills")
        assert position(api)["limit"] == "10000.00"
        assert history(api) == []
        assert order_status(api, held["id"]) == "on_credit_hold"

    def test_a_decision_needs_no_body(self, api: Api) -> None:
        request = requested(api, api.manager)
        response = api.client.post(f"{REQUESTS}/{request['id']}/approve", headers=api.login(api.controller))
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["decision_note"]) == ("approved", None)

    def test_four_eyes_one_cannot_decide_ones_own_request(self, api: Api) -> None:
        request = requested(api, api.controller)
        for action in ("approve", "reject"):
            response = api.client.post(
                f"{REQUESTS}/{request['id']}/{action}", json={}, headers=api.login(api.controller)
            )
            problem(response, 403, "four_eyes")
        assert position(api)["limit"] == "10000.00"
        assert api.client.get(f"{REQUESTS}/{request['id']}", headers=api.login(api.admin)).json()["status"] == "pending"
        assert api.client.post(f"{REQUESTS}/{request['id']}/approve", headers=api.login(api.admin)).status_code == 200

    def test_deciding_twice_is_409(self, api: Api) -> None:
        request = requested(api, api.manager)
        assert (
            api.client.post(f"{REQUESTS}/{request['id']}/approve", headers=api.login(api.controller)).status_code == 200
        )
        for action in ("approve", "reject"):
            response = api.client.post(f"{REQUESTS}/{request['id']}/{action}", headers=api.login(api.admin))
            problem(response, 409, "invalid_transition")
        assert len(history(api)) == 1

    @pytest.mark.parametrize("who", ["rep", "dealer", "agent"])
    def test_asking_needs_the_permission(self, api: Api, who: str) -> None:
        problem(ask(api, getattr(api, who)), 403, "permission_denied")
        assert all_requests(api) == []

    @pytest.mark.parametrize("who", ["rep", "manager", "head", "dealer", "agent"])
    @pytest.mark.parametrize("action", ["approve", "reject"])
    def test_deciding_needs_the_permission(self, api: Api, who: str, action: str) -> None:
        request = requested(api, api.controller)
        response = api.client.post(f"{REQUESTS}/{request['id']}/{action}", headers=api.login(getattr(api, who)))
        problem(response, 403, "permission_denied")
        assert all_requests(api) == [request]

    def test_outside_scope_is_404(self, api: Api) -> None:
        problem(ask(api, api.manager, customer_id=api.other_customer.id), 404, "not_found")
        problem(ask(api, api.manager, customer_id="no-such-customer"), 404, "not_found")
        theirs = requested(api, api.controller, customer_id=api.other_customer.id)
        problem(api.client.get(f"{REQUESTS}/{theirs['id']}", headers=api.login(api.manager)), 404, "not_found")
        assert api.client.get(f"{REQUESTS}/{theirs['id']}", headers=api.login(api.head)).status_code == 200
        problem(api.client.get(f"{REQUESTS}/nope", headers=api.login(api.controller)), 404, "not_found")
        problem(api.client.post(f"{REQUESTS}/nope/approve", headers=api.login(api.controller)), 404, "not_found")

    def test_without_a_token_is_401(self, api: Api) -> None:
        request = requested(api, api.manager)
        problem(api.client.post(f"/api/v1/customers/{api.customer.id}/credit-limit-requests", json={}), 401)
        problem(api.client.get(REQUESTS), 401)
        problem(api.client.get(f"{REQUESTS}/{request['id']}"), 401)
        problem(api.client.post(f"{REQUESTS}/{request['id']}/approve"), 401)
        problem(api.client.post(f"{REQUESTS}/{request['id']}/reject"), 401)

    @pytest.mark.parametrize("who", ["rep", "dealer", "agent"])
    def test_reading_requests_needs_a_credit_limit_permission(self, api: Api, who: str) -> None:
        request = requested(api, api.manager)
        headers = api.login(getattr(api, who))
        problem(api.client.get(REQUESTS, headers=headers), 403, "permission_denied")
        problem(api.client.get(f"{REQUESTS}/{request['id']}", headers=headers), 403, "permission_denied")

    @pytest.mark.parametrize(
        "change",
        [
            {"new_limit": "-5.00"},
            {"new_limit": "1.001"},
            {"new_limit": 20000},
            {"new_limit": {"$gt": ""}},
            {"new_limit": None},
            {"reason": ""},
            {"reason": None},
            {"reason": {"$ne": ""}},
            {"currency": "USD"},
            {"currency": "usd"},
            {"status": "approved"},
        ],
    )
    def test_bad_input_is_400_and_stores_nothing(self, api: Api, change: dict[str, Any]) -> None:
        before = credit_state(api)
        body = {"new_limit": "20000.00", "reason": "festival season", **change}
        url = f"/api/v1/customers/{api.customer.id}/credit-limit-requests"
        problem(api.client.post(url, json=body, headers=api.login(api.manager)), 400)
        assert credit_state(api) == before

    @pytest.mark.parametrize("body", [{"note": {"$gt": ""}}, {"note": 5}, {"approved": True}, {"note": "x" * 201}])
    def test_bad_decision_bodies_are_400_and_decide_nothing(self, api: Api, body: dict[str, Any]) -> None:
        request = requested(api, api.manager)
        response = api.client.post(f"{REQUESTS}/{request['id']}/approve", json=body, headers=api.login(api.controller))
        problem(response, 400)
        assert all_requests(api) == [request]
        assert position(api)["limit"] == "10000.00"


class TestListRequests:
    def test_filter_by_status_and_walk_every_page_once(self, api: Api) -> None:
        made = [requested(api, api.manager, f"{20000 + n}.00") for n in range(7)]
        approve = api.client.post(f"{REQUESTS}/{made[0]['id']}/approve", headers=api.login(api.controller))
        assert approve.status_code == 200
        headers = api.login(api.controller)
        seen: list[str] = []
        sizes: list[int] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            body = api.client.get(REQUESTS, params=params, headers=headers).json()
            seen += [r["id"] for r in body["items"]]
            sizes.append(len(body["items"]))
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == [r["id"] for r in reversed(made)]  # newest first, each once
        assert sizes == [2, 2, 2, 1]
        pending = api.client.get(REQUESTS, params={"status": "pending"}, headers=headers).json()["items"]
        assert {r["id"] for r in pending} == {r["id"] for r in made[1:]}
        approved = api.client.get(REQUESTS, params={"status": "approved"}, headers=headers).json()["items"]
        assert [r["id"] for r in approved] == [made[0]["id"]]

    def test_a_manager_lists_only_their_customers_requests(self, api: Api) -> None:
        mine = requested(api, api.manager)
        requested(api, api.controller, customer_id=api.other_customer.id)
        listed = api.client.get(REQUESTS, headers=api.login(api.manager)).json()["items"]
        assert [r["id"] for r in listed] == [mine["id"]]
        assert len(api.client.get(REQUESTS, headers=api.login(api.controller)).json()["items"]) == 2

    @pytest.mark.parametrize("params", [{"status": "maybe"}, {"limit": 0}, {"limit": 201}, {"cursor": "!!"}])
    def test_bad_query_is_400(self, api: Api, params: dict[str, Any]) -> None:
        problem(api.client.get(REQUESTS, params=params, headers=api.login(api.controller)), 400)
