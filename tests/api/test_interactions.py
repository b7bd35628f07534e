"""The call log over HTTP (SPEC §2.8, §4): GET and POST /customers/{id}/interactions."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import Response

from tests.api.conftest import Api, problem


def url(api: Api, customer_id: str | None = None) -> str:
    return f"/api/v1/customers/{customer_id or api.customer.id}/interactions"


def log(api: Api, who: Any, customer_id: str | None = None, **body: Any) -> Response:
    payload = {"direction": "in", "outcome": "enquiry", "note": "asked for the price of pumps", **body}
    return api.client.post(url(api, customer_id), json=payload, headers=api.login(who))


class TestLogACall:
    def test_an_agent_logs_a_call_and_reads_it_back(self, api: Api) -> None:
        order = api.order(api.agent)

        response = log(
            api, api.agent, direction="out", outcome="order_placed", note="20 pumps\nby Friday", order_id=order["id"]
        )

        assert response.status_code == 201, response.text
        call = response.json()
        assert {k: call[k] for k in ("customer_id", "agent_id", "direction", "outcome", "note", "order_id")} == {
            "customer_id": api.customer.id,
            "agent_id": api.agent.id,
            "direction": "out",
            "outcome": "order_placed",
            "note": "20 pumps\nby Friday",
            "order_id": order["id"],
        }
        listed = api.client.get(url(api), headers=api.login(api.agent))
        assert listed.status_code == 200
        assert listed.json() == {"items": [call], "next_cursor": None}

    @pytest.mark.parametrize(
        "body",
        [
            {"outcome": "sold"},
            {"direction": "up"},
            {"note": "ring\x07"},
            {"note": "x" * 2001},
            {"order_id": "../x"},
            {"agent_id": "someone-else"},
            {"outcome": None},
        ],
    )
    def test_bad_input_is_a_problem_and_nothing_is_logged(self, api: Api, body: dict[str, Any]) -> None:
        problem(log(api, api.agent, **body), 400)

        assert api.client.get(url(api), headers=api.login(api.agent)).json()["items"] == []

    def test_an_order_of_another_customer_is_refused(self, api: Api) -> None:
        order = api.order(api.admin, customer_id=api.other_customer.id)

        body = problem(log(api, api.agent, order_id=order["id"]), 400, "validation_failed")

        assert "order" in body["detail"]

    def test_out_of_scope_is_not_found_and_unknown_is_not_found(self, api: Api) -> None:
        problem(log(api, api.rep, customer_id=api.other_customer.id), 404, "not_found")
        problem(log(api, api.agent, customer_id="no-such-customer"), 404, "not_found")
        assert api.client.get(url(api, api.other_customer.id), headers=api.login(api.admin)).json()["items"] == []

    def test_who_may_log(self, api: Api) -> None:
        assert log(api, api.rep).status_code == 201
        for who in (api.dealer, api.manager, api.controller):
            problem(log(api, who), 403)
        assert api.client.post(url(api), json={"direction": "in", "outcome": "enquiry"}).status_code == 401


class TestReadTheLog:
    def test_newest_first_in_keyset_pages(self, api: Api) -> None:
        ids = [log(api, api.agent).json()["id"] for _ in range(5)]  # the server's clock: one after the other

        seen: list[str] = []
        cursor = None
        for _ in range(5):
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = api.client.get(url(api), params=params, headers=api.login(api.manager)).json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(ids))

    def test_a_dealer_may_not_read_and_other_reps_do_not_find_the_customer(self, api: Api) -> None:
        log(api, api.agent)

        problem(api.client.get(url(api), headers=api.login(api.dealer)), 403)
        problem(api.client.get(url(api), headers=api.login(api.other_rep)), 404)
        problem(api.client.get(url(api), params={"cursor": "forged!"}, headers=api.login(api.agent)), 400)
