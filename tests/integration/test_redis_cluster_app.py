"""The whole app wired by the composition root to a real three-node Redis Cluster (`redis+cluster://`):
sign-in, sessions and rate limits through `redis.cluster.RedisCluster`, the products cache through the
asyncio cluster client, and readiness pinging the cluster."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from redis.cluster import RedisCluster

from entrypoints.bootstrap import Container, bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

ADMIN = "+919000000001"


@pytest.fixture
def app(tmp_path: Path, redis_cluster_url: str) -> Iterator[tuple[Container, TestClient[Any]]]:
    settings = Settings(
        database_url="memory://",
        data_dir=tmp_path,
        jwt_secret="x" * 48,  # type: ignore[arg-type]
        redis_url=redis_cluster_url,
        sms_backend=f"file:{tmp_path / 'sms.jsonl'}",
    )
    container = bootstrap(settings)
    with TestClient(create_app(container)) as client:
        yield container, client


def test_the_app_runs_on_a_redis_cluster(app: tuple[Container, TestClient[Any]], tmp_path: Path) -> None:
    container, client = app
    container.crm.users.create_admin(ADMIN, "Asha Admin")
    assert client.post("/api/v1/auth/otp/request", json={"mobile": ADMIN}).status_code == 202
    code = json.loads((tmp_path / "sms.jsonl").read_text().splitlines()[-1])["text"][:6]
    verified = client.post("/api/v1/auth/otp/verify", json={"mobile": ADMIN, "otp": code})
    assert verified.status_code == 200, verified.text
    headers = {"Authorization": f"Bearer {verified.json()['access_token']}"}

    assert client.get("/api/v1/products", headers=headers).json()["items"] == []
    product = {"sku": "PMP-1", "name": "Pump", "uom": "EA", "unit_price": "420.00", "currency": "INR"}
    assert client.post("/api/v1/products", json={**product, "tax_rate": "18.00"}, headers=headers).is_success
    assert [p["sku"] for p in client.get("/api/v1/products", headers=headers).json()["items"]] == ["PMP-1"]

    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"store": "ok", "redis": "ok"}
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": verified.json()["refresh_token"]})
    assert refreshed.status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401

    cluster = RedisCluster.from_url(container.settings.redis_url.replace("redis+cluster", "redis"))
    try:
        kinds = {key.decode().split(":")[1] for key in cluster.scan_iter("crm:*", target_nodes=RedisCluster.ALL_NODES)}
    finally:
        cluster.close()
    assert {"session", "user-sessions", "rate", "cache"} <= kinds  # (the OTP was used up)
