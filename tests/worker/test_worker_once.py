"""`crm worker --once` on the embedded default: submitted orders reach the sandbox ERP exactly once each and are
confirmed with the ERP's number; orders the ERP should not get (drafts, holds, already confirmed) are left alone."""

from __future__ import annotations

import json
import sqlite3

import pytest

from crm_domain.orders import ErpSync, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from tests.worker.conftest import Site

pytestmark = pytest.mark.slow  # real `crm` processes


def test_once_confirms_every_submitted_order_in_the_sandbox_erp_exactly_once(site: Site) -> None:
    seeded = site.crm_cli("demo", "seed", "--months", "1", "--orders-per-month", "30")
    assert seeded.returncode == 0, seeded.stderr
    with site.crm.ctx.uow(read_only=True) as uow:
        before = uow.orders.page(PageRequest(limit=200), OrderQuery()).items
    mine = site.place_orders(3)
    submitted = [o.id for o in before if o.status is OrderStatus.SUBMITTED] + [o.id for o in mine]
    untouched = [o.id for o in before if o.status is not OrderStatus.SUBMITTED]
    already = {o.id for o in before if o.erp_order_id is not None}  # the demo's orders the sandbox already has
    erp = site.erp()
    assert erp.order_count() == len(already)

    first = site.crm_cli("worker", "--once", "--batch", "7")

    assert first.returncode == 0, first.stderr
    for order_id in submitted:
        order = site.order(order_id)
        in_erp = erp.find_by_external_ref(order_id)
        assert in_erp is not None
        assert (order.status, order.erp_sync, order.erp_order_id) == (
            OrderStatus.CONFIRMED,
            ErpSync.SYNCED,
            in_erp.erp_order_id,
        )
        assert erp.order_count(order_id) == 1
    assert all(erp.order_count(order_id) == (order_id in already) for order_id in untouched)
    assert erp.order_count() == len(submitted) + len(already)
    lines = [json.loads(line) for line in first.stderr.splitlines()]
    assert lines[-1]["event"] == "worker --once finished"  # one summary line ends the run, no line per delivery
    assert (lines[-1]["retried"], lines[-1]["dead"]) == (0, 0) and lines[-1]["delivered"] >= len(submitted)
    assert not [line for line in lines if line.get("outcome") == "delivered"]

    second = site.crm_cli("worker", "--once")

    assert second.returncode == 0, second.stderr
    assert erp.order_count() == len(submitted) + len(already)
    status = site.outbox_status()
    assert (status["pending"], status["dead"]) == (0, 0)
    assert status["delivered"] > len(submitted)


def test_the_sweep_purges_delivered_messages_past_the_retention(site: Site) -> None:
    [order] = site.place_orders(1)
    assert site.crm_cli("worker", "--once").returncode == 0
    assert site.outbox_status()["delivered"] >= 1
    kept = site.crm_cli("worker", "--once", CRM_OUTBOX_RETENTION_DAYS="1")  # delivered just now: kept
    assert "sweep: 0 delivered outbox messages older than 1 days purged" in kept.stderr
    delivered = site.outbox_status()["delivered"]

    ten_days = 10 * 86_400 * 1_000_000  # the embedded store keeps instants in microseconds
    with sqlite3.connect(site.data_dir / "crm.db") as db:  # as if delivered ten days ago
        db.execute("UPDATE outbox SET delivered_at = delivered_at - ? WHERE status = 'delivered'", (ten_days,))

    purged = site.crm_cli("worker", "--once", CRM_OUTBOX_RETENTION_DAYS="7")
    assert purged.returncode == 0, purged.stderr
    assert f"sweep: {delivered} delivered outbox messages older than 7 days purged" in purged.stderr
    assert site.outbox_status()["delivered"] == 0
    assert site.order(order.id).status is OrderStatus.CONFIRMED
