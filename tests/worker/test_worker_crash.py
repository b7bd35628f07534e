"""SPEC §10 reliability: a worker killed in the middle of ERP sync loses nothing and creates no duplicate ERP order;
a worker asked to stop finishes the message in hand, hands the rest back, and exits 0."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import pytest

from adapters.erp.sandbox import SandboxErpGateway
from crm_domain.orders import ErpSync, OrderStatus
from tests.worker.conftest import Site, stop_gracefully, wait_until

pytestmark = pytest.mark.slow  # real `crm` processes

ORDERS = 8


def in_erp_but_not_confirmed(site: Site, erp: SandboxErpGateway, order_ids: list[str]) -> list[str]:
    """Orders the ERP has created whose confirmation the CRM has not recorded: the window a crash must survive."""
    return [i for i in order_ids if erp.order_count(i) == 1 and site.order(i).status is OrderStatus.SUBMITTED]


def just_created(erp: SandboxErpGateway, order_ids: list[str]) -> bool:
    """The ERP stored one of these in the last 100 ms: its answer (400 ms later) has not reached the worker."""
    since = datetime.now(UTC) - timedelta(milliseconds=100)
    found = [erp.find_by_external_ref(i) for i in order_ids]
    return any(f is not None and f.changed_at is not None and f.changed_at > since for f in found)


def test_a_worker_killed_between_the_erp_create_and_the_confirm_loses_nothing_and_duplicates_nothing(
    site: Site,
) -> None:
    ids = [o.id for o in site.place_orders(ORDERS)]
    erp = site.erp()
    # The ERP answers 400 ms after it has stored each order: a kill then hits the window.
    slow = site.start_worker("--batch", "3", "--poll", "0.05", CRM_SANDBOX_ERP_LATENCY_MS="400", CRM_OUTBOX_LEASE="3")
    wait_until(
        lambda: erp.order_count() >= 2 and just_created(erp, in_erp_but_not_confirmed(site, erp, ids)),
        30,
        "a create in flight",
    )

    slow.send_signal(signal.SIGKILL)
    slow.wait(timeout=10)

    assert slow.returncode == -signal.SIGKILL
    orphans = in_erp_but_not_confirmed(site, erp, ids)
    assert orphans, "the kill must land after the ERP created an order and before the CRM confirmed it"
    assert erp.order_count() < ORDERS

    again = site.start_worker("--poll", "0.05", CRM_OUTBOX_LEASE="3")
    wait_until(lambda: all(site.order(i).status is OrderStatus.CONFIRMED for i in ids), 30, "every order confirmed")
    assert stop_gracefully(again) == 0

    assert erp.order_count() == ORDERS
    for order_id in ids:
        order = site.order(order_id)
        in_erp = erp.find_by_external_ref(order_id)
        assert erp.order_count(order_id) == 1
        assert in_erp is not None
        assert (order.erp_order_id, order.erp_sync) == (in_erp.erp_order_id, ErpSync.SYNCED)
    status = site.outbox_status()
    assert status["dead"] == 0


def test_sigterm_finishes_the_message_in_hand_and_hands_back_the_rest(site: Site) -> None:
    ids = [o.id for o in site.place_orders(6)]
    erp = site.erp()
    # A long lease: what the stopping worker did not start must come back at once, not when the lease ends.
    worker = site.start_worker(
        "--batch", "6", "--poll", "0.05", CRM_SANDBOX_ERP_LATENCY_MS="500", CRM_OUTBOX_LEASE="600"
    )
    wait_until(lambda: erp.order_count() >= 1, 30, "the first create")

    assert stop_gracefully(worker) == 0

    sent = [i for i in ids if erp.order_count(i) == 1]
    assert 1 <= len(sent) < len(ids)
    assert all(site.order(i).status is OrderStatus.CONFIRMED for i in sent)  # the one in hand was finished
    assert '"event": "worker stopped"' in site.worker_log(worker)

    finish = site.crm_cli("worker", "--once")

    assert finish.returncode == 0, finish.stderr
    assert all(site.order(i).status is OrderStatus.CONFIRMED for i in ids)
    assert erp.order_count() == len(ids)
