"""Redis down and back (SPEC §10 reliability): a real `crm serve` (2 workers) on the SQLite store with sessions,
OTPs, rate limits and the products cache in a real redis-server. While Redis is stopped, readiness answers 503
and every route that needs Redis answers 503 problem details at once (no 500, no hang); when it is started
again on the same port, the service recovers by itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis

from tests.e2e.conftest import Server
from tests.redis_server import RedisServer

ADMIN = "+919876543210"
FAST = 3.0  # seconds: "at once" for a refused connection, with room for a loaded CI machine (issue 17 asks < 5 s)


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def sign_in(server: Server, client: httpx.Client, mobile: str) -> dict[str, Any]:
    assert client.post("/api/v1/auth/otp/request", json={"mobile": mobile}).status_code == 202
    response = client.post("/api/v1/auth/otp/verify", json={"mobile": mobile, "otp": server.last_otp(mobile)})
    assert response.status_code == 200, response.text
    return dict(response.json())


def place_order(client: httpx.Client, headers: dict[str, str], customer_id: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/orders",
        json={"customer_id": customer_id, "submit": True, "lines": [{"sku": "PMP-1", "quantity": "2"}]},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_unavailable(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "upstream_unavailable"
    assert elapsed < FAST


@pytest.mark.slow
def test_redis_outage_fails_readiness_and_auth_with_503_then_recovers(
    server_factory: Callable[..., Server], redis_server_factory: Callable[[], RedisServer]
) -> None:
    redis_server = redis_server_factory()
    server = server_factory(workers=2)
    server.env["CRM_REDIS_URL"] = redis_server.url
    assert server.crm("users", "create-admin", "--mobile", ADMIN, "--name", "Asha Admin").returncode == 0
    server.start()
    with httpx.Client(base_url=server.base, timeout=10) as client:
        tokens = sign_in(server, client, ADMIN)
        admin = {"Authorization": f"Bearer {tokens['access_token']}"}
        customer = client.post(
            "/api/v1/customers",
            json={
                "code": "D0001",
                "name": "Jaipur Agro",
                "mobile": "9876511111",
                "territory": "North",
                "currency": "INR",
                "erp_system": "sandbox",
                "erp_customer_id": "C1",
                "credit_limit": "100000.00",
            },
            headers=admin,
        ).json()
        product = {"sku": "PMP-1", "name": "Pump", "uom": "EA", "unit_price": "420.00", "currency": "INR"}
        assert client.post("/api/v1/products", json={**product, "tax_rate": "18.00"}, headers=admin).is_success
        assert place_order(client, admin, customer["id"])["status"] == "submitted"
        assert client.get("/api/v1/products", headers=admin).status_code == 200
        with redis.Redis(port=redis_server.port, decode_responses=True) as peek:  # the state really is in Redis
            kinds = {key.split(":")[1] for key in peek.scan_iter("crm:*")}
        assert {"session", "user-sessions", "rate", "cache"} <= kinds

        redis_server.stop()
        stopped = time.monotonic()
        ready, elapsed = timed(lambda: client.get("/health/ready"))
        not_ready_after = time.monotonic() - stopped
        assert ready.status_code == 503 and elapsed < FAST
        assert ready.headers["content-type"].startswith("application/problem+json")
        assert ready.json()["checks"]["store"] == "ok"
        assert ready.json()["checks"]["redis"].startswith("failed")
        for call in (
            lambda: client.post("/api/v1/auth/otp/request", json={"mobile": ADMIN}),
            lambda: client.post("/api/v1/auth/otp/verify", json={"mobile": ADMIN, "otp": "123456"}),
            lambda: client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
            lambda: client.get("/api/v1/auth/me", headers=admin),  # every signed-in request checks its session
            lambda: client.get("/api/v1/products", headers=admin),  # (the cache store's own 503: integration tests)
        ):
            assert_unavailable(*timed(call))
        assert client.get("/health/live").status_code == 200

        redis_server.start()  # same port, and empty: it kept nothing (no persistence in this test)
        restarted = time.monotonic()
        deadline = restarted + 10
        while client.get("/health/ready").status_code != 200:
            assert time.monotonic() < deadline, "readiness did not recover within 10 s"
            time.sleep(0.1)
        print(
            f"\nRedis outage: readiness 503 {not_ready_after:.2f} s after Redis stopped (answered in {elapsed:.2f} s); "
            f"200 again {time.monotonic() - restarted:.2f} s after it was back, without a restart"
        )
        assert client.get("/api/v1/auth/me", headers=admin).status_code == 401  # its session was lost with Redis
        again = {"Authorization": f"Bearer {sign_in(server, client, ADMIN)['access_token']}"}
        assert client.get("/api/v1/auth/me", headers=again).status_code == 200
        assert place_order(client, again, customer["id"])["status"] == "submitted"
        listed = client.get("/api/v1/products", headers=again)
        assert listed.status_code == 200 and [p["sku"] for p in listed.json()["items"]] == ["PMP-1"]
