"""One test (or more) per finding of issue 13 (the MongoDB review) that mongomock can show; what only a real
replica set can show is listed in docs/operations.md ("Checking the MongoDB findings on a replica set").

Every test here runs the store's one commit path: on mongomock through the session shim of tests/mongo.py,
which runs each transaction body with its session and checks the flow, **not isolation**; against the replica
set at `CRM_TEST_MONGODB_URI` when it is set. Races are staged deterministically: a commit is held at its
start while the racing request runs to the end. Each docstring says how the test failed on the commit-journal
code it replaces (run against that code, commit 0238e52, with only the new names taken out), or why it was not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo import _csot
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from adapters.mongo import GridFsFileStore, MongoStore
from adapters.mongo.commit import MAX_DOCUMENT_BYTES, Applier
from adapters.mongo.errors import OUTCOME_UNKNOWN, CommitOutcomeUnknown
from adapters.mongo.store import BACKOFF_BASE, BACKOFF_CAP
from adapters.mongo.tx import MongoTx, StagedWrite
from adapters.system import FixedClock
from crm_domain.credit_governance import LimitRequestStatus
from crm_domain.errors import ConcurrentUpdate, Conflict, DuplicateKey, ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import OrderStatus
from crm_domain.services.users import NewUser, UserChanges
from crm_domain.users import Role
from tests import mongo
from tests.contract.builders import (
    a_customer,
    a_limit_request,
    a_message,
    a_product,
    a_target,
    a_user,
    an_order,
    at,
    read,
    write,
)
from tests.integration.mongo_world import World, world
from tests.integration.mongo_world import an_order as a_new_order


@pytest.fixture
def store(clock: FixedClock) -> Iterator[MongoStore]:
    with mongo.fresh_database(server_clock=clock) as (client, name):  # mongomock's `$$NOW`: the clock
        mongo_store = MongoStore(client, name, clock=clock, pause=lambda seconds: None)
        mongo_store.init_indexes()
        yield mongo_store


@pytest.fixture
def place(store: MongoStore, clock: FixedClock) -> World:
    return world(store, clock, "1000.00")


def _before_commit(monkeypatch: pytest.MonkeyPatch, touching: str, race: Callable[[], object]) -> list[bool]:
    """Run `race` once, to its end, when the first commit that writes to `touching` starts."""
    apply = MongoStore.apply
    ran: list[bool] = []

    def held(self: MongoStore, tx: MongoTx) -> None:
        if not ran and touching in tx.writes:
            ran.append(True)
            race()
        apply(self, tx)

    monkeypatch.setattr(MongoStore, "apply", held)
    return ran


def _orders(store: MongoStore) -> list[dict[str, Any]]:
    return list(store.db["orders"].find({}))


def _events(store: MongoStore, name: str) -> list[dict[str, Any]]:
    return list(store.db["outbox"].find({"event": name}))


# --- 1: "no transactions" cached after one transient error -------------------------------------------------------
# tests/integration/test_mongo_store.py::TestStartCheck::test_a_failed_check_is_not_remembered


class TestEveryCommitIsATransaction:
    def test_a_submit_writes_through_one_transaction(self, place: World, store: MongoStore) -> None:
        """Finding 1's consequence: every test took the journal, never the transaction path (the old code had no
        shim to count with; its journal wrote to `commits`)."""
        before = mongo.STATS.committed

        place.crm.orders.create(place.rep, a_new_order(place, 2, submit=True), idempotency_key="k-1")

        assert "commits" not in store.db.list_collection_names()
        if mongo.URI is None:
            assert mongo.STATS.committed == before + 1


# --- 2 and 4: a keyed request became two orders -------------------------------------------------------------------


class TestOneKeyOneOrder:
    def test_the_same_key_racing_itself_makes_one_order(
        self, place: World, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Finding 2: the journal's recovery ran beside a live commit and one keyed request became two
        submitted orders. Now the idempotency record commits with the order, so the loser of the race replays
        the winner's order. This test passed on the journal code too: the reproduced race needs the recovery
        sweep running beside a live commit (two hosts' clocks), which is gone; what stays is the guarantee."""
        new = a_new_order(place, 3, submit=True)
        inner: list[str] = []
        _before_commit(
            monkeypatch,
            "orders",
            lambda: inner.append(place.crm.orders.create(place.rep, new, idempotency_key="same").id),
        )

        outer = place.crm.orders.create(place.rep, new, idempotency_key="same")

        assert [outer.id] == inner
        assert [doc["_id"] for doc in _orders(store)] == inner
        account = read(store, lambda uow: uow.credit.get(place.customer_id))
        assert account is not None and set(account.reservations) == set(inner)
        assert len(_events(store, "order.submitted")) == 1

    def test_a_retried_key_replays_after_many_later_commits(self, place: World, store: MongoStore) -> None:
        """Finding 4: a credit document kept the last 20 commit ids, so after more than 20 later commits recovery
        rolled back a commit that had landed and the retried key made a second order (seen failing first: the
        credit document carried `commits`, the bookkeeping that recovery trusted)."""
        first = place.crm.orders.create(place.rep, a_new_order(place, 1, submit=True), idempotency_key="k-once")
        for _ in range(25):
            place.crm.orders.create(place.rep, a_new_order(place, 1, submit=False))

        again = place.crm.orders.create(place.rep, a_new_order(place, 1, submit=True), idempotency_key="k-once")

        assert again.id == first.id
        assert len(_orders(store)) == 26
        assert "commits" not in (store.db["credit"].find_one({"_id": place.customer_id}) or {})


# --- 3: a rollback kept the order and dropped its messages --------------------------------------------------------


class Boom(Exception):
    """A write that fails half way through a commit."""


class TestAllOrNothing:
    def test_a_commit_that_fails_half_way_leaves_nothing(
        self, place: World, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Finding 3: a rollback kept order writes that had landed but dropped their outbox messages (an order
        cancelled with no `order.cancelled`; seen failing first: the order was cancelled, no message)."""
        order = place.crm.orders.create(place.rep, a_new_order(place, 2, submit=True))
        apply = Applier.apply

        def failing_at_the_outbox(self: Applier, write: StagedWrite) -> None:
            if write.collection == "outbox":
                raise Boom
            apply(self, write)

        monkeypatch.setattr(Applier, "apply", failing_at_the_outbox)
        with pytest.raises(Boom):
            place.crm.orders.cancel(place.rep, order.id, "changed their mind")
        monkeypatch.undo()

        assert place.crm.orders.get(place.rep, order.id).status is OrderStatus.SUBMITTED
        assert _events(store, "order.cancelled") == []
        account = read(store, lambda uow: uow.credit.get(place.customer_id))
        assert account is not None and set(account.reservations) == {order.id}

        place.crm.orders.cancel(place.rep, order.id, "changed their mind")  # and done properly, once
        assert place.crm.orders.get(place.rep, order.id).status is OrderStatus.CANCELLED
        assert len(_events(store, "order.cancelled")) == 1


# --- 5: blind whole-document replaces -----------------------------------------------------------------------------

SAVES: dict[str, tuple[Callable[[Any], None], Callable[[Any], Any], Callable[[Any, Any], None]]] = {
    # collection: (add the document, read it, change and save it)
    "users": (
        lambda uow: uow.users.add(a_user("u-1")),
        lambda uow: uow.users.get("u-1"),
        lambda uow, user: uow.users.save(user),
    ),
    "customers": (
        lambda uow: uow.customers.add(a_customer("c-1")),
        lambda uow: uow.customers.get("c-1"),
        lambda uow, customer: uow.customers.save(customer),
    ),
    "products": (
        lambda uow: uow.products.add(a_product("PUMP-1")),
        lambda uow: uow.products.get("PUMP-1"),
        lambda uow, product: uow.products.save(product),
    ),
    "limit_requests": (
        lambda uow: uow.limit_requests.add(a_limit_request("r-1")),
        lambda uow: uow.limit_requests.get("r-1"),
        lambda uow, request: uow.limit_requests.save(request),
    ),
    "outbox": (
        lambda uow: uow.outbox.add(a_message("m-1")),
        lambda uow: uow.outbox.get("m-1"),
        lambda uow, message: uow.outbox.save(message),
    ),
    "targets": (
        lambda uow: uow.targets.put(a_target("u-1", "2026-11")),
        lambda uow: uow.targets.get("u-1", "2026-11"),
        lambda uow, target: uow.targets.put(target),
    ),
}


class TestNoBlindReplace:
    @pytest.mark.parametrize("collection", sorted(SAVES))
    def test_a_save_over_a_change_made_since_the_read_is_a_conflict(self, store: MongoStore, collection: str) -> None:
        """Finding 5: documents without a version were saved as unconditional whole-document replaces (seen
        failing first: the second save overwrote the first, no error, for every collection here)."""
        add, get, save = SAVES[collection]
        write(store, add)
        with store() as slow:
            stale = get(slow)
            write(store, lambda uow: save(uow, get(uow)))  # someone else saves it meanwhile
            save(slow, stale)
            with pytest.raises(ConcurrentUpdate):
                slow.commit()

    def test_a_document_from_before_versions_were_tracked_is_saved_once(self, store: MongoStore) -> None:
        write(store, lambda uow: uow.users.add(a_user("u-1")))
        store.db["users"].update_one({"_id": "u-1"}, {"$unset": {"_v": ""}})

        user = read(store, lambda uow: uow.users.get("u-1"))
        write(store, lambda uow: uow.users.save(user))

        assert (store.db["users"].find_one({"_id": "u-1"}) or {})["_v"] == 1

    def test_a_reject_racing_an_approve_cannot_leave_both(
        self, place: World, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Finding 5: a reject racing an approve left the request rejected with the limit raised and both events
        (seen failing first: the approve went through over the reject, no conflict)."""
        crm = place.crm
        controller = crm.users.create(
            place.admin,
            NewUser(mobile="+919876500002", name="Chitra Credit", roles=frozenset({Role.CREDIT_CONTROLLER})),
        ).actor()
        request = crm.credit.request_limit_change(place.admin, place.customer_id, Money.of("2000.00", "INR"), "growth")
        _before_commit(monkeypatch, "limit_requests", lambda: crm.credit.reject_request(controller, request.id, "no"))

        with pytest.raises(Conflict):
            crm.credit.approve_request(controller, request.id, "yes")

        assert crm.credit.get_request(place.admin, request.id).status is LimitRequestStatus.REJECTED
        assert crm.credit.position(place.admin, place.customer_id).limit == Money.of("1000.00", "INR")
        assert len(_events(store, "credit_limit.request_decided")) == 1
        assert _events(store, "credit_limit.changed") == []

    def test_a_rename_racing_a_deactivation_does_not_undo_it(
        self, place: World, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Finding 5: one admin's deactivation of a user was undone by another's concurrent rename (seen failing
        first: the user was active again)."""
        crm = place.crm
        _before_commit(
            monkeypatch, "users", lambda: crm.users.update(place.admin, place.rep.id, UserChanges(active=False))
        )

        renamed = crm.users.update(place.admin, place.rep.id, UserChanges(name="Ravi R."))

        assert (renamed.name, renamed.active) == ("Ravi R.", False)  # run again on the deactivated user


# --- 7: a request hanging two minutes; "nothing was committed" when it may have been ----------------------------


def _commit_reply_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next commit lands, and its answer is lost (what `with_transaction` raises after its retries)."""
    start = MongoStore.apply

    def lost(self: MongoStore, tx: MongoTx) -> None:
        monkeypatch.setattr(MongoStore, "apply", start)
        real = self.client.start_session

        class Lost:
            def __init__(self) -> None:
                self.session = real()

            def __enter__(self) -> Lost:
                return self

            def __exit__(self, *exc: object) -> None:
                self.session.__exit__(*exc)

            def with_transaction(self, callback: Callable[[Any], Any], **options: Any) -> Any:
                self.session.with_transaction(callback, **options)
                error = ConnectionFailure("connection reset while committing")
                error._add_error_label("UnknownTransactionCommitResult")
                raise error

        monkeypatch.setattr(self.client, "start_session", Lost)
        try:
            start(self, tx)
        finally:
            monkeypatch.setattr(self.client, "start_session", real)

    monkeypatch.setattr(MongoStore, "apply", lost)


class TestUnknownOutcome:
    def test_an_unknown_outcome_says_so_and_the_keyed_retry_replays(
        self, place: World, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Finding 7: the 503 said "nothing was committed" when the outcome was unknown (the old code raised the
        pymongo error as it was; this test needs `CommitOutcomeUnknown` and was not run against it)."""
        new = a_new_order(place, 2, submit=True)
        _commit_reply_lost(monkeypatch)

        with pytest.raises(CommitOutcomeUnknown) as unknown:
            place.crm.orders.create(place.rep, new, idempotency_key="k-lost")
        again = place.crm.orders.create(place.rep, new, idempotency_key="k-lost")

        assert str(unknown.value) == OUTCOME_UNKNOWN == "outcome unknown; retry with the same Idempotency-Key"
        assert [doc["_id"] for doc in _orders(store)] == [again.id]

    def test_every_commit_runs_under_a_client_side_deadline(
        self, place: World, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Finding 7: `with_transaction` retried for up to 120 s with no client-side timeout (the old code set no
        deadline; this test hooks the new `Applier.apply` and was not run against it)."""
        deadlines: list[float | None] = []
        apply = Applier.apply

        def timed(self: Applier, write: StagedWrite) -> None:
            deadlines.append(_csot.get_timeout())
            apply(self, write)

        monkeypatch.setattr(Applier, "apply", timed)
        place.crm.orders.create(place.rep, a_new_order(place, 1, submit=True))

        assert deadlines
        assert all(d is not None and 0 < d <= store.commit_timeout for d in deadlines)

    def test_a_deadline_passed_before_the_commit_is_a_plain_503(
        self, place: World, store: MongoStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from pymongo.errors import ExecutionTimeout

        from crm_domain.errors import UpstreamUnavailable

        def slow(self: Applier, write: StagedWrite) -> None:
            raise ExecutionTimeout("operation exceeded time limit", 50)

        monkeypatch.setattr(Applier, "apply", slow)
        with pytest.raises(UpstreamUnavailable, match="nothing was committed") as refused:
            place.crm.orders.create(place.rep, a_new_order(place, 1, submit=True))

        assert not isinstance(refused.value, CommitOutcomeUnknown)
        assert _orders(store) == []


# --- 9: a tally increment lost to a duplicate-key race ------------------------------------------------------------


class TestTallies:
    def test_an_upsert_that_loses_the_race_still_adds(
        self, place: World, store: MongoStore, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Finding 9: an upsert that lost a duplicate-key race was taken as applied and the increment was lost
        (seen failing first: the total stayed at the first order)."""
        place.crm.orders.create(place.rep, a_new_order(place, 1, submit=True))
        collection = type(store.db["performance"])
        update_one = collection.update_one
        raced: list[bool] = []

        def racing(self: Any, flt: Any, update: Any, *args: Any, **kwargs: Any) -> Any:
            if self.name == "performance" and kwargs.get("upsert") and not raced:
                raced.append(True)  # another process created the document between our look and our insert
                raise DuplicateKeyError("E11000 duplicate key error collection: performance index: _id_")
            return update_one(self, flt, update, *args, **kwargs)

        monkeypatch.setattr(collection, "update_one", racing)
        place.crm.orders.create(place.rep, a_new_order(place, 2, submit=True))
        monkeypatch.undo()

        achieved = read(store, lambda uow: uow.performance.achieved(clock.now().strftime("%Y-%m")))
        assert raced
        assert [(a.amount, a.orders) for a in achieved] == [(300_00, 2)]


# --- 10: eight immediate retries ----------------------------------------------------------------------------------


class TestBackoff:
    def test_contention_is_retried_after_growing_jittered_pauses(
        self, place: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Finding 10: eight immediate retries with no backoff (the old store had no pause to record; this test
        was not run against it)."""
        pauses: list[float] = []
        store = place.crm.ctx.uow
        assert isinstance(store, MongoStore)
        monkeypatch.setattr(store, "_pause", pauses.append)
        monkeypatch.setattr("adapters.mongo.store.random.uniform", lambda low, high: high)  # the top of each range
        conflicts = iter(range(4))
        entries = iter(range(100))

        def contended(uow: Any) -> str:
            if next(conflicts, None) is not None:
                raise ConcurrentUpdate("credit account", place.customer_id)
            uow.audit.add(_an_entry(f"a-{next(entries)}"))
            return "done"

        assert place.crm.ctx.write(contended) == "done"
        assert pauses == [BACKOFF_BASE, BACKOFF_BASE * 2, BACKOFF_BASE * 4, BACKOFF_BASE * 8]

        place.crm.ctx.write(lambda uow: uow.audit.add(_an_entry("a-reset")))  # a success resets the growth
        conflicts = iter(range(1))
        place.crm.ctx.write(contended)
        assert pauses[-1] == BACKOFF_BASE

    def test_the_pause_is_bounded(self, store: MongoStore, monkeypatch: pytest.MonkeyPatch) -> None:
        pauses: list[float] = []
        monkeypatch.setattr(store, "_pause", pauses.append)
        for _ in range(30):
            store.contended()

        assert max(pauses) <= BACKOFF_CAP
        assert min(pauses) >= 0


def _an_entry(entry_id: str = "a-1") -> Any:
    from tests.contract.builders import an_audit_entry

    return an_audit_entry(entry_id)


# --- 11: order numbers on a sharded cluster -----------------------------------------------------------------------


class TestOrderNumbers:
    def test_a_number_is_unique_through_its_own_document(self, store: MongoStore) -> None:
        """Finding 11: order numbers were unique by an index on `orders.number`, which a cluster sharded by
        customer cannot hold (seen failing first: no `order_numbers` document)."""
        write(store, lambda uow: uow.orders.add(an_order("o-1", number="SO-2026-000001", customer_id="c-1")))

        with pytest.raises(DuplicateKey) as taken:
            write(store, lambda uow: uow.orders.add(an_order("o-2", number="SO-2026-000001", customer_id="c-2")))

        assert (taken.value.kind, taken.value.field) == ("order", "number")
        assert store.db["order_numbers"].find_one({"_id": "SO-2026-000001"}) == {
            "_id": "SO-2026-000001",
            "order_id": "o-1",
        }
        assert not store.db["orders"].index_information()["by_number"].get("unique")


# --- 12: outbox leases, GridFS races, the 16 MiB limit ------------------------------------------------------------


#: A lease short enough to wait for on a real server (`mongo.pass_server_time`).
SHORT_LEASE = timedelta(milliseconds=300)


class TestOutboxLease:
    def test_a_save_after_the_lease_passed_to_another_worker_is_a_conflict(
        self, store: MongoStore, clock: FixedClock
    ) -> None:
        """Finding 12: the save after a delivery was unconditional, so a worker whose lease had run out
        overwrote the next holder's progress (seen failing first: the late save went through)."""
        write(store, lambda uow: uow.outbox.add(a_message("m-1")))
        other = MongoStore(store.client, store.db.name, clock=clock)  # another worker process
        (mine,) = write(store, lambda uow: uow.outbox.claim(at(1), 1, at(1) + SHORT_LEASE))
        mongo.pass_server_time(clock, 2 * SHORT_LEASE)  # my lease runs out (by the server's clock)
        (theirs,) = write(other, lambda uow: uow.outbox.claim(at(3), 1, at(4)))

        theirs.done = ("erp",)
        write(other, lambda uow: uow.outbox.save(theirs))
        mine.done = ("notify",)
        with pytest.raises(ConcurrentUpdate):
            write(store, lambda uow: uow.outbox.save(mine))

        stored = read(store, lambda uow: uow.outbox.get("m-1"))
        assert stored is not None and stored.done == ("erp",)

    @pytest.mark.parametrize(
        ("first", "second"),
        [(timedelta(0), timedelta(minutes=5)), (timedelta(minutes=-5), timedelta(0))],
        ids=["second-runs-ahead", "first-runs-behind"],
    )
    def test_workers_whose_clocks_disagree_never_both_hold_a_message(
        self, store: MongoStore, clock: FixedClock, first: timedelta, second: timedelta
    ) -> None:
        """Finding 12: the lease was computed from and compared with the workers' clocks, so a worker whose
        clock ran minutes ahead of the holder's (or a holder whose clock ran behind) took a message still held
        (seen failing first: both claimed it). The lease is now measured by the server's time (`$$NOW`), the
        same for both; each worker's own time only says which messages are due."""
        write(store, lambda uow: uow.outbox.add(a_message("m-1", next_minutes=-30)))  # due by either clock
        lease = timedelta(seconds=3)  # minutes shorter than the skew; waited for on a real server
        one, other = (
            MongoStore(store.client, store.db.name, clock=FixedClock(clock.now() + skew)) for skew in (first, second)
        )

        def claim(worker: MongoStore, skew: timedelta) -> list[Any]:
            now = at(1) + skew  # the worker's clock: what it passes as `now`, and its lease's end
            return write(worker, lambda uow: uow.outbox.claim(now, 10, now + lease))

        (held,) = claim(one, first)
        taken = claim(other, second)

        assert taken == []
        mongo.pass_server_time(clock, lease + SHORT_LEASE)  # the lease ends by the server's clock alone
        assert [m.id for m in claim(other, second)] == [held.id]

    def test_the_holder_saves_progress_and_the_end(self, store: MongoStore) -> None:
        write(store, lambda uow: uow.outbox.add(a_message("m-1")))
        (mine,) = write(store, lambda uow: uow.outbox.claim(at(1), 1, at(2)))

        mine.done = ("erp",)
        write(store, lambda uow: uow.outbox.save(mine))
        mine.status, mine.delivered_at = type(mine.status).DELIVERED, at(1)
        write(store, lambda uow: uow.outbox.save(mine))

        assert store.leases == {}

    def test_progress_keeps_the_lease_and_a_release_ends_it_at_once(self, store: MongoStore, clock: FixedClock) -> None:
        """The lease's end is the server's: a save of progress keeps it (another worker whose clock is past the
        holder's `lease_until` still gets nothing), a save that releases the message clears it (due again at
        once, not when the server's lease would have run out; seen failing without the clearing)."""
        write(store, lambda uow: uow.outbox.add(a_message("m-1")))
        other = MongoStore(store.client, store.db.name, clock=clock)  # another worker process
        (mine,) = write(store, lambda uow: uow.outbox.claim(at(1), 1, at(2)))

        mine.done = ("erp",)
        write(store, lambda uow: uow.outbox.save(mine))
        assert write(other, lambda uow: uow.outbox.claim(at(10), 1, at(12))) == []  # ahead of my lease_until

        mine.next_attempt_at = at(1)  # released: due again now
        write(store, lambda uow: uow.outbox.save(mine))
        (theirs,) = write(other, lambda uow: uow.outbox.claim(at(1), 1, at(2)))
        assert theirs.done == ("erp",)

    def test_a_save_by_someone_else_after_the_holders_save_is_a_conflict(self, store: MongoStore) -> None:
        """The holder's saves move the tracked version on too, so a save by someone who read the message
        before (not holding the lease) cannot undo the holder's progress (seen failing first: it went through)."""
        write(store, lambda uow: uow.outbox.add(a_message("m-1")))
        (mine,) = write(store, lambda uow: uow.outbox.claim(at(1), 1, at(2)))
        admin = MongoStore(store.client, store.db.name)  # another process, holding no lease
        with admin() as stale:
            seen = stale.outbox.get("m-1")
            mine.done = ("erp",)
            write(store, lambda uow: uow.outbox.save(mine))
            assert seen is not None
            seen.last_error = "looked at by an admin"
            stale.outbox.save(seen)
            with pytest.raises(ConcurrentUpdate):
                stale.commit()

        stored = read(store, lambda uow: uow.outbox.get("m-1"))
        assert stored is not None and stored.done == ("erp",)


class TestGridFs:
    def test_a_read_racing_a_delete_finds_nothing(self, store: MongoStore, monkeypatch: pytest.MonkeyPatch) -> None:
        """Finding 12: a GridFS read racing a delete answered 500 (seen failing first: CorruptGridFile)."""
        files = GridFsFileStore(store.db)
        files.put("orders/O-1/A-1", b"x" * 1000, "text/plain")
        from gridfs.synchronous.grid_file import GridOut

        read_chunks = GridOut.read

        def deleted_meanwhile(self: GridOut, size: int = -1) -> bytes:
            files.delete("orders/O-1/A-1")
            return bytes(read_chunks(self, size))

        monkeypatch.setattr(GridOut, "read", deleted_meanwhile)

        assert files.get("orders/O-1/A-1") is None


class TestDocumentLimit:
    def test_an_order_past_16_mib_is_refused_before_the_transaction(self, store: MongoStore) -> None:
        """Finding 12: a large commit could pass the 16 MiB document limit (seen failing first: accepted, as
        mongomock has no limit; a server refuses it mid-commit, which answered 500)."""
        big = an_order("o-1", number="SO-2026-000001", customer_id="c-1")
        big.notes = "x" * (MAX_DOCUMENT_BYTES + 1)

        with pytest.raises(ValidationFailed, match=r"too large to store .* 16 MiB"):
            write(store, lambda uow: uow.orders.add(big))

        assert _orders(store) == []
