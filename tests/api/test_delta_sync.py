"""What a mobile client syncs with (SPEC §4): `q` search, `updated_since`, `updated_at` on resources, ETags with
`If-None-Match` → 304, and lists that refuse a parameter they do not declare."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from crm_domain.money import Money
from crm_domain.services.catalogue import NewProduct
from tests.api.conftest import Api, problem

TARGETS, REQUESTS = "/api/v1/targets", "/api/v1/credit-limit-requests"


class TestUnknownParameters:
    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/customers?mobile=9100000001",  # a plausible guess: `q` is the parameter
            "/api/v1/products?qq=pump",
            "/api/v1/orders?stat=draft",
            "/api/v1/customers/{customer}?verbose=1",
            "/api/v1/auth/me?x=1",
        ],
    )
    def test_a_parameter_the_operation_does_not_declare_is_a_400(self, api: Api, url: str) -> None:
        response = api.client.get(url.format(customer=api.customer.id), headers=api.login(api.admin))

        body = problem(response, 400, "unknown_parameter")
        assert "accepts" in body["detail"]

    def test_declared_parameters_still_work(self, api: Api) -> None:
        response = api.client.get("/api/v1/customers?limit=1&q=D0", headers=api.login(api.admin))

        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == 1


class TestSearch:
    def test_customers_by_code_name_words_and_mobile_within_scope(self, api: Api) -> None:
        admin, rep = api.login(api.admin), api.login(api.rep)

        def codes(q: str, headers: dict[str, str]) -> list[str]:
            response = api.client.get("/api/v1/customers", params={"q": q}, headers=headers)
            assert response.status_code == 200, response.text
            return [c["code"] for c in response.json()["items"]]

        assert codes("d000", admin) == ["D0001", "D0002"]
        assert codes("agro jai", admin) == ["D0001"]
        assert codes("+91 9100000002", admin) == ["D0002"]
        assert codes("9100000002", admin) == ["D0002"]
        assert codes("madurai", rep) == []  # another rep's dealer stays out of scope
        assert codes("d000", rep) == ["D0001"]

    def test_products_by_sku_prefix_and_name_words(self, api: Api) -> None:
        response = api.client.get("/api/v1/products", params={"q": "gate"}, headers=api.login(api.rep))

        assert [p["sku"] for p in response.json()["items"]] == ["VLV-1"]
        response = api.client.get("/api/v1/products", params={"q": "pmp"}, headers=api.login(api.rep))
        assert [p["sku"] for p in response.json()["items"]] == ["PMP-1"]

    def test_an_empty_q_is_a_400(self, api: Api) -> None:
        problem(api.client.get("/api/v1/customers?q=", headers=api.login(api.admin)), 400)


class TestUpdatedSince:
    def test_lists_hold_only_what_changed_since(self, api: Api) -> None:
        headers = api.login(api.admin)
        changed = api.client.patch(
            f"/api/v1/customers/{api.other_customer.id}", json={"territory": "East"}, headers=headers
        )
        assert changed.status_code == 200, changed.text
        mark = changed.json()["updated_at"]  # the server's clock, as a client would take it from an answer
        product = api.client.patch("/api/v1/products/VLV-1", json={"name": "Gate valve 2in"}, headers=headers)
        assert product.status_code == 200, product.text

        customers = api.client.get("/api/v1/customers", params={"updated_since": mark}, headers=headers)
        products = api.client.get("/api/v1/products", params={"updated_since": mark}, headers=headers)
        everything = api.client.get("/api/v1/customers", headers=headers)

        assert [c["code"] for c in customers.json()["items"]] == ["D0002"]
        assert [p["sku"] for p in products.json()["items"]] == ["VLV-1"]
        assert len(everything.json()["items"]) == 2
        later = api.client.get(
            "/api/v1/customers", params={"updated_since": product.json()["updated_at"]}, headers=headers
        )
        assert later.json()["items"] == []

    def test_the_user_list_holds_only_the_users_changed_since(self, api: Api) -> None:
        headers = api.login(api.admin)
        changed = api.client.patch(f"/api/v1/users/{api.agent.id}", json={"territory": "Pune"}, headers=headers)
        assert changed.status_code == 200, changed.text

        since = {"updated_since": changed.json()["updated_at"]}
        users = api.client.get("/api/v1/users", params=since, headers=headers)

        assert [u["id"] for u in users.json()["items"]] == [api.agent.id]

    def test_the_order_list_holds_only_the_orders_changed_since(self, api: Api) -> None:
        first = api.order(api.rep, submit=False)
        second = api.order(api.rep, submit=False)
        headers = api.login(api.rep)
        submitted = api.client.post(f"/api/v1/orders/{first['id']}/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text

        since = {"updated_since": submitted.json()["updated_at"]}
        orders = api.client.get("/api/v1/orders", params=since, headers=headers)

        assert [o["id"] for o in orders.json()["items"]] == [first["id"]]
        assert second["id"] in {o["id"] for o in api.client.get("/api/v1/orders", headers=headers).json()["items"]}

    def test_the_target_list_holds_only_the_targets_set_since(self, api: Api) -> None:
        headers = api.login(api.admin)
        period = api.client.get("/api/v1/performance", headers=headers).json()["items"][0]["period"]

        def put(user_id: str, amount: str) -> dict[str, Any]:
            body = {"user_id": user_id, "period": period, "amount": amount}
            response = api.client.put("/api/v1/targets", json=body, headers=headers)
            assert response.status_code == 200, response.text
            return dict(response.json())

        put(api.rep.id, "1000.00")
        mark = put(api.other_rep.id, "2000.00")["updated_at"]
        since = {"period": period, "updated_since": mark}

        assert [t["user_id"] for t in api.client.get(TARGETS, params=since, headers=headers).json()["items"]] == [
            api.other_rep.id
        ]
        put(api.rep.id, "1500.00")  # replaced: changed again
        changed = api.client.get(TARGETS, params=since, headers=headers).json()["items"]
        assert sorted(t["user_id"] for t in changed) == sorted([api.rep.id, api.other_rep.id])
        assert len(api.client.get(TARGETS, params={"period": period}, headers=headers).json()["items"]) == 2

    def test_the_credit_request_list_holds_only_the_requests_asked_or_decided_since(self, api: Api) -> None:
        def ask(customer_id: str) -> dict[str, Any]:
            url = f"/api/v1/customers/{customer_id}/credit-limit-requests"
            body = {"new_limit": "20000.00", "reason": "festival season"}
            response = api.client.post(url, json=body, headers=api.login(api.admin))
            assert response.status_code == 201, response.text
            return dict(response.json())

        def since(mark: str) -> list[str]:
            params = {"updated_since": mark, "limit": 1}  # a page at a time: the cursor keeps the filter
            found: list[str] = []
            while True:
                answer = api.client.get(REQUESTS, params=params, headers=api.login(api.controller))
                assert answer.status_code == 200, answer.text
                found += [r["id"] for r in answer.json()["items"]]
                if not answer.json()["next_cursor"]:
                    return found
                params["cursor"] = answer.json()["next_cursor"]

        first, second = ask(api.customer.id), ask(api.other_customer.id)
        decided = api.client.post(
            f"{REQUESTS}/{first['id']}/reject", json={"note": "not now"}, headers=api.login(api.controller)
        )
        assert decided.status_code == 200, decided.text

        assert since(decided.json()["updated_at"]) == [first["id"]]  # the decision is its change
        assert since(second["updated_at"]) == [second["id"], first["id"]]  # newest asked first
        assert since(first["updated_at"]) == [second["id"], first["id"]]

    def test_the_call_log_holds_only_the_calls_logged_since(self, api: Api) -> None:
        url = f"/api/v1/customers/{api.customer.id}/interactions"
        headers = api.login(api.agent)
        calls = []
        for outcome in ["no_answer", "callback"]:
            logged = api.client.post(url, json={"direction": "out", "outcome": outcome}, headers=headers)
            assert logged.status_code == 201, logged.text
            calls.append(logged.json())

        recent = api.client.get(url, params={"updated_since": calls[1]["at"]}, headers=headers)
        everything = api.client.get(url, params={"updated_since": calls[0]["at"]}, headers=headers)

        assert recent.status_code == 200, recent.text
        assert [c["id"] for c in recent.json()["items"]] == [calls[1]["id"]]
        assert [c["id"] for c in everything.json()["items"]] == [calls[1]["id"], calls[0]["id"]]

    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/targets",
            "/api/v1/credit-limit-requests",
            "/api/v1/customers/{customer}/interactions",
            "/api/v1/customers",
            "/api/v1/orders",
        ],
    )
    def test_an_instant_that_is_not_one_is_a_400(self, api: Api, url: str) -> None:
        response = api.client.get(
            url.format(customer=api.customer.id), params={"updated_since": "yesterday"}, headers=api.login(api.admin)
        )

        problem(response, 400)

    def test_every_resource_carries_updated_at(self, api: Api) -> None:
        headers = api.login(api.admin)
        for url in [
            f"/api/v1/users/{api.rep.id}",
            "/api/v1/auth/me",
            f"/api/v1/customers/{api.customer.id}",
            "/api/v1/products/PMP-1",
            f"/api/v1/orders/{api.order(api.rep)['id']}",
        ]:
            response = api.client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.text)
            assert response.json()["updated_at"], url


class TestETags:
    @pytest.mark.parametrize(
        "url", ["/api/v1/customers/{customer}", "/api/v1/customers", "/api/v1/products", "/api/v1/products/PMP-1"]
    )
    def test_if_none_match_with_the_current_etag_is_a_304_until_the_resource_changes(self, api: Api, url: str) -> None:
        headers = api.login(api.admin)
        url = url.format(customer=api.customer.id)
        first = api.client.get(url, headers=headers)
        etag = first.headers["etag"]
        assert etag.startswith('W/"')

        again = api.client.get(url, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        other = api.client.get(url, headers={**headers, "If-None-Match": 'W/"something-else"'})
        assert other.status_code == 200 and other.headers["etag"] == etag

        if "customers" in url:
            change = api.client.patch(
                f"/api/v1/customers/{api.customer.id}", json={"name": "Jaipur Agro Co"}, headers=headers
            )
        else:
            change = api.client.patch("/api/v1/products/PMP-1", json={"name": "Pump 1 HP v2"}, headers=headers)
        assert change.status_code == 200, change.text
        after = api.client.get(url, headers={**headers, "If-None-Match": etag})
        assert after.status_code == 200
        assert after.headers["etag"] != etag

    def test_a_gzipped_answer_and_a_plain_one_carry_the_same_etag(self, api: Api) -> None:
        admin = api.admin.actor()
        for n in range(20):  # a list big enough to be gzipped
            api.container.crm.catalogue.create(
                admin,
                NewProduct(
                    sku=f"BIG-{n:02d}",
                    name="A product with a long enough name " * 2,
                    unit_price=Money.of("10.00", "INR"),
                    tax_rate=Decimal(18),
                ),
            )
        headers = api.login(api.rep)
        zipped = api.client.get("/api/v1/products", headers=headers)
        plain = api.client.get("/api/v1/products", headers={**headers, "Accept-Encoding": "identity"})

        assert zipped.headers.get("content-encoding") == "gzip"
        assert plain.headers.get("content-encoding") is None
        assert zipped.headers["etag"] == plain.headers["etag"]
        again = api.client.get(
            "/api/v1/products",
            headers={**headers, "Accept-Encoding": "identity", "If-None-Match": zipped.headers["etag"]},
        )
        assert again.status_code == 304

    def test_only_get_answers_are_tagged(self, api: Api) -> None:
        headers = api.login(api.admin)
        changed = api.client.patch("/api/v1/products/PMP-1", json={"name": "Pump 1 HP v2"}, headers=headers)
        read = api.client.get("/api/v1/products/PMP-1", headers=headers)

        assert changed.status_code == 200 and "etag" not in changed.headers
        assert read.status_code == 200 and read.headers["etag"].startswith('W/"')

    def test_error_answers_carry_no_etag(self, api: Api) -> None:
        response = api.client.get("/api/v1/customers/nope", headers=api.login(api.admin))

        assert response.status_code == 404
        assert "etag" not in response.headers
