"""The fault tests of SPEC §10 and issue 17: real `crm serve` and `crm worker` processes, killed and restarted,
their figures printed (run with `-s` to see them; docs/operations.md records them). The servers come from
tests/e2e (`server_factory`) and the workers from tests/worker (`site`)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import Server, server_factory
from tests.worker.conftest import site

__all__ = ["server_factory", "site"]  # fixtures

ADMIN = "+919876543210"
#: 2 × 420.00 = 840.00 net + 18% tax 151.20 = 991.20 an order.
ORDER_TOTAL = Decimal("991.20")


class Shop:
    """A signed-in admin, one dealer and one product on a running `crm serve`, and its orders."""

    def __init__(self, server: Server, client: httpx.Client, *, limit: str = "100000000.00") -> None:
        self.server = server
        self.headers = server.sign_in(client, ADMIN)
        self.customer_id = self.post(
            client,
            "/api/v1/customers",
            {
                "code": "D0001",
                "name": "Jaipur Agro",
                "mobile": "9876511111",
                "territory": "North",
                "currency": "INR",
                "erp_system": "sandbox",
                "credit_limit": limit,
            },
        )["id"]
        product = {"sku": "PMP-1", "name": "Pump", "unit_price": "420.00", "currency": "INR", "tax_rate": "18.00"}
        self.post(client, "/api/v1/products", product)

    @classmethod
    def again(cls, server: Server, client: httpx.Client, customer_id: str) -> Shop:
        """The same shop on another server over the same data (a restored backup, a restarted server)."""
        shop = cls.__new__(cls)
        shop.server, shop.headers, shop.customer_id = server, server.sign_in(client, ADMIN), customer_id
        return shop

    def post(self, client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body, headers=self.headers)
        assert response.status_code == 201, (path, response.status_code, response.text)
        return dict(response.json())

    def submit(self, client: httpx.Client) -> httpx.Response:
        body = {"customer_id": self.customer_id, "submit": True, "lines": [{"sku": "PMP-1", "quantity": "2"}]}
        return client.post("/api/v1/orders", json=body, headers=self.headers)


def prepared_server(server: Server) -> Server:
    """`server` with its first admin, and API rates no load test reaches."""
    server.env["CRM_API_RATE"] = "1000000"
    created = server.crm("users", "create-admin", "--mobile", ADMIN, "--name", "Asha Admin")
    assert created.returncode == 0, created.stderr
    return server


def stored_orders(db: Path) -> dict[str, str]:
    """Every order in the SQLite store at `db`, by id, with its status (read directly, not through the API)."""
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT id, status FROM orders").fetchall())


def open_reservations(db: Path, customer_id: str) -> int:
    """The sum of the customer's open credit reservations in minor units, read directly from the store."""
    with sqlite3.connect(db) as conn:
        query = "SELECT coalesce(sum(amount), 0) FROM credit_reservations WHERE customer_id = ? AND stage = 'open'"
        return int(conn.execute(query, (customer_id,)).fetchone()[0])


def credit_position(client: httpx.Client, shop: Shop) -> dict[str, Decimal]:
    response = client.get(f"/api/v1/customers/{shop.customer_id}/credit", headers=shop.headers)
    assert response.status_code == 200, response.text
    return {k: Decimal(v) for k, v in response.json().items() if k in {"limit", "open_orders", "exposure"}}
