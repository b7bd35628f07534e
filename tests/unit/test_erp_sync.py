"""SPEC §2.5, §2.7, §8: submitted orders reach their customer's ERP exactly once and are confirmed with the ERP's
number, through the outbox worker; failures are retried or dead-lettered; cancels follow the order to the ERP."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from crm_domain.erp import ErpOrderRequest, ErpOrderState
from crm_domain.orders import ErpSync, LineRequest, Order, OrderStatus
from crm_domain.outbox import OutboxMessage, OutboxStatus, RetryPolicy
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import CustomerChanges
from crm_domain.services.delivery import OutboxDispatcher
from crm_domain.services.erp_sync import ErpSyncHandler
from crm_domain.services.orders import NewOrder
from tests.unit.erp_fakes import FakeErp, FakeErps
from tests.unit.world import World, inr

S = OrderStatus


@pytest.fixture
def erp() -> FakeErp:
    return FakeErp()


@pytest.fixture
def gennext() -> FakeErp:
    return FakeErp(name="gennext")


@pytest.fixture
def worker(world: World, erp: FakeErp, gennext: FakeErp) -> OutboxDispatcher:
    handler = ErpSyncHandler(world.crm.ctx, FakeErps({"sandbox": erp, "gennext": gennext}))
    return OutboxDispatcher(world.crm.ctx, [handler], policy=RetryPolicy(max_attempts=3), rng=random.Random(7))


def order(world: World, order_id: str) -> Order:
    return world.crm.orders.get(world.admin, order_id)


def messages(world: World, order_id: str, event: str) -> list[OutboxMessage]:
    with world.crm.ctx.uow(read_only=True) as uow:
        found = [uow.outbox.get(m.id) for m in world.outbox()]
        dead = uow.outbox.dead(1000)
    every = [m for m in found if m is not None] + dead
    return [m for m in every if m.aggregate_id == order_id and m.event == event]


def message_id(world: World, order_id: str, event: str) -> str:
    """The id of the order's pending message of `event` (delivered ones are only found by id)."""
    [found] = [m.id for m in world.outbox() if m.aggregate_id == order_id and m.event == event]
    return found


def status_of(world: World, message_id: str) -> OutboxStatus | None:
    with world.crm.ctx.uow(read_only=True) as uow:
        message = uow.outbox.get(message_id)
    return None if message is None else message.status


def drain(world: World, worker: OutboxDispatcher, passes: int = 5) -> None:
    """Run the worker until nothing is due, moving the clock past any backoff in between."""
    for _ in range(passes):
        worker.run_once(100)
        world.clock.advance(timedelta(minutes=30))


class TestCreateAndConfirm:
    def test_a_submitted_order_is_created_in_the_erp_and_confirmed_with_its_number(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        world.crm.catalogue.create(
            world.admin, NewProduct(sku="MOTOR", name="Motor", unit_price=inr("900.00"), erp_material_id="MAT-77")
        )
        placed = world.order(world.rep, world.customer, ("MOTOR", "2"), ("PUMP", "1", "5"))
        submitted = message_id(world, placed.id, "order.submitted")

        report = worker.run_once(100)

        confirmed = order(world, placed.id)
        assert (confirmed.status, confirmed.erp_sync, confirmed.erp_error) == (S.CONFIRMED, ErpSync.SYNCED, None)
        assert confirmed.erp_order_id == erp.ids[placed.id]
        sent: ErpOrderRequest = erp.orders[erp.ids[placed.id]]
        assert (sent.number, sent.customer_code, sent.total) == (placed.number, "D-RAVI", placed.total)
        assert [(line.sku, line.erp_material_id, line.quantity) for line in sent.lines] == [
            ("MOTOR", "MAT-77", Decimal(2)),
            ("PUMP", None, Decimal(1)),
        ]
        assert sent.lines[1].discount_pct == Decimal(5)
        assert report.claimed >= 2  # order.created went to nobody, order.submitted to the ERP
        assert status_of(world, submitted) is OutboxStatus.DELIVERED

    def test_an_order_released_from_credit_hold_goes_to_the_erp(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        held = world.order_of("20000.00")
        worker.run_once(100)
        assert erp.creates() == []
        world.crm.orders.release(world.controller, held.id, "dealer pays on Friday")

        worker.run_once(100)

        assert order(world, held.id).status is S.CONFIRMED
        assert erp.count(held.id) == 1

    def test_each_order_goes_to_the_erp_its_customer_names(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp, gennext: FakeErp
    ) -> None:
        world.crm.customers.update(world.admin, world.customer2.id, CustomerChanges(erp_system="gennext"))
        to_sandbox = world.order_of("10.00")
        to_gennext = world.order_of("20.00", customer=world.customer2, actor=world.rep2)

        worker.run_once(100)

        assert list(erp.ids) == [to_sandbox.id]
        assert list(gennext.ids) == [to_gennext.id]
        assert order(world, to_gennext.id).erp_order_id == gennext.ids[to_gennext.id]

    def test_a_delivery_repeated_after_a_crash_creates_nothing_twice(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        placed = world.order_of("100.00")
        [submitted] = messages(world, placed.id, "order.submitted")
        erp.lost_answers = 1  # the ERP stores the order, the worker never hears back

        worker.run_once(100)
        assert order(world, placed.id).status is S.SUBMITTED
        assert erp.count(placed.id) == 1
        world.clock.advance(timedelta(hours=1))
        worker.run_once(100)
        handler = ErpSyncHandler(world.crm.ctx, FakeErps({"sandbox": erp}))
        handler.handle(submitted)  # at least once: the same message once more

        assert erp.count(placed.id) == 1
        assert len(erp.creates()) == 2  # the retry asked again and got the first ERP order back
        assert order(world, placed.id).erp_order_id == erp.ids[placed.id]


class TestFailures:
    def test_an_unreachable_erp_leaves_the_order_submitted_and_failed_until_it_is_back(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        placed = world.order_of("100.00")
        erp.down = True

        worker.run_once(100)

        waiting = order(world, placed.id)
        assert (waiting.status, waiting.erp_sync) == (S.SUBMITTED, ErpSync.FAILED)
        assert "connection refused" in (waiting.erp_error or "")
        [message] = messages(world, placed.id, "order.submitted")
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
        assert message.next_attempt_at > world.clock.now()

        erp.down = False
        world.clock.advance(timedelta(minutes=5))
        worker.run_once(100)
        assert order(world, placed.id).status is S.CONFIRMED
        assert order(world, placed.id).erp_sync is ErpSync.SYNCED

    def test_a_refusal_marks_the_order_dead_and_dead_letters_at_once(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        placed = world.order_of("100.00")
        erp.reject = "sold-to party D-RAVI is blocked in the ERP"

        worker.run_once(100)

        dead = order(world, placed.id)
        assert (dead.status, dead.erp_sync, dead.erp_error) == (S.SUBMITTED, ErpSync.DEAD, erp.reject)
        [message] = messages(world, placed.id, "order.submitted")
        assert (message.status, message.attempts) == (OutboxStatus.DEAD, 1)
        assert erp.reject in (message.last_error or "")

    def test_giving_up_marks_the_order_dead_and_retry_dead_brings_it_through(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        placed = world.order_of("100.00")
        erp.down = True
        drain(world, worker)
        [message] = messages(world, placed.id, "order.submitted")
        assert (message.status, message.attempts) == (OutboxStatus.DEAD, 3)
        assert len(erp.creates()) == 3
        assert order(world, placed.id).erp_sync is ErpSync.DEAD

        erp.down = False
        assert worker.retry_dead() == 1
        worker.run_once(100)

        assert order(world, placed.id).status is S.CONFIRMED
        assert erp.count(placed.id) == 1

    def test_a_customer_whose_erp_is_not_configured_fails_and_is_retried(
        self, world: World, worker: OutboxDispatcher
    ) -> None:
        world.crm.customers.update(world.admin, world.customer.id, CustomerChanges(erp_system="sap"))
        placed = world.order_of("100.00")

        worker.run_once(100)

        assert order(world, placed.id).erp_sync is ErpSync.FAILED
        assert "no ERP gateway 'sap'" in (order(world, placed.id).erp_error or "")
        [message] = messages(world, placed.id, "order.submitted")
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)


class TestCancel:
    def test_an_order_cancelled_before_the_erp_got_it_is_never_created_there(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        placed = world.order_of("100.00")
        world.crm.orders.cancel(world.rep, placed.id, "dealer changed his mind")
        submitted = message_id(world, placed.id, "order.submitted")
        cancelled_message = message_id(world, placed.id, "order.cancelled")

        worker.run_once(100)

        assert erp.calls == []
        cancelled = order(world, placed.id)
        assert (cancelled.status, cancelled.erp_sync) == (S.CANCELLED, ErpSync.NOT_SENT)
        assert status_of(world, submitted) is OutboxStatus.DELIVERED
        assert status_of(world, cancelled_message) is OutboxStatus.DELIVERED

    def test_a_confirmed_order_cancelled_in_the_crm_is_cancelled_in_the_erp(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        placed = world.order_of("100.00")
        worker.run_once(100)
        world.crm.orders.cancel(world.rep, placed.id, "wrong pump")

        worker.run_once(100)

        assert erp.states[erp.ids[placed.id]] is ErpOrderState.CANCELLED
        assert erp.count(placed.id) == 1

    def test_a_cancel_after_an_unanswered_create_finds_the_erp_order_and_cancels_it(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        placed = world.order_of("100.00")
        erp.lost_answers = 1  # the ERP has it; the CRM never learnt its number
        worker.run_once(100)
        world.crm.orders.cancel(world.rep, placed.id, "too late")
        world.clock.advance(timedelta(hours=1))

        worker.run_once(100)

        assert erp.count(placed.id) == 1
        assert erp.states[erp.ids[placed.id]] is ErpOrderState.CANCELLED
        assert order(world, placed.id).erp_sync is ErpSync.SYNCED

    def test_an_order_cancelled_while_the_erp_creates_it_is_cancelled_there_too(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        placed = world.order_of("100.00")
        erp.during_create = lambda request: world.crm.orders.cancel(
            world.rep, request.external_ref, "cancelled meanwhile"
        )

        worker.run_once(100)
        erp.during_create = None
        worker.run_once(100)

        assert order(world, placed.id).status is S.CANCELLED
        assert erp.count(placed.id) == 1
        assert erp.states[erp.ids[placed.id]] is ErpOrderState.CANCELLED

    @pytest.mark.parametrize("erp_order_id", ["SANDBOX-0001", "SANDBOX-9999"])
    def test_an_order_the_erp_moved_on_while_it_answered_the_create_is_left_as_the_erp_said(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp, erp_order_id: str
    ) -> None:
        """The ERP's own event (same ERP number, or another) got there first: the worker's confirm, through the
        same ERP-progress rule, changes nothing and the message is done."""
        placed = world.order_of("100.00")
        submitted = message_id(world, placed.id, "order.submitted")
        erp.during_create = lambda request: world.erp_reports(placed, S.DISPATCHED, erp_order_id=erp_order_id)

        worker.run_once(100)

        moved = order(world, placed.id)
        assert (moved.status, moved.erp_order_id) == (S.DISPATCHED, erp_order_id)
        assert [h.to_status for h in moved.history].count(S.CONFIRMED) == 1
        assert status_of(world, submitted) is OutboxStatus.DELIVERED

    def test_a_draft_that_is_cancelled_touches_no_erp(
        self, world: World, worker: OutboxDispatcher, erp: FakeErp
    ) -> None:
        draft = world.crm.orders.create(
            world.rep,
            NewOrder(customer_id=world.customer.id, lines=(LineRequest(sku="PUMP", quantity="1"),)),
        )
        world.crm.orders.cancel(world.rep, draft.id, "not needed")

        worker.run_once(100)

        assert erp.calls == []
        assert order(world, draft.id).erp_sync is ErpSync.NOT_SENT
