"""Daily digests for sales managers (SPEC §2.6, §2.8), sent by the worker through the outbox.

`schedule(day)` writes one `DigestDue` event per active manager with an e-mail address, each with an
idempotency record (actor = the manager, operation `digest`, key = the day) in the same unit of work: asked
again the same day — by the worker's next sweep, by another worker, or by `crm reports digest --send` — it
writes nothing more. The `digest` outbox handler composes the digest when it is delivered and e-mails it (text
and HTML from the `DigestRenderer`); the outbox's at-least-once delivery may repeat that one e-mail after a
crash, as for the other notifications.
"""

from __future__ import annotations

from datetime import date, time
from typing import ClassVar

from crm_domain.digest import HOLDS_LISTED, Digest
from crm_domain.errors import DuplicateKey, EntityNotFound, RecipientRejected
from crm_domain.events import DigestDue, Event
from crm_domain.outbox import OutboxMessage
from crm_domain.ports import DigestRenderer, EmailSender, UnitOfWork
from crm_domain.records import PageRequest
from crm_domain.reports import HoldRow
from crm_domain.services.context import ServiceContext, scope_of
from crm_domain.services.performance import PerformanceService
from crm_domain.services.reports import hold_rows
from crm_domain.users import Actor, Role, User

OPERATION = "digest"


class DigestService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._performance = PerformanceService(ctx)

    def managers(self) -> list[User]:
        """Active sales managers with an e-mail address."""

        def step(uow: UnitOfWork) -> list[User]:
            found, cursor = [], None
            while True:
                page = uow.users.page(PageRequest(limit=PageRequest.MAX_LIMIT, cursor=cursor))
                found += [u for u in page.items if u.active and Role.SALES_MANAGER in u.roles and u.email]
                if page.next_cursor is None:
                    return found
                cursor = page.next_cursor

        return self._ctx.read(step)

    def schedule(self, day: date) -> int:
        """Queue the digest of `day` for every manager who has none queued for it yet; how many were queued."""
        queued = 0
        key = day.isoformat()
        for manager in self.managers():
            if self._ctx.read(
                lambda uow, m=manager: uow.idempotency.get(actor_id=m.id, operation=OPERATION, key=key)  # type: ignore[misc]
            ):
                continue  # queued already: a read, not a write, on every later sweep of the day
            try:
                self._ctx.write(lambda uow, m=manager: self._queue(uow, m, day))  # type: ignore[misc]
                queued += 1
            except DuplicateKey:
                continue  # already queued for that day
        return queued

    def _queue(self, uow: UnitOfWork, manager: User, day: date) -> None:
        now = self._ctx.now()
        self._ctx.remember(
            uow,
            actor_id=manager.id,
            operation=OPERATION,
            key=day.isoformat(),
            fingerprint=day.isoformat(),
            result_id=manager.id,
            field="day",
            now=now,
        )
        uow.publish([DigestDue(occurred_at=now, manager_id=manager.id, day=day)])

    def compose(self, manager_id: str, day: date) -> Digest:
        """The digest of `manager_id` for `day`: the month of `day` so far, and the holds waiting now."""
        manager = self._ctx.read(lambda uow: uow.users.get(manager_id))
        if manager is None or Role.SALES_MANAGER not in manager.roles:
            raise EntityNotFound("user", manager_id)
        actor = manager.actor()
        period = day.strftime("%Y-%m")
        (team,) = self._performance.figures(actor, period, manager.id)
        reps = self._performance.leaderboard(actor, period)  # ranked, ties sharing a rank
        holds, waiting = self._ctx.read(lambda uow: self._holds(uow, actor))
        return Digest(
            manager_id=manager.id,
            name=manager.name,
            email=manager.email,
            day=day,
            period=period,
            team=team,
            reps=reps,
            holds=holds,
            holds_waiting=waiting,
        )

    def _holds(self, uow: UnitOfWork, actor: Actor) -> tuple[list[HoldRow], int]:
        orders = uow.reports.holds(uow.customers.ids_in_scope(scope_of(uow, actor)))
        rows = hold_rows(uow, orders[:HOLDS_LISTED], self._ctx.now())
        return rows, len(orders)

    def due_today(self, hour: int) -> date | None:
        """Today's day in the company time zone once its local time has passed `hour`, else None."""
        now = self._ctx.now().astimezone(self._ctx.config.tz)
        return now.date() if now.time() >= time(hour) else None


class DigestHandler:
    """The `digest` outbox handler: composes the digest when delivered and e-mails it (text and HTML)."""

    events: ClassVar[tuple[type[Event], ...]] = (DigestDue,)

    def __init__(self, ctx: ServiceContext, email: EmailSender, renderer: DigestRenderer) -> None:
        self._digests = DigestService(ctx)
        self._email = email
        self._renderer = renderer

    @property
    def name(self) -> str:
        return "digest"

    def handle(self, message: OutboxMessage) -> None:
        manager_id = str(message.payload["manager_id"])
        day = date.fromisoformat(str(message.payload["day"]))
        try:
            digest = self._digests.compose(manager_id, day)
        except EntityNotFound:
            return  # the manager is gone, or no longer a manager: nothing to send
        if not digest.email:
            return
        subject, text, html = self._renderer.render(digest)
        try:
            self._email.send(digest.email, subject, text, html)
        except RecipientRejected:
            return  # refused for good: not retried
