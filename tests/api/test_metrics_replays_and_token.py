"""/metrics (issue 14): an order create or submit repeated with its Idempotency-Key is counted as a replay, not
as a new order or a second submit; with `CRM_METRICS_TOKEN` set the endpoint answers only that bearer token."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from prometheus_client import REGISTRY

from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.api.conftest import Api

TOKEN = "metrics-" + "t" * 40


def app_with(tmp_path: Path, **settings: object) -> Iterator[Api]:
    container = bootstrap(Settings(database_url="memory://", data_dir=tmp_path, jwt_secret="x" * 48, **settings))  # type: ignore[arg-type]
    with TestClient(create_app(container)) as client:
        yield Api(container, client, tmp_path / "sms.jsonl")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from app_with(tmp_path)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Api]:
    yield from app_with(tmp_path, metrics_token=TOKEN)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_replayed_create_is_counted_as_a_replay_not_an_order(api: Api) -> None:
    created = ("crm_orders_total", {"operation": "create", "result": "submitted"})
    replays = ("crm_idempotent_replays_total", {"operation": "create"})
    before = sample(created[0], **created[1]), sample(replays[0], **replays[1])
    body = {"customer_id": api.customer.id, "lines": [{"sku": "PMP-1", "quantity": "1"}], "submit": True}
    headers = {**api.login(api.rep), "Idempotency-Key": str(uuid.uuid4())}

    first = api.client.post("/api/v1/orders", json=body, headers=headers)
    again = api.client.post("/api/v1/orders", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    after = sample(created[0], **created[1]), sample(replays[0], **replays[1])
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    assert "crm_idempotent_replays_total" in api.client.get("/metrics").text


def test_a_replayed_submit_is_counted_as_a_replay_not_a_submit(api: Api) -> None:
    submitted = ("crm_orders_total", {"operation": "submit", "result": "submitted"})
    replays = ("crm_idempotent_replays_total", {"operation": "submit"})
    created_replays = ("crm_idempotent_replays_total", {"operation": "create"})
    draft = api.order(api.rep, submit=False)
    headers = {**api.login(api.rep), "Idempotency-Key": str(uuid.uuid4())}
    before = [sample(name, **labels) for name, labels in (submitted, replays, created_replays)]

    first = api.client.post(f"/api/v1/orders/{draft['id']}/submit", headers=headers)
    again = api.client.post(f"/api/v1/orders/{draft['id']}/submit", headers=headers)
    other = api.client.post(f"/api/v1/orders/{draft['id']}/submit", headers=api.login(api.rep))  # no key: a 409

    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 409), other.text
    assert first.json() == again.json() and first.json()["status"] == "submitted"
    after = [sample(name, **labels) for name, labels in (submitted, replays, created_replays)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 0]
    assert 'crm_idempotent_replays_total{operation="submit"}' in api.client.get("/metrics").text


def test_without_a_token_setting_metrics_are_open(api: Api) -> None:
    assert api.client.get("/metrics").status_code == 200


def test_with_a_token_setting_only_that_bearer_token_reads_metrics(guarded: Api) -> None:
    client = guarded.client
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    user_token = guarded.login(guarded.admin)  # a user's access token is not the metrics token
    assert client.get("/metrics", headers=user_token).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and "crm_outbox_messages" in answer.text
    refused = client.get("/metrics")
    assert refused.headers["content-type"].startswith("application/problem+json")
