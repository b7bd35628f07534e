"""Notifications through the outbox: SMS to the dealer as its order moves on, e-mail to the rep's manager and
the credit controllers on a credit hold. Driven through the real use cases on the in-memory store; the SMS
gateway and the mail server are recording fakes of their ports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from crm_domain.errors import RecipientRejected, UpstreamUnavailable
from crm_domain.events import EVENT_TYPES
from crm_domain.money import Money
from crm_domain.orders import OrderStatus
from crm_domain.outbox import OutboxMessage, RetryPolicy
from crm_domain.ports import EmailSender, OutboxHandler, SmsSender
from crm_domain.services.customers import CustomerChanges
from crm_domain.services.delivery import OutboxDispatcher, Outcome
from crm_domain.services.notifications import (
    EmailNotifications,
    SmsNotifications,
    format_money,
    notification_handlers,
)
from crm_domain.services.users import UserChanges
from crm_domain.users import Actor, Role
from tests.unit.world import World

S = OrderStatus


@attrs.define
class RecordingSms:
    sent: list[tuple[str, str]] = attrs.field(factory=list)
    refused: set[str] = attrs.field(factory=set)
    down: bool = False

    def send(self, to: str, text: str) -> None:
        if self.down:
            raise UpstreamUnavailable("SMS gateway unavailable")
        if to in self.refused:
            raise RecipientRejected("sms", to[:-4] + "****", 400)
        self.sent.append((to, text))


@attrs.define
class RecordingEmail:
    sent: list[tuple[str, str, str]] = attrs.field(factory=list)
    refused: set[str] = attrs.field(factory=set)
    down: bool = False
    fail_after: int | None = None  # the server goes down once it has taken this many

    def send(self, to: str, subject: str, body: str) -> None:
        if self.down or (self.fail_after is not None and len(self.sent) >= self.fail_after):
            raise UpstreamUnavailable("SMTP server unavailable")
        if to in self.refused:
            raise RecipientRejected("email", "***", 550)
        self.sent.append((to, subject, body))

    @property
    def recipients(self) -> list[str]:
        return [to for to, _, _ in self.sent]


def fresh(world: World, action: Callable[[], object]) -> list[OutboxMessage]:
    """The outbox messages `action` wrote, oldest first."""
    seen = {m.id for m in world.outbox()}
    action()
    return sorted((m for m in world.outbox() if m.id not in seen), key=lambda m: (m.occurred_at, m.id))


def deliver(handler: OutboxHandler, messages: list[OutboxMessage]) -> None:
    """What the worker does: every message its handler takes."""
    for message in messages:
        if message.is_one_of(handler.events):
            handler.handle(message)


def takes(handler: OutboxHandler, event: str) -> bool:
    """Whether the worker routes a message stored under the event name `event` to `handler`."""
    return issubclass(EVENT_TYPES[event], handler.events)


@pytest.fixture
def sms() -> RecordingSms:
    return RecordingSms()


@pytest.fixture
def email() -> RecordingEmail:
    return RecordingEmail()


@pytest.fixture
def texts(world: World, sms: RecordingSms) -> SmsNotifications:
    return SmsNotifications(world.crm.ctx, sms)


@pytest.fixture
def mails(world: World, email: RecordingEmail) -> EmailNotifications:
    for actor, address in (
        (world.manager, "meera@example.com"),
        (world.controller, "chitra@example.com"),
        (world.controller2, "chetan@example.com"),
        (world.head, "harish@example.com"),
    ):
        set_user(world, actor, email=address)
    return EmailNotifications(world.crm.ctx, email)


def set_user(world: World, actor: Actor, **changes: object) -> None:
    world.crm.users.update(world.admin, actor.id, UserChanges(**changes))  # type: ignore[arg-type]


def fields(body: str) -> dict[str, str]:
    """The `Label:   value` rows of an e-mail body."""
    rows = (line.split(": ", 1) for line in body.splitlines() if ": " in line)
    return {label: value.strip() for label, value in rows}


def hold(world: World) -> list[OutboxMessage]:
    """9,000.00 of the 10,000.00 limit used, then an order of 5,000.00: on hold, 4,000.00 short, 1,000.00 left."""
    world.order_of("9000.00")
    return fresh(world, lambda: world.order_of("5000.00"))


class TestFormatMoney:
    @pytest.mark.parametrize(
        ("amount", "shown"),
        [
            ("0.00", "INR 0.00"),
            ("999.99", "INR 999.99"),
            ("1000.00", "INR 1,000.00"),
            ("123456.50", "INR 1,23,456.50"),
            ("12345678.05", "INR 1,23,45,678.05"),
            ("-1500.00", "INR -1,500.00"),
        ],
    )
    def test_rupees_use_indian_digit_grouping(self, amount: str, shown: str) -> None:
        assert format_money(Money.of(amount, "INR")) == shown

    def test_other_currencies_group_by_thousands(self) -> None:
        assert format_money(Money.of("1234567.89", "USD")) == "USD 1,234,567.89"


class TestSmsToDealer:
    def test_submitted_order_is_texted_to_the_customer_mobile(
        self, world: World, texts: SmsNotifications, sms: RecordingSms
    ) -> None:
        messages = fresh(world, lambda: world.order_of("1180.00"))
        deliver(texts, messages)
        order = world.orders()[0]
        assert len(sms.sent) == 1
        to, text = sms.sent[0]
        assert to == world.customer.mobile
        assert order.number in text
        assert "INR 1,180.00" in text
        assert "submitted" in text

    def test_hold_text_gives_shortfall_and_available_credit(
        self, world: World, texts: SmsNotifications, sms: RecordingSms
    ) -> None:
        deliver(texts, hold(world))
        held = next(o for o in world.orders() if o.status is S.ON_CREDIT_HOLD)
        [(to, text)] = sms.sent
        assert to == world.customer.mobile
        assert held.number in text
        assert "credit hold" in text
        assert "INR 5,000.00" in text
        assert "INR 4,000.00 over available credit INR 1,000.00" in text

    def test_hold_of_a_blocked_customer_says_so(self, world: World, texts: SmsNotifications, sms: RecordingSms) -> None:
        world.crm.credit.block(world.controller, world.customer.id, "cheque bounced")
        deliver(texts, fresh(world, lambda: world.order_of("100.00")))
        [(_, text)] = sms.sent
        assert "credit hold" in text
        assert "blocked" in text

    def test_confirmation_and_dispatch_are_texted_but_not_invoice_or_delivery(
        self, world: World, texts: SmsNotifications, sms: RecordingSms
    ) -> None:
        order = world.order_of("100.00")

        def progress() -> None:
            for target in (S.CONFIRMED, S.DISPATCHED, S.INVOICED, S.DELIVERED):
                world.erp_reports(order, target, erp_order_id="ERP-4711")

        deliver(texts, fresh(world, progress))
        assert [text for _, text in sms.sent] == [
            f"Order {order.number} for INR 100.00 is confirmed (ref ERP-4711).",
            f"Order {order.number} for INR 100.00 has been dispatched.",
        ]

    def test_release_and_rejection_close_the_hold_for_the_dealer(
        self, world: World, texts: SmsNotifications, sms: RecordingSms
    ) -> None:
        deliver(texts, hold(world))
        held = next(o for o in world.orders() if o.status is S.ON_CREDIT_HOLD)
        deliver(texts, fresh(world, lambda: world.crm.orders.release(world.controller, held.id, "known dealer")))
        other = fresh(world, lambda: world.order_of("20000.00"))
        rejected = next(m for m in other if m.event == "order.on_credit_hold").aggregate_id
        deliver(texts, fresh(world, lambda: world.crm.orders.reject(world.controller, rejected, "limit too small")))
        assert "released from credit hold" in sms.sent[1][1]
        assert sms.sent[-1][1].endswith("not accepted by our credit team: limit too small.")

    def test_every_text_fits_one_plain_sms(self, world: World, texts: SmsNotifications, sms: RecordingSms) -> None:
        world.raise_credit("limit", new_limit=Money.of("150000000.00", "INR"), reason="big dealer")
        big = ("VALVE", "80000")  # INR 10,37,03,040.00 each: the first fits, the second goes on hold
        messages = fresh(world, lambda: world.order(world.rep, world.customer, big))
        messages += fresh(world, lambda: world.order(world.rep, world.customer, big))
        deliver(texts, messages)
        assert [o.status for o in world.orders()] == [S.ON_CREDIT_HOLD, S.SUBMITTED]
        assert len(sms.sent) == 2
        for _, text in sms.sent:
            assert text.isascii()
            assert len(text) <= 160, text

    def test_a_hold_that_has_ended_is_not_texted(
        self, world: World, texts: SmsNotifications, sms: RecordingSms
    ) -> None:
        messages = hold(world)
        held = next(o for o in world.orders() if o.status is S.ON_CREDIT_HOLD)
        world.crm.orders.cancel(world.rep, held.id, "ordered twice")
        deliver(texts, messages)
        assert sms.sent == []

    def test_inactive_customer_is_not_texted(self, world: World, texts: SmsNotifications, sms: RecordingSms) -> None:
        messages = fresh(world, lambda: world.order_of("100.00"))
        world.crm.customers.update(world.admin, world.customer.id, CustomerChanges(active=False))
        deliver(texts, messages)
        assert sms.sent == []

    def test_message_about_an_order_that_no_longer_exists_is_skipped(
        self, texts: SmsNotifications, sms: RecordingSms
    ) -> None:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        ghost = OutboxMessage(
            id="M-1",
            event="order.submitted",
            aggregate_id="O-GONE",
            payload={"order_id": "O-GONE", "order_number": "SO-2026-999999"},
            occurred_at=at,
            next_attempt_at=at,
        )
        texts.handle(ghost)
        assert sms.sent == []

    def test_number_refused_for_good_is_skipped_not_retried(
        self, world: World, texts: SmsNotifications, sms: RecordingSms
    ) -> None:
        sms.refused.add(world.customer.mobile)
        deliver(texts, fresh(world, lambda: world.order_of("100.00")))  # does not raise
        assert sms.sent == []

    def test_gateway_down_raises_so_the_worker_retries(
        self, world: World, texts: SmsNotifications, sms: RecordingSms
    ) -> None:
        messages = fresh(world, lambda: world.order_of("100.00"))
        sms.down = True
        with pytest.raises(UpstreamUnavailable):
            deliver(texts, messages)
        sms.down = False
        deliver(texts, messages)
        assert len(sms.sent) == 1

    def test_a_redelivered_message_is_texted_again(
        self, world: World, texts: SmsNotifications, sms: RecordingSms
    ) -> None:
        # At-least-once delivery: a message handled again after a crash sends its SMS again (documented).
        messages = fresh(world, lambda: world.order_of("100.00"))
        deliver(texts, messages)
        deliver(texts, messages)
        assert len(sms.sent) == 2
        assert sms.sent[0] == sms.sent[1]

    @pytest.mark.parametrize(
        ("event", "taken"),
        [
            ("order.submitted", True),
            ("order.on_credit_hold", True),
            ("order.confirmed", True),
            ("order.status_changed", True),
            ("order.created", False),
            ("order.cancelled", False),
            ("order.erp_sync_changed", False),
            ("credit_limit.changed", False),
        ],
    )
    def test_takes_only_the_events_it_texts(self, texts: SmsNotifications, event: str, taken: bool) -> None:
        assert takes(texts, event) is taken


class TestHoldEmails:
    def test_manager_of_the_rep_and_every_credit_controller_hear_of_a_hold(
        self, world: World, mails: EmailNotifications, email: RecordingEmail
    ) -> None:
        deliver(mails, hold(world))
        held = next(o for o in world.orders() if o.status is S.ON_CREDIT_HOLD)
        assert sorted(email.recipients) == ["chetan@example.com", "chitra@example.com", "meera@example.com"]
        _, subject, body = email.sent[0]
        assert subject == f"Credit hold: order {held.number} of Ravi Traders, INR 5,000.00"
        shown = fields(body)
        assert shown["Customer"] == "Ravi Traders (D-RAVI)"
        assert shown["Order total"] == "INR 5,000.00"
        assert shown["Reason"] == "credit limit exceeded"
        assert shown["Shortfall"] == "INR 4,000.00"
        assert shown["Available credit"] == "INR 1,000.00 at submit"
        assert shown["Sales rep"] == "Ravi Rep"
        assert shown["Placed by"] == "Ravi Rep"
        assert shown["On hold since"] == "02 Nov 2026 15:00 IST"
        assert shown["Order id"] == held.id
        assert all(body == b for _, _, b in email.sent)

    def test_orders_within_the_limit_send_no_mail(
        self, world: World, mails: EmailNotifications, email: RecordingEmail
    ) -> None:
        deliver(mails, fresh(world, lambda: world.order_of("100.00")))
        assert email.sent == []

    def test_people_without_email_or_inactive_are_left_out(
        self, world: World, mails: EmailNotifications, email: RecordingEmail
    ) -> None:
        set_user(world, world.controller2, email=None)
        set_user(world, world.controller, active=False)
        deliver(mails, hold(world))
        assert email.recipients == ["meera@example.com"]

    def test_a_rep_without_a_manager_leaves_only_credit_control(
        self, world: World, mails: EmailNotifications, email: RecordingEmail
    ) -> None:
        lone = world.user(Role.SALES_REP, name="Lone Rep")
        customer = world.new_customer(lone, limit="100.00")
        deliver(mails, fresh(world, lambda: world.order_of("500.00", customer, lone)))
        assert sorted(email.recipients) == ["chetan@example.com", "chitra@example.com"]

    def test_each_address_gets_one_mail(self, world: World, mails: EmailNotifications, email: RecordingEmail) -> None:
        set_user(world, world.manager, roles=frozenset({Role.SALES_MANAGER, Role.CREDIT_CONTROLLER}))
        set_user(world, world.controller2, email="Meera@Example.com")
        deliver(mails, hold(world))
        assert sorted(email.recipients) == ["chitra@example.com", "meera@example.com"]

    def test_a_hold_already_decided_sends_nothing(
        self, world: World, mails: EmailNotifications, email: RecordingEmail
    ) -> None:
        messages = hold(world)
        held = next(o for o in world.orders() if o.status is S.ON_CREDIT_HOLD)
        world.crm.orders.reject(world.controller, held.id, "no")
        deliver(mails, messages)
        assert email.sent == []

    def test_an_address_refused_for_good_does_not_stop_the_others(
        self, world: World, mails: EmailNotifications, email: RecordingEmail
    ) -> None:
        email.refused.add("meera@example.com")
        deliver(mails, hold(world))
        assert sorted(email.recipients) == ["chetan@example.com", "chitra@example.com"]

    def test_server_down_raises_so_the_worker_retries(
        self, world: World, mails: EmailNotifications, email: RecordingEmail
    ) -> None:
        messages = hold(world)
        email.down = True
        with pytest.raises(UpstreamUnavailable):
            deliver(mails, messages)
        assert email.sent == []

    def test_an_outage_part_way_mails_again_only_those_not_yet_mailed(
        self, world: World, mails: EmailNotifications, email: RecordingEmail
    ) -> None:
        """SPEC §5: the worker saves each e-mail sent before the next; a retry (or a restart) goes on from there."""
        hold(world)
        email.fail_after = 1
        dispatcher = OutboxDispatcher(world.crm.ctx, [mails], policy=RetryPolicy(base_seconds=0, cap_seconds=0))

        first = dispatcher.run_once()
        email.fail_after = None
        world.clock.advance(timedelta(seconds=1))
        dispatcher.run_once()

        assert first.count(Outcome.RETRY) == 1
        assert sorted(email.recipients) == ["chetan@example.com", "chitra@example.com", "meera@example.com"]
        assert all(m.done in ((), ("email",)) for m in world.outbox())  # the per-address marks are gone at the end

    def test_takes_only_holds(self, mails: EmailNotifications) -> None:
        assert takes(mails, "order.on_credit_hold")
        assert not takes(mails, "order.submitted")
        assert not takes(mails, "order.released")


class TestHandlerFactory:
    def test_builds_the_sms_and_email_handlers(self, world: World, sms: RecordingSms, email: RecordingEmail) -> None:
        sender: SmsSender = sms
        mailer: EmailSender = email
        handlers = notification_handlers(world.crm.ctx, sender, mailer)
        assert [h.name for h in handlers] == ["sms", "email"]
        set_user(world, world.controller, email="chitra@example.com")
        messages = hold(world)
        for handler in handlers:
            deliver(handler, messages)
        assert [to for to, _ in sms.sent] == [world.customer.mobile]
        assert email.recipients == ["chitra@example.com"]
