"""SPEC §10 reliability: the ERP down for a while delays orders but loses none; after the last attempt an event is
dead-lettered, shows in `crm outbox status`, and `crm outbox retry-dead` brings it through."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_domain.orders import ErpSync, OrderStatus
from tests.worker.conftest import Site, stop_gracefully, wait_until

pytestmark = pytest.mark.slow  # real `crm` processes

FAST_RETRIES = {
    "CRM_OUTBOX_RETRY_BASE": "0.05",
    "CRM_OUTBOX_RETRY_CAP": "0.2",
    "CRM_ERP_BREAKER_FAILURES": "3",
    "CRM_ERP_BREAKER_COOLDOWN": "0.3",
}


def outage_switch(site: Site) -> Path:
    switch = site.data_dir.parent / "erp-is-down"
    switch.touch()
    return switch


def test_orders_wait_while_the_erp_is_down_and_are_all_confirmed_when_it_is_back(site: Site) -> None:
    switch = outage_switch(site)
    ids = [o.id for o in site.place_orders(3)]
    erp = site.erp()
    worker = site.start_worker(
        "--poll",
        "0.05",
        CRM_SANDBOX_ERP_OUTAGE_FILE=str(switch),
        CRM_OUTBOX_MAX_ATTEMPTS="1000",
        CRM_LOG_LEVEL="debug",  # a deferral is a per-message line: debug
        **FAST_RETRIES,
    )

    wait_until(lambda: all(site.order(i).erp_sync is ErpSync.FAILED for i in ids), 30, "every order failed")
    for order_id in ids:
        waiting = site.order(order_id)
        assert waiting.status is OrderStatus.SUBMITTED
        assert "sandbox ERP is down" in (waiting.erp_error or "")
    assert erp.order_count() == 0
    assert site.outbox_status()["pending"] >= len(ids)

    switch.unlink()
    wait_until(lambda: all(site.order(i).status is OrderStatus.CONFIRMED for i in ids), 30, "every order confirmed")
    assert stop_gracefully(worker) == 0

    assert [erp.order_count(i) for i in ids] == [1, 1, 1]
    assert all((site.order(i).erp_sync, site.order(i).erp_error) == (ErpSync.SYNCED, None) for i in ids)
    assert "circuit open" in site.worker_log(worker)  # the breaker spared the ERP while it was down


def test_after_the_last_attempt_the_event_is_a_dead_letter_until_retried(site: Site) -> None:
    switch = outage_switch(site)
    [order] = site.place_orders(1)
    env = {"CRM_SANDBOX_ERP_OUTAGE_FILE": str(switch), "CRM_OUTBOX_MAX_ATTEMPTS": "2", **FAST_RETRIES}

    for _ in range(6):  # one attempt per run: each run takes only what was due when it started
        assert site.crm_cli("worker", "--once", **env).returncode == 0
        if site.outbox_status()["dead"]:
            break

    status = site.outbox_status()
    [letter] = status["dead_letters"]
    assert (status["dead"], letter["event"], letter["aggregate_id"], letter["attempts"]) == (
        1,
        "order.submitted",
        order.id,
        2,
    )
    assert "sandbox ERP is down" in letter["last_error"]
    assert set(letter["done"]) == {"sms"}  # the dealer's SMS went out; only the ERP is owed
    assert (site.order(order.id).status, site.order(order.id).erp_sync) == (OrderStatus.SUBMITTED, ErpSync.DEAD)
    table = site.crm_cli("outbox", "status")
    assert table.returncode == 0
    assert "order.submitted" in table.stdout
    assert "dead letters" in table.stdout

    switch.unlink()
    retried = site.crm_cli("outbox", "retry-dead")
    assert retried.returncode == 0, retried.stderr
    assert "1 dead letter(s) put back" in retried.stdout
    assert site.crm_cli("worker", "--once", **env).returncode == 0

    assert site.order(order.id).status is OrderStatus.CONFIRMED
    assert site.erp().order_count(order.id) == 1
    assert site.outbox_status()["dead"] == 0
