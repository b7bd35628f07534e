"""End to end on the SQLite store: orders are created and submitted through the domain services (one within the
limit, one going on credit hold); the notification handlers then deliver the outbox messages over real HTTP to
the local SMS gateway and over real SMTP (STARTTLS + AUTH) to the local mail server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from adapters.email.smtp import SmtpEmailSender
from adapters.phones import PhonenumbersNormaliser
from adapters.sms.http import HttpSmsSender
from adapters.sqlite import SqliteStore
from adapters.system import FixedClock, SequentialIds
from crm_domain.app import Crm
from crm_domain.errors import UpstreamUnavailable
from crm_domain.orders import OrderStatus
from crm_domain.outbox import OutboxMessage
from crm_domain.ports import OutboxHandler
from crm_domain.services.context import ServiceContext
from crm_domain.services.notifications import notification_handlers
from crm_domain.services.users import UserChanges
from tests.notifications.conftest import SMTP_PASSWORD, SMTP_USER
from tests.notifications.servers import GATEWAY_KEY, SmsGateway, SmtpServer, Tls
from tests.unit.world import World, build_world

EMAILS = {"manager": "meera@example.com", "controller": "chitra@example.com", "controller2": "chetan@example.com"}


@pytest.fixture
def world(tmp_path: Path) -> World:
    clock, ids = FixedClock(), SequentialIds()
    store = SqliteStore(tmp_path / "crm.db", clock=clock, ids=ids)
    crm = Crm(ServiceContext(uow=store, clock=clock, ids=ids, mobiles=PhonenumbersNormaliser()))
    world = build_world(crm, clock)
    for role, address in EMAILS.items():
        crm.users.update(world.admin, getattr(world, role).id, UserChanges(email=address))
    return world


@pytest.fixture
def handlers(world: World, gateway: SmsGateway, smtp_auth: SmtpServer, tls: Tls) -> list[OutboxHandler]:
    sms = HttpSmsSender(gateway.url, GATEWAY_KEY, timeout=2)
    url = f"smtp://{quote(SMTP_USER, safe='')}:{quote(SMTP_PASSWORD, safe='')}@127.0.0.1:{smtp_auth.port}"
    email = SmtpEmailSender.from_url(url + "?starttls=true", "CRM <crm@example.com>", ssl_context=tls.client_context())
    return notification_handlers(world.crm.ctx, sms, email)


def pending(world: World) -> list[OutboxMessage]:
    return sorted(world.outbox(), key=lambda m: (m.occurred_at, m.id))


def run(handlers: list[OutboxHandler], messages: list[OutboxMessage]) -> None:
    """One pass of a worker: every message to every handler that takes it."""
    for message in messages:
        for handler in handlers:
            if message.is_one_of(handler.events):
                handler.handle(message)


def test_dealer_is_texted_and_managers_and_credit_control_are_mailed(
    world: World, handlers: list[OutboxHandler], gateway: SmsGateway, smtp_auth: SmtpServer
) -> None:
    within = world.order_of("9000.00")
    held = world.order_of("5000.00")
    assert (within.status, held.status) == (OrderStatus.SUBMITTED, OrderStatus.ON_CREDIT_HOLD)

    run(handlers, pending(world))

    dealer = world.customer.mobile
    assert [m["to"] for m in gateway.taken] == [dealer, dealer]
    submitted, on_hold = (m["text"] for m in gateway.taken)
    assert within.number in submitted
    assert "INR 9,000.00" in submitted
    assert held.number in on_hold
    assert "INR 4,000.00 over available credit INR 1,000.00" in on_hold

    mailbox = smtp_auth.mailbox
    assert sorted(r for got in mailbox.received for r in got.rcpt_tos) == sorted(EMAILS.values())
    for got in mailbox.received:
        assert got.login == SMTP_USER
        assert got.subject == f"Credit hold: order {held.number} of Ravi Traders, INR 5,000.00"
        assert "Ravi Traders (D-RAVI)" in got.body
        assert within.number not in got.body


def test_a_gateway_outage_delays_the_texts_and_loses_none(
    world: World, handlers: list[OutboxHandler], gateway: SmsGateway, smtp_auth: SmtpServer
) -> None:
    order = world.order_of("100.00")
    messages = pending(world)
    gateway.answer = 503
    with pytest.raises(UpstreamUnavailable):
        run(handlers, messages)
    assert gateway.taken == []

    gateway.answer = 200
    run(handlers, messages)
    assert [m["to"] for m in gateway.taken] == [world.customer.mobile]
    assert order.number in gateway.taken[0]["text"]
    assert smtp_auth.mailbox.received == []
