"""Half-done commits on MongoDB without transactions (SPEC §11): a process that dies between the steps of a
submit leaves a journal; the recovery sweep finishes the submit when it still can, and otherwise releases the
reservation so credit agrees with the orders again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.mongo import MongoStore
from adapters.mongo.commit import Applier
from adapters.mongo.journal import Recovered
from adapters.mongo.tx import StagedWrite
from adapters.system import FixedClock
from crm_domain.errors import InvalidTransition
from crm_domain.orders import OrderStatus
from tests import mongo
from tests.integration.mongo_world import World, an_order, world

LATER = timedelta(minutes=5)  # past the recovery grace period


class Crash(BaseException):
    """The process dies (not an error anything catches)."""


@pytest.fixture
def store(clock: FixedClock) -> Iterator[MongoStore]:
    with mongo.fresh_database() as (client, name):
        mongo_store = MongoStore(client, name, clock=clock)
        mongo_store.init_indexes()
        yield mongo_store


@pytest.fixture
def place(store: MongoStore, clock: FixedClock) -> World:
    return world(store, clock, "1000.00")


def _crash_before(monkeypatch: pytest.MonkeyPatch, collection: str) -> None:
    apply = Applier.apply

    def dying(self: Applier, write: StagedWrite, **kwargs: Any) -> None:
        if write.collection == collection:
            raise Crash
        apply(self, write, **kwargs)

    monkeypatch.setattr(Applier, "apply", dying)


def _submit_and_crash(place: World, monkeypatch: pytest.MonkeyPatch, before: str) -> str:
    draft = place.crm.orders.create(place.rep, an_order(place, 3, submit=False))
    _crash_before(monkeypatch, before)
    with pytest.raises(Crash):
        place.crm.orders.submit(place.rep, draft.id, idempotency_key="retry-me")
    monkeypatch.undo()
    return draft.id


def _reserved(place: World) -> dict[str, int]:
    account = place.crm.ctx.read(lambda uow: uow.credit.get(place.customer_id))
    assert account is not None
    return {order_id: r.amount for order_id, r in account.reservations.items()}


def _events(store: MongoStore, order_id: str) -> list[str]:
    return sorted(doc["event"] for doc in store.db["outbox"].find({"aggregate_id": order_id}))


class TestCrashBetweenCreditAndOrder:
    def test_the_reservation_is_made_and_the_order_is_still_a_draft(
        self, place: World, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        order_id = _submit_and_crash(place, monkeypatch, before="orders")

        assert _reserved(place) == {order_id: 300_00}
        assert place.crm.orders.get(place.rep, order_id).status is OrderStatus.DRAFT
        assert store.db["commits"].count_documents({}) == 1

    def test_recovery_finishes_the_submit(
        self, place: World, store: MongoStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        order_id = _submit_and_crash(place, monkeypatch, before="orders")

        done = store.recover(clock.now() + LATER)

        order = place.crm.orders.get(place.rep, order_id)
        assert done == Recovered(completed=1, rolled_back=0)
        assert order.status is OrderStatus.SUBMITTED
        assert _reserved(place) == {order_id: 300_00}
        assert "order.submitted" in _events(store, order_id)
        assert place.crm.orders.submit(place.rep, order_id, idempotency_key="retry-me").id == order_id  # replay
        assert store.db["commits"].count_documents({}) == 0

    def test_when_the_order_changed_meanwhile_recovery_releases_the_reservation(
        self, place: World, store: MongoStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        order_id = _submit_and_crash(place, monkeypatch, before="orders")
        place.crm.orders.cancel(place.rep, order_id, "dealer changed their mind")

        done = store.recover(clock.now() + LATER)

        assert done == Recovered(completed=0, rolled_back=1)
        assert _reserved(place) == {}
        assert place.crm.orders.get(place.rep, order_id).status is OrderStatus.CANCELLED
        assert store.db["idempotency"].count_documents({}) == 0  # the key can be used again

    def test_a_young_journal_is_left_alone(
        self, place: World, store: MongoStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        order_id = _submit_and_crash(place, monkeypatch, before="orders")

        done = store.recover(clock.now() + timedelta(seconds=5))  # may still be a live commit

        assert done == Recovered()
        assert place.crm.orders.get(place.rep, order_id).status is OrderStatus.DRAFT
        assert store.db["commits"].count_documents({}) == 1


class TestCrashAfterTheOrder:
    def test_recovery_writes_the_outbox_and_running_totals_once(
        self, place: World, store: MongoStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        order_id = _submit_and_crash(place, monkeypatch, before="outbox")
        assert place.crm.orders.get(place.rep, order_id).status is OrderStatus.SUBMITTED
        assert _events(store, order_id) == ["order.created"]

        first = store.recover(clock.now() + LATER)
        second = store.recover(clock.now() + LATER)

        achieved = place.crm.ctx.read(lambda uow: uow.performance.achieved(clock.now().strftime("%Y-%m")))
        assert (first, second) == (Recovered(completed=1), Recovered())
        assert _events(store, order_id) == ["order.created", "order.submitted"]
        assert [(a.user_id, a.amount, a.orders) for a in achieved] == [(place.rep.id, 300_00, 1)]
        assert _reserved(place) == {order_id: 300_00}
        buckets = place.crm.ctx.read(lambda uow: uow.reports.buckets())  # the sales buckets: moved once, too
        whole = {k.status: f for k, f in buckets.items() if k.sku == ""}
        assert {s: (f.orders, f.total) for s, f in whole.items()} == {OrderStatus.SUBMITTED: (1, 300_00)}
        assert place.crm.reports.check(place.admin).agrees


class TestConflictWithoutCrash:
    def test_a_lost_order_write_gives_the_reservation_back_at_once(
        self, place: World, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two submits of one draft race: the loser's credit write landed, its order write did not."""
        draft = place.crm.orders.create(place.rep, an_order(place, 3, submit=False))
        apply = Applier.apply
        raced = []

        def racing(self: Applier, write: StagedWrite, **kwargs: Any) -> None:
            if write.collection == "orders" and not raced:
                raced.append(True)
                place.crm.orders.cancel(place.admin, draft.id, "cancelled while the submit was committing")
            apply(self, write, **kwargs)

        monkeypatch.setattr(Applier, "apply", racing)
        with pytest.raises(InvalidTransition):  # the retry saw the cancelled order
            place.crm.orders.submit(place.rep, draft.id)
        monkeypatch.undo()

        assert _reserved(place) == {}
        assert store.db["commits"].count_documents({}) == 0


def test_the_worker_s_housekeeping_sweep_runs_the_recovery(
    place: World,
    store: MongoStore,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from entrypoints.bootstrap import bootstrap
    from entrypoints.cli.worker import _sweep
    from entrypoints.settings import Settings

    order_id = _submit_and_crash(place, monkeypatch, before="orders")
    clock.advance(LATER)
    container = bootstrap(Settings(data_dir=tmp_path, database_url="mongodb://127.0.0.1/crm"), uow=store, clock=clock)

    _sweep(container)

    assert place.crm.orders.get(place.rep, order_id).status is OrderStatus.SUBMITTED
    assert store.db["commits"].count_documents({}) == 0
    assert "1 half-done commits completed" in caplog.text
