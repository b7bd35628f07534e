"""The API server SIGKILLed under load (SPEC §10, an acknowledged order survives): a real `crm serve` with two
worker processes takes submits from four threads until its whole process group is killed; started again on the
same data, it has every order it answered 201 for, in the state it answered, and the customer's exposure equals
the sum of its open reservations (and the submitted orders' totals), never past the limit."""

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

THREADS = 4
FITTING = 60  # orders the limit holds; the load goes past it, so later ones go on hold


def test_every_acknowledged_order_survives_a_sigkill_of_the_server(server_factory: Callable[..., Server]) -> None:
    server = prepared_server(server_factory(workers=2))
    server.start()
    answered: dict[str, str] = {}  # order id → the status the 201 said
    stop = threading.Event()
    with httpx.Client(base_url=server.base, timeout=30) as client:
        shop = Shop(server, client, limit=str(ORDER_TOTAL * FITTING))

    def load() -> None:
        with httpx.Client(base_url=server.base, timeout=30) as own:
            while not stop.is_set():
                try:
                    response = shop.submit(own)
                except httpx.HTTPError:
                    return  # the server is gone
                assert response.status_code == 201, response.text
                answered[response.json()["id"]] = response.json()["status"]

    threads = [threading.Thread(target=load) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while sum(s == "on_credit_hold" for s in list(answered.values())) < 10:
        assert time.monotonic() < deadline and all(t.is_alive() for t in threads), "the load stopped early"
        time.sleep(0.01)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    acknowledged = dict(answered)

    server.start()  # the same data directory and port
    db = server.data_dir / "crm.db"
    stored = stored_orders(db)
    with httpx.Client(base_url=server.base, timeout=30) as client:
        position = credit_position(client, Shop.again(server, client, shop.customer_id))
    missing = [i for i in acknowledged if i not in stored]
    changed = [i for i, status in acknowledged.items() if stored.get(i) not in (None, status)]
    submitted = sum(status == "submitted" for status in stored.values())
    reserved = Decimal(open_reservations(db, shop.customer_id)) / 100
    print(
        f"\nAPI server SIGKILL: {len(acknowledged)} orders answered 201 ({THREADS} threads, 2 worker processes), "
        f"{len(stored)} stored after the restart, missing {len(missing)}, changed {len(changed)}; exposure "
        f"{position['exposure']} = open reservations {reserved} = {submitted} submitted × {ORDER_TOTAL} "
        f"(limit {position['limit']})"
    )
    assert (missing, changed) == ([], [])
    assert len(stored) - len(acknowledged) <= THREADS  # at most the requests in flight when it died
    assert position["exposure"] == position["open_orders"] == reserved == ORDER_TOTAL * submitted
    assert position["exposure"] <= position["limit"]
