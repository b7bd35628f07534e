"""/metrics: business counters next to the HTTP metrics, and outbox figures read from the store."""

from __future__ import annotations

import re

import attrs

from crm_domain.outbox import OutboxStatus
from tests.api.conftest import Api


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = ",".join(sorted(p for p in (match.group(3) or "").split(",") if p))
        if found == wanted:
            return float(match.group(4))
    return 0.0


def test_orders_are_counted_by_the_state_they_end_in_and_holds_by_decision(api: Api) -> None:
    before = api.client.get("/metrics").text
    api.order(api.rep, quantity="1")  # within the limit
    held = api.order(api.rep, quantity="25")  # over it
    api.order(api.rep, quantity="1", submit=False)
    released = api.client.post(
        f"/api/v1/orders/{held['id']}/release", json={"note": "paid by cheque"}, headers=api.login(api.controller)
    )
    assert released.status_code == 200, released.text

    after = api.client.get("/metrics")

    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")

    def grew(name: str, **labels: str) -> float:
        return _sample(after.text, name, **labels) - _sample(before, name, **labels)

    assert grew("crm_orders_total", operation="create", result="submitted") == 1
    assert grew("crm_orders_total", operation="create", result="on_credit_hold") == 1
    assert grew("crm_orders_total", operation="create", result="draft") == 1
    assert grew("crm_credit_hold_decisions_total", decision="released") == 1
    assert "crm_request_duration_seconds" in after.text  # the HTTP metrics are still there


def test_outbox_backlog_and_dead_letters_come_from_the_store(api: Api) -> None:
    api.order(api.rep, quantity="1")
    with api.container.uow() as uow:
        stats = uow.outbox.stats()

    text = api.client.get("/metrics").text

    assert stats.pending > 0
    assert _sample(text, "crm_outbox_messages", status="pending") == stats.pending
    assert _sample(text, "crm_outbox_dead_letters") == stats.dead == 0
    assert "crm_outbox_oldest_pending_age_seconds" in text


def test_a_dead_letter_shows_in_the_metrics(api: Api) -> None:
    api.order(api.rep, quantity="1")
    with api.container.uow() as uow:
        [message, *_] = uow.outbox.due(api.container.crm.ctx.now(), 10)
        uow.outbox.save(attrs.evolve(message, status=OutboxStatus.DEAD, attempts=10, last_error="ERP said no"))
        uow.commit()
        stats = uow.outbox.stats()

    text = api.client.get("/metrics").text

    assert _sample(text, "crm_outbox_dead_letters") == 1
    assert _sample(text, "crm_outbox_messages", status="dead") == 1
    assert _sample(text, "crm_outbox_messages", status="pending") == stats.pending


def test_every_request_is_counted_and_timed_by_method_route_and_status(api: Api) -> None:
    headers = api.login(api.rep)
    before = api.client.get("/metrics").text
    assert api.client.get("/api/v1/products", headers=headers).status_code == 200
    assert api.client.get("/api/v1/orders?stat=draft", headers=headers).status_code == 400
    after = api.client.get("/metrics").text

    listed = {"app_name": "crm", "method": "GET", "path": "/api/v1/products", "status_code": "200"}
    refused = {"app_name": "crm", "method": "GET", "path": "/api/v1/orders", "status_code": "400"}
    for labels in (listed, refused):
        assert _sample(after, "crm_requests_total", **labels) - _sample(before, "crm_requests_total", **labels) == 1
        count = "crm_request_duration_seconds_count"
        assert _sample(after, count, **labels) - _sample(before, count, **labels) == 1
    in_progress = {**listed, "status_code": "200"}
    assert _sample(after, "crm_requests_in_progress", **in_progress) == 0  # counted in, and out again
    assert "/metrics" not in {m.group(1) for m in re.finditer(r'path="([^"]*)"', after)}  # the scrape is not
