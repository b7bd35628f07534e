"""/api/v1/orders over HTTP: create, quote, submit, holds, cancel, idempotency, scope."""

from __future__ import annotations

from tests.api.conftest import Api


class TestCreateOrder:
    def test_rep_orders_within_the_limit(self, api: Api) -> None:
        order = api.order(api.rep, quantity="10")
        assert order["status"] == "submitted"
        assert order["number"].startswith("SO-")
        assert order["total"] == "4956.00" and order["currency"] == "INR"
        assert order["lines"][0] == {
            "sku": "PMP-1",
            "name": "Pump 1 HP",
            "uom": "EA",
            "quantity": "10",
            "discount_pct": "0",
            "unit_price": "420.00",
            "tax_rate": "18",
            "net": "4200.00",
            "tax": "756.00",
            "total": "4956.00",
        }
        assert order["credit"]["verdict"] == "approved"
        assert [h["to"] for h in order["history"]] == ["draft", "submitted"]
        assert order["history"][0]["from"] is None

    def test_over_the_limit_goes_on_hold_with_the_shortfall(self, api: Api) -> None:
        order = api.order(api.rep, quantity="25")
        assert order["status"] == "on_credit_hold"
        assert order["credit"] == {
            "verdict": "hold",
            "reason": "limit_exceeded",
            "available": "10000.00",
            "shortfall": "2390.00",
            "released_by": None,
            "released_at": None,
            "release_note": None,
            "balance_source": "stored",
            "balance_as_of": None,
        }

    def test_same_idempotency_key_and_body_returns_the_first_order(self, api: Api) -> None:
        body = {"customer_id": api.customer.id, "lines": [{"sku": "PMP-1", "quantity": "2"}], "submit": True}
        headers = {**api.login(api.rep), "Idempotency-Key": "retry-1"}
        first = api.client.post("/api/v1/orders", json=body, headers=headers)
        again = api.client.post("/api/v1/orders", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]
        other = api.client.post("/api/v1/orders", json={**body, "notes": "changed"}, headers=headers)
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency_key_reused"
        listed = api.client.get("/api/v1/orders", headers=api.login(api.rep)).json()
        assert len(listed["items"]) == 1

    def test_operator_injection_and_unknown_fields_are_400_and_store_nothing(self, api: Api) -> None:
        headers = api.login(api.rep)
        for body in (
            {"customer_id": {"$gt": ""}, "lines": [{"sku": "PMP-1", "quantity": "1"}]},
            {"customer_id": api.customer.id, "lines": [{"sku": "PMP-1", "quantity": "1"}], "price": "0.01"},
            {"customer_id": api.customer.id, "lines": [{"sku": "PMP-1", "quantity": "1.0001"}]},
            {"customer_id": api.customer.id, "lines": [{"sku": "NOPE", "quantity": "1"}]},
        ):
            response = api.client.post("/api/v1/orders", json=body, headers=headers)
            assert response.status_code == 400, (body, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert {"type", "title", "status", "detail", "code"} <= set(response.json())
        assert api.client.get("/api/v1/orders", headers=headers).json()["items"] == []


class TestScope:
    def test_another_reps_order_is_not_found(self, api: Api) -> None:
        order = api.order(api.rep)
        response = api.client.get(f"/api/v1/orders/{order['id']}", headers=api.login(api.other_rep))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert api.client.get(f"/api/v1/orders/{order['id']}", headers=api.login(api.manager)).status_code == 200


class TestHoldsAndCancel:
    def test_release_by_a_credit_controller_then_cancel_restores_credit(self, api: Api) -> None:
        held = api.order(api.rep, quantity="25")
        own = api.client.post(f"/api/v1/orders/{held['id']}/release", json={"note": "ok"}, headers=api.login(api.rep))
        assert own.status_code == 403
        released = api.client.post(
            f"/api/v1/orders/{held['id']}/release", json={"note": "cheque received"}, headers=api.login(api.controller)
        )
        assert released.status_code == 200, released.text
        assert released.json()["status"] == "submitted"
        assert released.json()["credit"]["released_by"] == api.controller.id
        cancelled = api.client.post(
            f"/api/v1/orders/{held['id']}/cancel", json={"reason": "dealer asked"}, headers=api.login(api.rep)
        )
        assert cancelled.json()["status"] == "cancelled"
        again = api.client.post(
            f"/api/v1/orders/{held['id']}/cancel", json={"reason": "again"}, headers=api.login(api.rep)
        )
        assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
