"""The ERP down for a while, then back (SPEC §10): orders are taken meanwhile, the worker retries with backoff
(the breaker sparing the ERP), and once the ERP answers every order is delivered exactly once, none dead-lettered,
because the outage was shorter than the retry policy (the default 10 attempts, with the delays scaled down).
tests/worker/test_erp_outage.py covers what happens past the policy (dead letters and `crm outbox retry-dead`)."""

from __future__ import annotations

import sqlite3
import time

import pytest

from crm_domain.orders import ErpSync, OrderStatus
from tests.worker.conftest import Site, stop_gracefully, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

ORDERS = 20
OUTAGE = 3.0  # seconds, from the first failed call
#: 10 attempts (the default) 0.2 s × 2^(n−1) apart, capped at 1 s: 9 waits of 3.7–7.4 s in all, longer than the
#: outage. The breaker is kept out of the way (it would skip calls without using attempts, which
#: tests/worker/test_erp_outage.py covers), so every message spends its own attempts.
POLICY = {
    "CRM_OUTBOX_MAX_ATTEMPTS": "10",
    "CRM_OUTBOX_RETRY_BASE": "0.2",
    "CRM_OUTBOX_RETRY_CAP": "1.0",
    "CRM_ERP_BREAKER_FAILURES": "1000000",
}


def test_an_erp_outage_within_the_retry_policy_delays_orders_and_loses_none(site: Site) -> None:
    switch = site.data_dir.parent / "erp-is-down"
    switch.touch()
    ids = [o.id for o in site.place_orders(ORDERS // 2)]
    erp = site.erp()
    worker = site.start_worker("--poll", "0.05", CRM_SANDBOX_ERP_OUTAGE_FILE=str(switch), **POLICY)
    wait_until(lambda: any(site.order(i).erp_sync is ErpSync.FAILED for i in ids), 30, "a failed delivery")
    down_at = time.monotonic()  # the outage as the worker sees it: from its first failed call
    ids += [o.id for o in site.place_orders(ORDERS // 2)]  # orders are still taken while the ERP is down
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - down_at)))
    assert erp.order_count() == 0

    switch.unlink()
    back_at = time.monotonic()
    wait_until(lambda: all(site.order(i).status is OrderStatus.CONFIRMED for i in ids), 60, "every order confirmed")
    caught_up = time.monotonic() - back_at
    assert stop_gracefully(worker) == 0

    with sqlite3.connect(site.data_dir / "crm.db") as conn:
        most = conn.execute("SELECT max(attempts) FROM outbox WHERE event = 'order.submitted'").fetchone()[0]
    dead = site.outbox_status()["dead"]
    duplicated = [i for i in ids if erp.order_count(i) != 1]
    print(
        f"\nERP outage: {ORDERS} orders, ERP down {back_at - down_at:.1f} s from the first failed call; all "
        f"confirmed {caught_up:.1f} s after it came back; most failed attempts of one order {most} (dead at 10); "
        f"dead letters {dead}; lost or duplicated {len(duplicated)}"
    )
    assert (dead, duplicated) == (0, [])
    assert 3 <= most < 10  # the outage cost attempts, within the policy
    assert erp.order_count() == ORDERS
    assert all((site.order(i).erp_sync, site.order(i).erp_error) == (ErpSync.SYNCED, None) for i in ids)
