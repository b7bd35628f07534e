"""The managers' daily digest (SPEC §2.6, §2.8): queued once a manager and day through the outbox, composed of
the team's sales against target and the holds waiting, rendered as text and escaped HTML, sent by the worker."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import attrs

from adapters.email.digest import JinjaDigestRenderer
from crm_domain.events import DigestDue
from crm_domain.outbox import OutboxMessage
from crm_domain.services.digest import DigestHandler, DigestService
from crm_domain.services.users import NewUser, UserChanges
from crm_domain.users import Role
from tests.unit.world import World, inr

DAY = date(2026, 11, 2)


@attrs.define
class Mailbox:
    sent: list[tuple[str, str, str, str | None]] = attrs.field(factory=list)

    def send(self, to: str, subject: str, body: str, html: str | None = None) -> None:
        self.sent.append((to, subject, body, html))


def _manager_with_mail(world: World) -> str:
    new = NewUser(
        mobile="+919876555555",
        name='Mona <"Boss"> & Co',
        roles=frozenset({Role.SALES_MANAGER}),
        email="mona@example.com",
        manager_id=world.head.id,
    )
    manager = world.crm.users.create(world.admin, new)
    return manager.id


def _due(world: World) -> list[OutboxMessage]:
    return [m for m in world.outbox() if m.event == DigestDue.name]


class TestSchedule:
    def test_once_per_manager_and_day(self, world: World) -> None:
        manager = _manager_with_mail(world)
        digests = DigestService(world.crm.ctx)

        assert digests.schedule(DAY) == 1  # the only manager with an e-mail address
        assert digests.schedule(DAY) == 0
        assert digests.schedule(date(2026, 11, 3)) == 1
        assert [(m.payload["manager_id"], m.payload["day"]) for m in _due(world)] == [
            (manager, "2026-11-02"),
            (manager, "2026-11-03"),
        ]

    def test_due_only_from_the_local_hour(self, world: World) -> None:
        digests = DigestService(world.crm.ctx)
        world.clock.set(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))  # 06:30 in India
        assert digests.due_today(7) is None
        world.clock.set(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))  # 07:30
        assert digests.due_today(7) == DAY


class TestSend:
    def test_the_team_sales_against_target_and_the_holds_waiting(self, world: World) -> None:
        manager = _manager_with_mail(world)
        world.crm.performance.set_target(world.admin, world.rep.id, "2026-11", inr("1000.00"))
        # Mona manages nobody yet: put the world's manager (and so rep and rep2) under her
        world.crm.users.update(world.admin, world.manager.id, UserChanges(manager_id=manager))
        world.order_of("250.00")
        held = world.order_of("20000.00")
        DigestService(world.crm.ctx).schedule(DAY)
        mailbox = Mailbox()
        handler = DigestHandler(world.crm.ctx, mailbox, JinjaDigestRenderer(ZoneInfo("Asia/Kolkata")))

        for message in _due(world):
            handler.handle(message)

        ((to, subject, text, html),) = mailbox.sent
        assert to == "mona@example.com"
        assert "team sales INR 250.00" in subject and "1 on credit hold" in subject
        assert "achieved INR 250.00" in text and held.number in text
        assert "1. Ravi Rep: INR 250.00 of INR 1,000.00 (25.00 %)" in text
        assert html is not None and "Mona &lt;&#34;Boss&#34;&gt; &amp; Co" in html and "<script" not in html
        assert held.number in html
