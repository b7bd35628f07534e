"""A worker SIGKILLed in the middle of ERP delivery, 20 times over (SPEC §10): after a last worker has finished,
no order is lost (every one confirmed with the ERP's number) and none is in the ERP twice. A kill between the
ERP's create and the CRM's confirm makes the next worker create again; the ERP answers such repeats with the
order it made the first time (it de-duplicates by our order id), and the logs count them."""

from __future__ import annotations

import signal
import time

import pytest

from crm_domain.orders import ErpSync, OrderStatus
from tests.worker.conftest import Site, stop_gracefully, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

KILLS = 20
ORDERS = 60
REPEATED = "(the ERP had it already)"


def test_twenty_kills_mid_delivery_lose_nothing_and_duplicate_nothing(site: Site) -> None:
    started = time.monotonic()
    ids = [o.id for o in site.place_orders(ORDERS)]
    erp = site.erp()
    # The ERP answers 150 ms after storing each order, so a kill soon after a create lands in that window;
    # a 1 s lease brings a killed worker's messages back quickly.
    env = {"CRM_SANDBOX_ERP_LATENCY_MS": "150", "CRM_OUTBOX_LEASE": "1"}
    workers = []
    for _ in range(KILLS):
        seen = erp.order_count()
        worker = site.start_worker("--batch", "3", "--poll", "0.05", **env)
        workers.append(worker)
        wait_until(lambda seen=seen: erp.order_count() > seen, 60, "a create by the new worker")
        time.sleep(0.05)  # inside the ERP's 150 ms answer
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
    in_erp_after_kills = erp.order_count()
    assert in_erp_after_kills < ORDERS, "the kills must come before the work is done"

    last = site.start_worker("--poll", "0.05", **env)
    workers.append(last)
    wait_until(lambda: all(site.order(i).status is OrderStatus.CONFIRMED for i in ids), 120, "every order confirmed")
    assert stop_gracefully(last) == 0

    lost = [i for i in ids if erp.order_count(i) == 0 or site.order(i).status is not OrderStatus.CONFIRMED]
    duplicated = [i for i in ids if erp.order_count(i) > 1]
    repeats = sum(site.worker_log(w).count(REPEATED) for w in workers)
    print(
        f"\nworker kills: {KILLS} SIGKILLs mid-delivery, {ORDERS} orders, {in_erp_after_kills} in the ERP when the "
        f"last kill landed; lost {len(lost)}, duplicate ERP orders {len(duplicated)}, repeated creates the ERP "
        f"de-duplicated {repeats}, dead letters {site.outbox_status()['dead']}; {time.monotonic() - started:.1f} s"
    )
    assert (lost, duplicated) == ([], [])
    assert erp.order_count() == ORDERS
    for order_id in ids:
        order, in_erp = site.order(order_id), erp.find_by_external_ref(order_id)
        assert in_erp is not None
        assert (order.erp_order_id, order.erp_sync) == (in_erp.erp_order_id, ErpSync.SYNCED)
    assert site.outbox_status()["dead"] == 0
