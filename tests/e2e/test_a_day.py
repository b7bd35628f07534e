"""A whole day against a real `crm serve` (2 workers): bootstrap, OTP sign-in, set-up, orders, a hold released
by a credit controller, a cancel that restores credit, and scope."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Server


def test_a_day_of_dealer_ordering(server_factory) -> None:  # type: ignore[no-untyped-def]
    server: Server = server_factory(workers=2)
    created = server.crm("users", "create-admin", "--mobile", "9876543210", "--name", "Asha Admin")
    assert created.returncode == 0, created.stderr
    server.start()
    with httpx.Client(base_url=server.base, timeout=10) as client:
        admin = server.sign_in(client, "+919876543210")

        def post(path: str, body: dict, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
            response = client.post(path, json=body, headers=headers)
            assert response.status_code in (200, 201), (path, response.status_code, response.text)
            return dict(response.json())

        rep = post("/api/v1/users", {"mobile": "9876500001", "name": "Ravi Rep", "roles": ["sales_rep"]}, admin)
        other = post("/api/v1/users", {"mobile": "9876500002", "name": "Omar Rep", "roles": ["sales_rep"]}, admin)
        post("/api/v1/users", {"mobile": "9876500003", "name": "Chitra Credit", "roles": ["credit_controller"]}, admin)
        customer = post(
            "/api/v1/customers",
            {
                "code": "D0001",
                "name": "Jaipur Agro",
                "mobile": "9876511111",
                "territory": "North",
                "currency": "INR",
                "erp_system": "sandbox",
                "erp_customer_id": "C1",
                "credit_limit": "10000.00",
                "assigned_rep_id": rep["id"],
            },
            admin,
        )
        post(
            "/api/v1/products",
            {
                "sku": "PMP-1",
                "name": "Pump 1 HP",
                "uom": "EA",
                "unit_price": "420.00",
                "currency": "INR",
                "tax_rate": "18.00",
            },
            admin,
        )

        ravi = server.sign_in(client, rep["mobile"])
        first = post(
            "/api/v1/orders",
            {"customer_id": customer["id"], "submit": True, "lines": [{"sku": "PMP-1", "quantity": "10"}]},
            ravi,
        )
        assert first["status"] == "submitted" and first["total"] == "4956.00"
        second = post(
            "/api/v1/orders",
            {"customer_id": customer["id"], "submit": True, "lines": [{"sku": "PMP-1", "quantity": "12"}]},
            ravi,
        )
        assert second["status"] == "on_credit_hold"
        assert second["credit"]["reason"] == "limit_exceeded"

        chitra = server.sign_in(client, "+919876500003")
        released = post(f"/api/v1/orders/{second['id']}/release", {"note": "cheque received"}, chitra)
        assert released["status"] == "submitted"
        credit = client.get(f"/api/v1/customers/{customer['id']}/credit", headers=ravi).json()
        assert credit["exposure"] == "10903.20" and credit["available"] == "-903.20"

        post(f"/api/v1/orders/{first['id']}/cancel", {"reason": "dealer changed the quantity"}, ravi)
        credit = client.get(f"/api/v1/customers/{customer['id']}/credit", headers=ravi).json()
        assert credit["exposure"] == "5947.20" and credit["available"] == "4052.80"

        omar = server.sign_in(client, other["mobile"])
        hidden = client.get(f"/api/v1/orders/{second['id']}", headers=omar)
        assert hidden.status_code == 404
        assert hidden.headers["content-type"].startswith("application/problem+json")
        assert client.get(f"/api/v1/customers/{customer['id']}/credit", headers=omar).status_code == 404

        assert client.post("/api/v1/auth/logout", headers=ravi).status_code == 204
        assert client.get("/api/v1/auth/me", headers=ravi).status_code == 401
