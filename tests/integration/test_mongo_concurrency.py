"""Several threads submit orders for one customer at once through the real services on the MongoDB store:
the conditional update of the credit document (on its version) must keep every reservation within the limit
(SPEC §2.3, §10). Runs against CRM_TEST_MONGODB_URI when set, else mongomock.

mongomock does not make one operation atomic against other threads the way a server does; for mongomock each
collection operation is made atomic here (one lock per operation, nothing more). Reads and the conditional
update remain separate operations, exactly as on a server, so over-reservation is prevented by the version
condition alone. Every commit takes the transaction path: on mongomock through the session shim of
tests/mongo.py, which checks the flow, not isolation (the transactions of the threads see each other's writes
as they happen); against a replica set, MongoDB's own transactions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from mongomock.collection import Collection

from adapters.mongo import MongoStore
from adapters.system import SystemClock
from crm_domain.money import Money
from crm_domain.orders import Order, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from tests import mongo
from tests.integration.mongo_world import an_order, world

THREADS = 6
ORDERS_EACH = 8
LIMIT = "10000.00"
#: 1..4 × 100.00 an order: 6 × 8 orders ask for 12,000.00 in all against a limit of 10,000.00.
QUANTITIES = [[1 + (t + i) % 4 for i in range(ORDERS_EACH)] for t in range(THREADS)]
_ATOMIC = ("insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one", "delete_many")


def _one_operation_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a server guarantees and mongomock does not: each single operation is atomic."""
    lock = threading.RLock()

    def atomic(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return run

    for name in (*_ATOMIC, "find_one_and_update", "count_documents"):
        monkeypatch.setattr(Collection, name, atomic(getattr(Collection, name)))
    find = Collection.find

    def find_now(self: Collection, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with lock:
            return iter(list(find(self, *args, **kwargs)))

    monkeypatch.setattr(Collection, "find", find_now)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[MongoStore]:
    if mongo.URI is None:
        _one_operation_at_a_time(monkeypatch)
    with mongo.fresh_database() as (client, name):
        mongo_store = MongoStore(client, name, clock=SystemClock())
        mongo_store.init_indexes()
        yield mongo_store


@pytest.mark.slow
class TestConcurrentSubmits:
    def test_threads_submitting_at_once_never_reserve_past_the_limit(self, store: MongoStore) -> None:
        place = world(store, SystemClock(), LIMIT, retries=200)
        start = threading.Barrier(THREADS)

        def submit_all(quantities: list[int]) -> list[Order]:
            start.wait(timeout=30)
            return [place.crm.orders.create(place.rep, an_order(place, q, submit=True)) for q in quantities]

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            answered = [order for batch in pool.map(submit_all, QUANTITIES) for order in batch]

        stored = _all_orders(place.crm, place.admin)
        submitted = [o for o in stored if o.status is OrderStatus.SUBMITTED]
        held = [o for o in stored if o.status is OrderStatus.ON_CREDIT_HOLD]
        account = place.crm.ctx.read(lambda uow: uow.credit.get(place.customer_id))
        position = place.crm.credit.position(place.admin, place.customer_id)
        assert account is not None

        assert account.reserved <= Money.of(LIMIT, "INR").minor
        assert len(answered) == len(stored) == THREADS * ORDERS_EACH
        assert len(submitted) + len(held) == len(stored)
        assert submitted
        assert held
        assert position.exposure == sum((o.total for o in submitted), Money.zero("INR"))
        assert set(account.reservations) == {o.id for o in submitted}
        assert len({o.number for o in stored}) == len(stored)
        assert {o.id: o.status for o in stored} == {o.id: o.status for o in answered}
        for order in held:  # every hold was right when decided: the order did not fit what was reserved
            assert order.credit is not None
            assert order.credit.shortfall.minor > 0
        if mongo.URI is None:
            assert mongo.STATS.committed >= len(stored)  # through the shim's transactions


def _all_orders(crm: Any, actor: Any) -> list[Order]:
    found: list[Order] = []
    cursor: str | None = None
    while True:
        page = crm.orders.list(actor, PageRequest(limit=200, cursor=cursor), OrderQuery())
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
