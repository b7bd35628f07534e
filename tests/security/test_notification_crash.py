"""Issue 12 finding 10, SPEC §5: "a crash may repeat at most the one message in flight per handler, never a whole
batch". A real `crm worker` is killed (SIGKILL) while it mails a credit hold to several people, then restarted:
each person gets each hold e-mail once, except at most the one e-mail that was in flight."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from crm_domain.money import Money
from crm_domain.orders import LineRequest, OrderStatus
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.orders import NewOrder
from crm_domain.services.users import NewUser
from crm_domain.users import Role
from tests.net import free_port
from tests.notifications.servers import Mailbox
from tests.worker.conftest import Site, site, stop_gracefully, wait_until

__all__ = ["site"]  # the fixture

pytestmark = pytest.mark.slow  # real `crm` processes

CONTROLLERS = 5
HOLDS = 3
SMTP_DELAY = 0.25  # seconds the server takes to accept each e-mail: the kill lands between two of one hold's


class SlowMailbox(Mailbox):
    """A mailbox that records each e-mail and then takes its time to say so: the sender waits in between."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(SMTP_DELAY)
        return answer


@pytest.fixture
def mailbox() -> Iterator[tuple[SlowMailbox, int]]:
    box = SlowMailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def held_orders(site: Site) -> list[str]:
    """`HOLDS` orders on credit hold, and `CONTROLLERS` credit controllers with an e-mail address to hear of each."""
    crm = site.crm
    admin = crm.users.create_admin("+919000009999", "Wim Worker-Admin").actor()
    for n in range(CONTROLLERS):
        crm.users.create(
            admin,
            NewUser(
                mobile=f"+91900000100{n}",
                name=f"Controller {n}",
                roles=frozenset({Role.CREDIT_CONTROLLER}),
                email=f"cc{n}@example.com",
            ),
        )
    crm.catalogue.create(
        admin, NewProduct(sku="PUMP", name="Pump", unit_price=Money.of("420.00", "INR"), erp_material_id="MAT-1")
    )
    customer = crm.customers.create(
        admin,
        NewCustomer(code="H-RAVI", name="Ravi Traders", mobile="+919765400901", credit_limit=Money.of("1.00", "INR")),
    ).customer
    line = (LineRequest(sku="PUMP", quantity=Decimal(1)),)
    orders = [
        crm.orders.create(admin, NewOrder(customer_id=customer.id, lines=line, submit=True)) for _ in range(HOLDS)
    ]
    assert all(o.status is OrderStatus.ON_CREDIT_HOLD for o in orders)
    return [o.id for o in orders]


def texts(site: Site) -> Counter[tuple[str, str]]:
    path = site.data_dir / "sms.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter((r["to"], r["text"]) for r in map(json.loads, lines))


def test_a_worker_killed_mid_batch_of_hold_emails_repeats_at_most_the_one_in_flight(
    site: Site, mailbox: tuple[SlowMailbox, int]
) -> None:
    box, port = mailbox
    held_orders(site)
    smtp = {"CRM_SMTP_URL": f"smtp://127.0.0.1:{port}", "CRM_OUTBOX_LEASE": "2"}
    worker = site.start_worker("--batch", str(HOLDS), "--poll", "0.05", **smtp)
    # Kill it after it has mailed two people about one hold and before the rest of that hold's recipients.
    wait_until(lambda: len(box.received) >= 2, 30, "two hold e-mails sent")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    sent_before = len(box.received)
    assert 2 <= sent_before < HOLDS * CONTROLLERS, "the kill must land in the middle of the e-mails"

    again = site.start_worker("--poll", "0.05", **smtp)
    wait_until(lambda: site.outbox_status()["pending"] == 0, 60, "every message delivered")
    assert stop_gracefully(again) == 0

    mails = Counter((to, r.subject) for r in box.received for to in r.rcpt_tos)
    assert len(mails) == HOLDS * CONTROLLERS, "every controller hears of every hold"
    repeated = sum(n - 1 for n in mails.values())
    assert repeated <= 1, f"{repeated} e-mails sent twice: a crash may repeat only the one in flight"
    sms = texts(site)
    assert sum(n - 1 for n in sms.values()) <= 1
