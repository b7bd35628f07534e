"""Two releases on one store during a rolling (or blue-green) release, on the embedded store: the running
release ("old": this code) keeps serving after the next release ("new": this code plus an expand migration,
patched in here) migrated the schema under it; an old process restarted in the middle of the rollout starts on
the newer schema; the new code reads what the old one wrote and the old code what the new one wrote. The
contract side (old code refused once a release contracted past it) is tested in
tests/integration/test_sqlite_store.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import httpx
import pytest

from adapters.sqlite import schema
from tests.e2e.conftest import Server
from tests.reliability.conftest import Shop, prepared_server
from tests.worker.conftest import Site

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

#: The next release's migration: expand only (a new table, a nullable column, an index).
EXPAND = (
    "CREATE TABLE order_tags (order_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (order_id, tag))",
    "ALTER TABLE orders ADD COLUMN delivery_window TEXT",
    "CREATE INDEX orders_by_delivery_window ON orders (delivery_window)",
)


def test_the_old_release_serves_on_the_schema_the_new_one_migrated_to(
    server_factory: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = prepared_server(server_factory(workers=1))
    old.start()
    with httpx.Client(base_url=old.base, timeout=30) as client:
        shop = Shop(old, client)
        before = shop.submit(client)
        assert before.status_code == 201, before.text

        # The new release: its store migrates the old release's data on first use, and places orders.
        monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, EXPAND))
        monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
        new = Site(old.data_dir)
        by_new = new.place_orders(2)
        with sqlite3.connect(old.data_dir / "crm.db") as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            columns = {row[1] for row in conn.execute("PRAGMA table_info(orders)")}
        assert version == schema.SCHEMA_VERSION and "delivery_window" in columns
        assert new.order(before.json()["id"]).number == before.json()["number"]  # new code reads old orders

        # The old release, still running, on the newer schema: it reads the new release's orders and takes more.
        during = shop.submit(client)
        assert during.status_code == 201, during.text
        for order in by_new:
            seen = client.get(f"/api/v1/orders/{order.id}", headers=shop.headers)
            assert seen.status_code == 200 and seen.json()["number"] == order.number, seen.text

    # An old process started in the middle of the rollout (a pod rescheduled) starts on the newer schema.
    old.stop()
    old.start()
    with httpx.Client(base_url=old.base, timeout=30) as client:
        again = Shop.again(old, client, shop.customer_id)
        restarted = again.submit(client)
        assert restarted.status_code == 201, restarted.text
        assert client.get("/health/ready").status_code == 200
    assert new.order(restarted.json()["id"]).number == restarted.json()["number"]
    print(
        f"\nrolling release: old code (schema {schema.SCHEMA_VERSION - 1}) served 3 orders before, during and after "
        f"the new release (schema {schema.SCHEMA_VERSION}) migrated and placed 2; each read the other's"
    )
    new.stop()
