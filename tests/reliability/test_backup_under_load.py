"""Backup and restore round trip under load: `crm db backup` runs while a real `crm serve` takes submits from
a thread; the backup restored into a fresh data directory serves again with every order acknowledged before
the backup started, and an exposure equal to the sum of its open reservations."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.reliability.conftest import (
    ORDER_TOTAL,
    Shop,
    credit_position,
    open_reservations,
    prepared_server,
    stored_orders,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_a_backup_taken_under_load_restores_every_order_acknowledged_before_it(
    server_factory: Callable[..., Server],
) -> None:
    live = prepared_server(server_factory(workers=2))
    live.start()
    acknowledged: list[tuple[float, str]] = []  # (monotonic time of the 201, order id)
    stop = threading.Event()
    failures: list[str] = []
    with httpx.Client(base_url=live.base, timeout=30) as client:
        shop = Shop(live, client)

        def load() -> None:
            with httpx.Client(base_url=live.base, timeout=30) as own:
                while not stop.is_set():
                    response = shop.submit(own)
                    if response.status_code != 201:
                        failures.append(f"{response.status_code} {response.text}")
                        return
                    acknowledged.append((time.monotonic(), response.json()["id"]))

        loader = threading.Thread(target=load)
        loader.start()
        while len(acknowledged) < 20:
            time.sleep(0.01)
        started = time.monotonic()
        backup = live.crm("db", "backup", str(live.data_dir.parent / "crm-backup.db"))
        ended = time.monotonic()
        while not any(t > ended for t, _ in acknowledged) and not failures:
            time.sleep(0.01)  # the server kept taking orders after the backup, too
        stop.set()
        loader.join(timeout=30)
    assert not failures, failures
    assert backup.returncode == 0, backup.stderr
    before = {i for t, i in acknowledged if t < started}
    during = {i for t, i in acknowledged if started <= t <= ended}

    fresh: Server = server_factory(workers=1)  # a new data directory: the backup brings the admin
    restored = fresh.crm("db", "restore", str(live.data_dir.parent / "crm-backup.db"))
    assert restored.returncode == 0, restored.stderr
    fresh.start()
    with httpx.Client(base_url=fresh.base, timeout=30) as client:
        shop_again = Shop.again(fresh, client, shop.customer_id)
        ids = set(stored_orders(fresh.data_dir / "crm.db"))
        position = credit_position(client, shop_again)
        reserved = open_reservations(fresh.data_dir / "crm.db", shop.customer_id)

    after = len(acknowledged) - len(before) - len(during)
    print(
        f"\nbackup under load: {len(acknowledged)} orders acknowledged, {len(before)} before the backup started, "
        f"{len(during)} while it ran ({(ended - started) * 1000:.0f} ms), {after} after; "
        f"{len(ids)} in the backup; missing {len(before - ids)}"
    )
    assert before <= ids, f"{len(before - ids)} acknowledged orders missing from the backup"
    assert ids <= {i for _, i in acknowledged}
    assert not (fresh.data_dir / "crm.db.bak").exists()  # there was no store to keep
    assert position["exposure"] == position["open_orders"] == ORDER_TOTAL * len(ids)
    assert Decimal(reserved) / 100 == position["exposure"]
