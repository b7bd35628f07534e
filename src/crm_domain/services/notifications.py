"""Notifications through the outbox (SPEC §2.7, §8): SMS to the dealer as its order moves on, e-mail to the rep's
manager and the credit controllers when an order goes on credit hold.

Both are `OutboxHandler`s run by `crm worker` after the change is committed; they read what they need in one
read-only unit of work and send after it has ended (never inside a store transaction).

Delivery is at least once. A message whose SMS or e-mail went out just before the worker crashed is handled
again, so that person gets the text twice; this is accepted (an SMS gateway or an SMTP server cannot take part in
the store's transaction). SPEC §5 bounds it to the one send in flight: the hold e-mails of one message are
`Step`s, each recorded in the message (a store write per e-mail) before the next is sent, so a crash or an
outage part-way never mails again those who already had it. Repeats and noise are kept down where it is cheap:
nothing is sent for orders or customers that no longer exist, to inactive customers, to people without a mobile
or e-mail or who are inactive, about a hold that has already ended, or to the same address twice for one event.
A recipient the gateway refuses for good (`RecipientRejected`) is logged (masked) and skipped, not retried;
`UpstreamUnavailable` propagates so the worker retries the message later.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ClassVar, Final

import attrs

from crm_domain.credit import HoldReason
from crm_domain.customers import Customer
from crm_domain.errors import RecipientRejected
from crm_domain.events import (
    Event,
    OrderConfirmed,
    OrderPutOnCreditHold,
    OrderRejected,
    OrderReleased,
    OrderStatusChanged,
    OrderSubmitted,
)
from crm_domain.money import MINOR_UNITS_PER_MAJOR, Money
from crm_domain.orders import Order, OrderStatus
from crm_domain.outbox import OutboxMessage
from crm_domain.ports import EmailSender, OutboxHandler, SmsSender, UnitOfWork
from crm_domain.records import PageRequest
from crm_domain.services.context import ServiceContext
from crm_domain.services.delivery import Step
from crm_domain.users import Role, User

log = logging.getLogger("crm.notifications")

_REJECT_REASON_CHARS: Final = 60


def format_money(money: Money) -> str:
    """`INR 1,23,456.50` (Indian digit grouping for INR), `USD 123,456.50` for other currencies."""
    whole, cents = divmod(abs(money.minor), MINOR_UNITS_PER_MAJOR)
    digits = str(whole)
    if money.currency == "INR" and len(digits) > 3:
        head, groups = digits[:-3], [digits[-3:]]
        while head:
            groups.insert(0, head[-2:])
            head = head[:-2]
        grouped = ",".join(groups)
    else:
        grouped = f"{whole:,}"
    sign = "-" if money.minor < 0 else ""
    return f"{money.currency} {sign}{grouped}.{cents:02d}"


def _money(payload: dict[str, Any], key: str, fallback: Money) -> Money:
    value = payload.get(key)
    if isinstance(value, dict) and "amount" in value and "currency" in value:
        return Money.of(str(value["amount"]), str(value["currency"]))
    return fallback


def _hold_reason(message: OutboxMessage, order: Order) -> str:
    reason = message.payload.get("reason")
    if reason is None and order.credit is not None and order.credit.reason is not None:
        reason = order.credit.reason.value
    return str(reason or HoldReason.LIMIT_EXCEEDED.value)


@attrs.frozen
class _Loaded:
    order: Order
    customer: Customer


def _load(uow: UnitOfWork, message: OutboxMessage, handler: str) -> _Loaded | None:
    """The message's order and its customer, or None (logged) when either is gone."""
    order_id = str(message.payload.get("order_id") or message.aggregate_id)
    order = uow.orders.get(order_id)
    customer = uow.customers.get(order.customer_id) if order is not None else None
    if order is None or customer is None:
        log.info("%s: skipped %s %s, the order or its customer no longer exists", handler, message.event, order_id)
        return None
    return _Loaded(order, customer)


# --- SMS to the dealer -----------------------------------------------------------------------------------------


def _sms_submitted(message: OutboxMessage, order: Order) -> str | None:
    total = _money(message.payload, "total", order.total)
    return f"Order {order.number} for {format_money(total)} is received and submitted for processing."


def _sms_on_hold(message: OutboxMessage, order: Order) -> str | None:
    if order.status is not OrderStatus.ON_CREDIT_HOLD:
        return None  # the hold has ended already (released, rejected, cancelled): its own message follows
    total = format_money(_money(message.payload, "total", order.total))
    reason = _hold_reason(message, order)
    if reason == HoldReason.CUSTOMER_BLOCKED:
        why = "account blocked for credit"
    elif reason == HoldReason.OVERDUE:
        why = "invoices overdue, please clear them"
    elif reason == HoldReason.ERP_CREDIT_CHECK:
        why = "the ERP's credit check did not pass it"
    else:
        shortfall = format_money(_money(message.payload, "shortfall", Money.zero(order.currency)))
        available = order.credit.available if order.credit is not None else Money.zero(order.currency)
        why = f"{shortfall} over available credit {format_money(available)}"
    return f"Order {order.number} for {total} is on credit hold: {why}. Credit team will review it."


def _sms_released(message: OutboxMessage, order: Order) -> str | None:
    total = _money(message.payload, "total", order.total)
    return f"Order {order.number} for {format_money(total)} is released from credit hold and submitted for processing."


def _sms_rejected(message: OutboxMessage, order: Order) -> str | None:
    reason = " ".join(str(message.payload.get("reason") or "").split())
    if len(reason) > _REJECT_REASON_CHARS:
        reason = reason[: _REJECT_REASON_CHARS - 3].rstrip() + "..."
    suffix = f": {reason}" if reason else ""
    return f"Order {order.number} for {format_money(order.total)} was not accepted by our credit team{suffix}."


def _sms_confirmed(message: OutboxMessage, order: Order) -> str | None:
    erp_ref = message.payload.get("erp_order_id") or order.erp_order_id
    ref = f" (ref {erp_ref})" if erp_ref else ""
    return f"Order {order.number} for {format_money(order.total)} is confirmed{ref}."


def _sms_status_changed(message: OutboxMessage, order: Order) -> str | None:
    if message.payload.get("status") != OrderStatus.DISPATCHED.value:
        return None  # invoiced and delivered are not texted
    return f"Order {order.number} for {format_money(order.total)} has been dispatched."


_SMS_TEXTS: Final[dict[type[Event], Callable[[OutboxMessage, Order], str | None]]] = {
    OrderSubmitted: _sms_submitted,
    OrderPutOnCreditHold: _sms_on_hold,
    OrderReleased: _sms_released,
    OrderRejected: _sms_rejected,
    OrderConfirmed: _sms_confirmed,
    OrderStatusChanged: _sms_status_changed,
}


class SmsNotifications:
    """SMS to the dealer (the customer's mobile) when its order is submitted, put on credit hold, released from
    or rejected at the hold, confirmed by the ERP, and dispatched. Texts are plain ASCII, to fit one SMS."""

    events: ClassVar[tuple[type[Event], ...]] = tuple(_SMS_TEXTS)

    def __init__(self, ctx: ServiceContext, sms: SmsSender) -> None:
        self._ctx = ctx
        self._sms = sms

    @property
    def name(self) -> str:
        return "sms"

    def compose(self, message: OutboxMessage) -> tuple[str, str] | None:
        """The (mobile, text) this message calls for, or None when nothing is to be sent."""
        return self._ctx.read(lambda uow: self._compose(uow, message))

    def _compose(self, uow: UnitOfWork, message: OutboxMessage) -> tuple[str, str] | None:
        loaded = _load(uow, message, self.name)
        if loaded is None or not loaded.customer.active:
            return None
        event = message.event_type
        text = _SMS_TEXTS[event](message, loaded.order) if event in _SMS_TEXTS else None
        return (loaded.customer.mobile, text) if text else None

    def handle(self, message: OutboxMessage) -> None:
        if not message.is_one_of(self.events):
            return
        composed = self.compose(message)
        if composed is None:
            return
        to, text = composed
        try:
            self._sms.send(to, text)
        except RecipientRejected as exc:
            log.warning(
                "sms: %s of order %s refused for good by the gateway (%s); not retried",
                message.event,
                message.aggregate_id,
                exc.status,
            )


# --- e-mail to the manager and the credit controllers ----------------------------------------------------------


@attrs.frozen(kw_only=True)
class Email:
    to: str
    subject: str
    body: str


_HOLD_REASONS: Final = {
    HoldReason.LIMIT_EXCEEDED.value: "credit limit exceeded",
    HoldReason.CUSTOMER_BLOCKED.value: "customer is blocked for credit",
    HoldReason.OVERDUE.value: "receivables overdue",
    HoldReason.ERP_CREDIT_CHECK.value: "the ERP's own credit check refused it",
}


def _users(uow: UnitOfWork) -> list[User]:
    users: list[User] = []
    cursor: str | None = None
    while True:
        page = uow.users.page(PageRequest(limit=PageRequest.MAX_LIMIT, cursor=cursor))
        users.extend(page.items)
        if page.next_cursor is None:
            return users
        cursor = page.next_cursor


def hold_recipients(uow: UnitOfWork, order: Order) -> list[User]:
    """Who hears of a credit hold: the manager of the order's rep, then every credit controller; only active
    people with an e-mail address, each address once."""
    candidates: list[User] = []
    rep = uow.users.get(order.rep_id) if order.rep_id else None
    manager = uow.users.get(rep.manager_id) if rep is not None and rep.manager_id else None
    if manager is not None:
        candidates.append(manager)
    candidates.extend(u for u in _users(uow) if Role.CREDIT_CONTROLLER in u.roles)
    chosen: list[User] = []
    seen: set[str] = set()
    for user in candidates:
        if user.active and user.email and user.email.lower() not in seen:
            seen.add(user.email.lower())
            chosen.append(user)
    return chosen


class EmailNotifications:
    """E-mail to the rep's manager and every active credit controller when an order goes on credit hold (and
    only while it is still on hold when the message is handled)."""

    events: ClassVar[tuple[type[Event], ...]] = (OrderPutOnCreditHold,)

    def __init__(self, ctx: ServiceContext, email: EmailSender) -> None:
        self._ctx = ctx
        self._email = email

    @property
    def name(self) -> str:
        return "email"

    def compose(self, message: OutboxMessage) -> list[Email]:
        """The e-mails this message calls for (none when the order is gone or no longer on hold)."""
        return self._ctx.read(lambda uow: self._compose(uow, message))

    def _compose(self, uow: UnitOfWork, message: OutboxMessage) -> list[Email]:
        loaded = _load(uow, message, self.name)
        if loaded is None or loaded.order.status is not OrderStatus.ON_CREDIT_HOLD:
            return []
        order, customer = loaded.order, loaded.customer
        rep = uow.users.get(order.rep_id) if order.rep_id else None
        creator = uow.users.get(order.created_by)
        subject, body = self._hold_text(message, order, customer, rep, creator)
        return [Email(to=u.email, subject=subject, body=body) for u in hold_recipients(uow, order) if u.email]

    def _hold_text(
        self, message: OutboxMessage, order: Order, customer: Customer, rep: User | None, creator: User | None
    ) -> tuple[str, str]:
        total = format_money(_money(message.payload, "total", order.total))
        reason = _hold_reason(message, order)
        shortfall = _money(message.payload, "shortfall", Money.zero(order.currency))
        held_at = order.held_at or message.occurred_at
        rows = [
            ("Customer", f"{customer.name} ({customer.code})"),
            ("Order total", total),
            ("Reason", _HOLD_REASONS.get(reason, reason)),
        ]
        if reason == HoldReason.LIMIT_EXCEEDED:
            rows.append(("Shortfall", format_money(shortfall)))
        if order.credit is not None:
            rows.append(("Available credit", f"{format_money(order.credit.available)} at submit"))
        rows += [
            ("Sales rep", rep.name if rep is not None else "none assigned"),
            ("Placed by", creator.name if creator is not None else order.created_by),
            ("On hold since", held_at.astimezone(self._ctx.config.tz).strftime("%d %b %Y %H:%M %Z")),
            ("Order id", order.id),
        ]
        width = max(len(label) for label, _ in rows) + 2
        lines = [f"Order {order.number} is on credit hold and waits for a credit decision.", ""]
        lines += [f"{label + ':':<{width}}{value}" for label, value in rows]
        lines += [
            "",
            "A credit controller can release it (the total is then reserved whatever the limit) or reject it.",
            "This message was sent automatically by the CRM.",
        ]
        subject = " ".join(f"Credit hold: order {order.number} of {customer.name}, {total}".split())
        return subject, "\n".join(lines) + "\n"

    def steps(self, message: OutboxMessage) -> list[Step]:
        """One step per e-mail, named by its address (each address once a message): the worker saves each one
        sent before the next, so a crash repeats at most that one e-mail."""
        if not message.is_one_of(self.events):
            return []
        return [Step(mail.to.lower(), functools.partial(self._send, message, mail)) for mail in self.compose(message)]

    def handle(self, message: OutboxMessage) -> None:
        for step in self.steps(message):
            step.run()

    def _send(self, message: OutboxMessage, mail: Email) -> None:
        try:
            self._email.send(mail.to, mail.subject, mail.body)
        except RecipientRejected as exc:
            log.warning(
                "email: hold of order %s refused for good for %s (%s); not retried",
                message.aggregate_id,
                exc.recipient,
                exc.status,
            )


def notification_handlers(ctx: ServiceContext, sms: SmsSender, email: EmailSender) -> list[OutboxHandler]:
    """The notification handlers for `crm worker`: `sms` (the dealer) and `email` (manager, credit control)."""
    return [SmsNotifications(ctx, sms), EmailNotifications(ctx, email)]
