"""OutboxRepository: messages round-trip, `due` hands out pending messages oldest first, `stats` and `dead`
report the state of delivery."""

from __future__ import annotations

import attrs

from crm_domain.outbox import OutboxStats, OutboxStatus
from crm_domain.ports import UnitOfWorkFactory
from tests.contract.builders import a_message, at, read, write

PENDING, DELIVERED, DEAD = OutboxStatus.PENDING, OutboxStatus.DELIVERED, OutboxStatus.DEAD


class TestOutboxRoundTrip:
    def test_get_returns_the_message_as_added(self, store: UnitOfWorkFactory) -> None:
        message = a_message()
        write(store, lambda uow: uow.outbox.add(message))

        assert read(store, lambda uow: uow.outbox.get("m-1")) == message
        assert read(store, lambda uow: uow.outbox.get("m-unknown")) is None

    def test_save_keeps_a_delivery_attempt(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.outbox.add(a_message()))
        attempted = attrs.evolve(
            a_message(), attempts=3, next_attempt_at=at(10), last_error="503 from ERP", done=("sms", "email")
        )

        write(store, lambda uow: uow.outbox.save(attempted))

        assert read(store, lambda uow: uow.outbox.get("m-1")) == attempted

    def test_save_keeps_a_delivery(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.outbox.add(a_message()))
        delivered = attrs.evolve(a_message(), status=DELIVERED, delivered_at=at(2), last_error=None)

        write(store, lambda uow: uow.outbox.save(delivered))

        assert read(store, lambda uow: uow.outbox.get("m-1")) == delivered

    def test_add_all_stores_every_message(self, store: UnitOfWorkFactory) -> None:
        messages = [a_message("m-1"), a_message("m-2", next_minutes=3), a_message("m-3", status=DEAD)]
        write(store, lambda uow: uow.outbox.add_all(messages))

        assert [read(store, lambda uow, m=m: uow.outbox.get(m.id)) for m in messages] == messages


class TestDue:
    def _messages(self, store: UnitOfWorkFactory) -> None:
        messages = [
            a_message("m-1", next_minutes=5),
            a_message("m-2", next_minutes=1),
            a_message("m-3", next_minutes=10),  # not yet due at minute 5
            a_message("m-4", next_minutes=1),  # same moment as m-2: id decides
            a_message("m-5", status=DELIVERED, next_minutes=0),
            a_message("m-6", status=DEAD, next_minutes=0),
            a_message("m-7", next_minutes=-30),
        ]
        write(store, lambda uow: [uow.outbox.add(m) for m in messages])

    def test_due_messages_are_the_pending_ones_whose_time_has_come_oldest_first(self, store: UnitOfWorkFactory) -> None:
        self._messages(store)

        due = read(store, lambda uow: uow.outbox.due(at(5), 100))

        assert [m.id for m in due] == ["m-7", "m-2", "m-4", "m-1"]

    def test_claim_hands_out_due_messages_once_until_the_lease_ends(self, store: UnitOfWorkFactory) -> None:
        self._messages(store)

        first = write(store, lambda uow: uow.outbox.claim(at(5), 2, at(15)))
        second = write(store, lambda uow: uow.outbox.claim(at(5), 100, at(15)))
        after_lease = read(store, lambda uow: uow.outbox.due(at(15), 100))

        assert [m.id for m in first] == ["m-7", "m-2"]
        assert all(m.next_attempt_at == at(15) for m in first)
        assert [m.id for m in second] == ["m-4", "m-1"]  # the first claim's messages are leased
        assert read(store, lambda uow: uow.outbox.get("m-7")).next_attempt_at == at(15)  # type: ignore[union-attr]
        assert {m.id for m in after_lease} == {"m-1", "m-2", "m-3", "m-4", "m-7"}

    def test_due_respects_the_limit(self, store: UnitOfWorkFactory) -> None:
        self._messages(store)

        assert [m.id for m in read(store, lambda uow: uow.outbox.due(at(5), 2))] == ["m-7", "m-2"]

    def test_nothing_is_due_before_its_time(self, store: UnitOfWorkFactory) -> None:
        self._messages(store)

        assert [m.id for m in read(store, lambda uow: uow.outbox.due(at(-31), 100))] == []

    def test_a_rescheduled_message_is_due_again_at_its_new_time(self, store: UnitOfWorkFactory) -> None:
        self._messages(store)
        write(store, lambda uow: uow.outbox.save(attrs.evolve(a_message("m-7"), attempts=1, next_attempt_at=at(60))))

        assert "m-7" not in [m.id for m in read(store, lambda uow: uow.outbox.due(at(5), 100))]
        assert [m.id for m in read(store, lambda uow: uow.outbox.due(at(60), 100))][-1] == "m-7"


class TestStatsAndDeadLetters:
    def test_stats_of_an_empty_outbox_are_zero(self, store: UnitOfWorkFactory) -> None:
        assert read(store, lambda uow: uow.outbox.stats()) == OutboxStats(
            pending=0, dead=0, delivered=0, oldest_pending_at=None
        )

    def test_stats_count_each_status_and_date_the_oldest_pending_message(self, store: UnitOfWorkFactory) -> None:
        messages = [
            a_message("m-1", occurred_minutes=3),
            a_message("m-2", occurred_minutes=2),
            a_message("m-3", occurred_minutes=1, status=DELIVERED),
            a_message("m-4", occurred_minutes=0, status=DEAD),
            a_message("m-5", occurred_minutes=4, status=DELIVERED),
            a_message("m-6", occurred_minutes=9),
        ]
        write(store, lambda uow: [uow.outbox.add(m) for m in messages])

        assert read(store, lambda uow: uow.outbox.stats()) == OutboxStats(
            pending=3, dead=1, delivered=2, oldest_pending_at=at(2)
        )

    def test_dead_letters_come_oldest_first_up_to_the_limit(self, store: UnitOfWorkFactory) -> None:
        messages = [
            a_message("m-1", occurred_minutes=3, status=DEAD),
            a_message("m-2", occurred_minutes=1, status=DEAD),
            a_message("m-3", occurred_minutes=0),
            a_message("m-4", occurred_minutes=2, status=DEAD),
            a_message("m-5", occurred_minutes=1, status=DELIVERED),
        ]
        write(store, lambda uow: [uow.outbox.add(m) for m in messages])

        assert [m.id for m in read(store, lambda uow: uow.outbox.dead(10))] == ["m-2", "m-4", "m-1"]
        assert read(store, lambda uow: uow.outbox.dead(1)) == [messages[1]]


class TestPurgeDelivered:
    def test_deletes_only_messages_delivered_before_the_cutoff_at_most_limit_at_a_time(
        self, store: UnitOfWorkFactory
    ) -> None:
        messages = [
            a_message("m-1", status=DELIVERED, next_minutes=0),  # delivered at minute 1
            a_message("m-2", status=DELIVERED, next_minutes=1),  # at minute 2
            a_message("m-3", status=DELIVERED, next_minutes=2),  # at minute 3
            a_message("m-4", status=DELIVERED, next_minutes=9),  # at minute 10: kept
            a_message("m-5", status=PENDING, occurred_minutes=-60),
            a_message("m-6", status=DEAD, occurred_minutes=-60),
        ]
        write(store, lambda uow: uow.outbox.add_all(messages))

        assert write(store, lambda uow: uow.outbox.purge_delivered(at(5), 2)) == 2
        assert write(store, lambda uow: uow.outbox.purge_delivered(at(5), 2)) == 1
        assert write(store, lambda uow: uow.outbox.purge_delivered(at(5), 2)) == 0

        left = [m.id for m in messages if read(store, lambda uow, m=m: uow.outbox.get(m.id)) is not None]
        assert left == ["m-4", "m-5", "m-6"]
        assert read(store, lambda uow: uow.outbox.stats()) == OutboxStats(
            pending=1, dead=1, delivered=1, oldest_pending_at=at(-60)
        )

    def test_the_cutoff_is_exclusive(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.outbox.add(a_message("m-1", status=DELIVERED, next_minutes=4)))  # at 5

        assert write(store, lambda uow: uow.outbox.purge_delivered(at(5), 10)) == 0
        assert write(store, lambda uow: uow.outbox.purge_delivered(at(5.001), 10)) == 1
