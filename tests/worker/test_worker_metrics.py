"""`crm worker`'s `/metrics` (`CRM_WORKER_METRICS_PORT`): a real worker against an ERP that is down, then back.
The scrape shows the failed calls by ERP and operation, the breaker open, and after the ERP is back the breaker
closed and the calls and notifications counted."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from crm_domain.orders import OrderStatus
from tests.net import free_port
from tests.worker.conftest import Site, stop_gracefully, wait_until
from tests.worker.test_erp_outage import FAST_RETRIES, outage_switch

pytestmark = pytest.mark.slow  # a real `crm worker`


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.TransportError:
        return {}
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), -1.0)


def test_the_worker_exports_erp_failures_and_the_breaker_then_the_recovery(site: Site) -> None:
    switch = outage_switch(site)
    ids = [o.id for o in site.place_orders(2)]
    port = free_port()
    worker = site.start_worker(
        "--poll",
        "0.05",
        CRM_WORKER_METRICS_PORT=str(port),
        CRM_SANDBOX_ERP_OUTAGE_FILE=str(switch),
        CRM_OUTBOX_MAX_ATTEMPTS="1000",
        **FAST_RETRIES,
    )
    create = {"erp": "sandbox", "operation": "create_order"}

    def breaker_open() -> bool:
        samples = scrape(port)
        return value(samples, "crm_erp_breaker_open", erp="sandbox") == 1.0

    wait_until(breaker_open, 30, "the sandbox breaker open on /metrics")
    down = scrape(port)
    failed = value(down, "crm_erp_call_failures_total", **create, kind="unavailable")
    assert failed >= 3  # CRM_ERP_BREAKER_FAILURES
    assert value(down, "crm_erp_call_duration_seconds_count", **create) == failed
    assert value(down, "crm_erp_breaker_open", erp="sap") == -1.0  # not configured here: not listed
    assert value(down, "crm_notifications_total", channel="sms", result="sent") >= len(ids)

    switch.unlink()
    wait_until(lambda: all(site.order(i).status is OrderStatus.CONFIRMED for i in ids), 30, "every order confirmed")
    up = scrape(port)
    assert value(up, "crm_erp_breaker_open", erp="sandbox") == 0.0
    calls = value(up, "crm_erp_call_duration_seconds_count", **create)
    assert calls >= value(up, "crm_erp_call_failures_total", **create, kind="unavailable") + len(ids)
    assert value(up, "crm_store_commit_duration_seconds_count", store="sqlite") > 0
    assert stop_gracefully(worker) == 0
