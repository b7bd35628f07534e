"""Order use cases: quote, create, submit with the atomic credit check, release/reject holds, cancel, lists and
attachments (SPEC §2.3–§2.5). The ERP-driven progress (confirmed → delivered) is `ErpEventService`'s."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Final

import attrs

from crm_domain.credit import CreditAccount, CreditCheck
from crm_domain.customers import Customer
from crm_domain.erp import BalanceSource
from crm_domain.errors import (
    EntityNotFound,
    IdempotencyKeyReused,
    InactiveSku,
    UnknownSku,
    ValidationFailed,
)
from crm_domain.money import Money
from crm_domain.orders import (
    Attachment,
    Channel,
    ErpSync,
    LineRequest,
    Order,
    OrderLine,
    OrderStatus,
    check_lines,
)
from crm_domain.ports import OrderQuery, UnitOfWork
from crm_domain.records import Page, PageRequest
from crm_domain.services.context import ServiceContext, Write, account_of, customer_in_scope, scope_of
from crm_domain.services.credit import reevaluate_holds
from crm_domain.services.live_credit import NO_READING, LiveCredit, LiveReading
from crm_domain.services.tally import count_order
from crm_domain.text import check_text, text_validator
from crm_domain.users import Actor, Permission, Role

#: The channel of each role that has an app of its own, in order of precedence (SPEC §5: the channel follows
#: from who places the order, not from the request).
_ROLE_CHANNEL = {
    Role.DEALER: Channel.DEALER_APP,
    Role.CALL_CENTER_AGENT: Channel.CALL_CENTER,
    Role.SALES_REP: Channel.FIELD_APP,
}
#: What someone without such a role may name (the web app; `import` for the command line's bulk import).
_UNBOUND_CHANNELS = frozenset({Channel.WEB, Channel.IMPORT})
SUBMIT: Final = "order.submit"


@attrs.frozen(kw_only=True)
class NewOrder:
    customer_id: str
    lines: tuple[LineRequest, ...]
    notes: str = attrs.field(default="", validator=text_validator(multiline=True))
    channel: Channel | None = None
    submit: bool = False

    def fingerprint(self) -> str:
        """A digest of what was asked, to tell a retry (same body) from a reused key (another body)."""
        body = {
            "customer_id": self.customer_id,
            "lines": [
                [line.sku, str(line.quantity.normalize()), str(line.discount_pct.normalize())] for line in self.lines
            ],
            "notes": self.notes,
            "channel": self.channel.value if self.channel else None,
            "submit": self.submit,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@attrs.frozen(kw_only=True)
class Quote:
    customer_id: str
    currency: str
    lines: tuple[OrderLine, ...]
    subtotal: Money
    tax_total: Money
    total: Money
    credit: CreditCheck
    balance_source: BalanceSource = BalanceSource.STORED
    balance_as_of: datetime | None = None


class OrderService:
    def __init__(self, ctx: ServiceContext, live: LiveCredit | None = None) -> None:
        self._ctx = ctx
        self._live = live if live is not None and live.enabled else None

    def _read_live(self, customer: Customer, amount: Money) -> LiveReading:
        """The ERP's word on the customer now (outside any unit of work), when its ERP is read live."""
        return NO_READING if self._live is None else self._live.read(customer, amount)

    # --- pricing ------------------------------------------------------------------------------------------

    def _price(self, uow: UnitOfWork, customer: Customer, requests: tuple[LineRequest, ...]) -> list[OrderLine]:
        check_lines(list(requests))
        products = uow.products.get_many([line.sku for line in requests])
        lines = []
        for request in requests:
            product = products.get(request.sku)
            if product is None:
                raise UnknownSku(request.sku)
            if not product.active:
                raise InactiveSku(request.sku)
            if product.currency != customer.currency:
                raise ValidationFailed(
                    f"SKU {product.sku} is priced in {product.currency}; customer {customer.code} buys in "
                    f"{customer.currency}",
                    field="lines",
                )
            if request.quantity < product.min_order_qty:
                raise ValidationFailed(
                    f"SKU {product.sku}: quantity {request.quantity} is below the minimum order quantity "
                    f"{product.min_order_qty}",
                    field="lines",
                )
            lines.append(OrderLine.priced(request, product))
        return lines

    def quote(self, actor: Actor, new: NewOrder) -> Quote:
        """Totals and the credit verdict a submit would get now (with the ERP's live figures when its ERP is read
        live); changes nothing."""
        actor.require(Permission.ORDER_CREATE)

        def step(uow: UnitOfWork) -> tuple[Customer, list[OrderLine], CreditAccount]:
            customer = customer_in_scope(uow, actor, new.customer_id)
            return customer, self._price(uow, customer, new.lines), account_of(uow, customer.id)

        customer, lines, account = self._ctx.read(step)
        amount = sum((line.total for line in lines), Money.zero(customer.currency))
        reading = self._read_live(customer, amount)
        now = self._ctx.now()
        source, as_of, _ = _take_live_balance(account, reading, now)
        check = _second_opinion(
            account.check(amount, self._ctx.config.credit_policy, self._ctx.today(now)), amount, reading
        )
        return Quote(
            customer_id=customer.id,
            currency=customer.currency,
            lines=tuple(lines),
            subtotal=sum((line.net for line in lines), Money.zero(customer.currency)),
            tax_total=sum((line.tax for line in lines), Money.zero(customer.currency)),
            total=amount,
            credit=check,
            balance_source=source,
            balance_as_of=as_of,
        )

    # --- create and submit -------------------------------------------------------------------------------

    def create(self, actor: Actor, new: NewOrder, idempotency_key: str | None = None) -> Order:
        """A draft order, submitted at once when `new.submit`; an `idempotency_key` makes retries safe."""
        plan = self.plan_create(actor, new, idempotency_key)
        return plan if isinstance(plan, Order) else self._ctx.finish(plan)

    def plan_create(
        self,
        actor: Actor,
        new: NewOrder,
        idempotency_key: str | None = None,
        on_replay: Callable[[Order], None] | None = None,
    ) -> Order | Write[Order]:
        """`create` in two halves: this one reads (the customer in scope, the priced lines, a replay of the
        idempotency key) and returns the replayed order, or the write still to run — the number, the credit
        check and reservation, the order, its events and the idempotency record, all that must be atomic.
        Callers that batch writes run the second half themselves (decision 0009). `on_replay` hears of an
        answer that is an earlier request's order (same key), so that it is not counted as a new one."""

        def replayed(order: Order | None) -> Order | None:
            if order is not None and on_replay is not None:
                on_replay(order)
            return order

        actor.require(Permission.ORDER_CREATE)
        if new.submit:
            actor.require(Permission.ORDER_SUBMIT)
        channel = channel_of(actor, new.channel)
        fingerprint = new.fingerprint() if idempotency_key is not None else ""  # only a keyed request is compared

        def prepare(uow: UnitOfWork) -> Order | tuple[Customer, list[OrderLine]]:
            replay = replayed(self._replay(uow, actor, "order.create", idempotency_key, fingerprint))
            if replay is not None:
                return replay
            customer = customer_in_scope(uow, actor, new.customer_id)
            if not customer.active:
                raise ValidationFailed(f"customer {customer.code} is not active", field="customer_id")
            return customer, self._price(uow, customer, new.lines)

        prepared = self._ctx.read(prepare)
        if isinstance(prepared, Order):
            return prepared
        customer, lines = prepared
        reading = NO_READING
        if new.submit:
            reading = self._read_live(customer, sum((line.total for line in lines), Money.zero(customer.currency)))

        def step(uow: UnitOfWork) -> Order:
            # A request with the same key may have committed since the snapshot: replay it.
            replay = replayed(self._replay(uow, actor, "order.create", idempotency_key, fingerprint))
            if replay is not None:
                return replay
            now = self._ctx.now()
            year = now.astimezone(self._ctx.config.tz).year
            order = Order.draft(
                id=self._ctx.ids.new_id(),
                number=f"SO-{year}-{uow.orders.next_number(year):06d}",
                customer_id=customer.id,
                currency=customer.currency,
                lines=lines,
                actor=actor,
                channel=channel,
                notes=new.notes,
                at=now,
            )
            if new.submit:
                self._submit(uow, actor, order, customer, now, reading)
            uow.orders.add(order)
            self._ctx.remember(
                uow,
                actor_id=actor.id,
                operation="order.create",
                key=idempotency_key,
                fingerprint=fingerprint,
                result_id=order.id,
                field="Idempotency-Key",
                now=now,
            )
            return order

        return Write(step, self._ctx.config.concurrency_retries)

    def submit(
        self,
        actor: Actor,
        order_id: str,
        idempotency_key: str | None = None,
        on_replay: Callable[[Order], None] | None = None,
    ) -> Order:
        """Submit a draft: credit-checked, `submitted` or `on_credit_hold`. A request that repeats an earlier
        one's idempotency key answers that one's order, and `on_replay` hears of it (metrics count it apart)."""
        actor.require(Permission.ORDER_SUBMIT)
        reading = NO_READING
        if self._live is not None:  # the ERP's word first, outside the unit of work that checks and reserves
            order, customer = self._ctx.read(lambda uow: self._order_in_scope(uow, actor, order_id))
            if order.status is OrderStatus.DRAFT:
                reading = self._read_live(customer, order.total)

        def step(uow: UnitOfWork) -> Order:
            # The key is the user's for the operation; the order is what was asked (another order: 409).
            replay = self._replay(uow, actor, SUBMIT, idempotency_key, order_id)
            if replay is not None:
                if on_replay is not None:
                    on_replay(replay)
                return replay
            order, customer = self._order_in_scope(uow, actor, order_id)
            now = self._ctx.now()
            self._submit(uow, actor, order, customer, now, reading)
            uow.orders.save(order)
            self._ctx.remember(
                uow,
                actor_id=actor.id,
                operation=SUBMIT,
                key=idempotency_key,
                fingerprint=order_id,
                result_id=order.id,
                field="Idempotency-Key",
                now=now,
            )
            return order

        return self._ctx.finish(Write(step))

    def _submit(
        self,
        uow: UnitOfWork,
        actor: Actor,
        order: Order,
        customer: Customer,
        now: datetime,
        reading: LiveReading = NO_READING,
    ) -> None:
        """The credit check and the reservation, in the caller's unit of work (one atomic step). A live balance read
        before it replaces the stored one first (unless the stored one is newer), releasing the customer's holds
        that fit now; an ERP's refusal turns an approval into a hold (`erp_credit_check`)."""
        order.ensure_can(OrderStatus.SUBMITTED)
        if reading.balance is None:
            account = account_of(uow, customer.id, orders=[order.id])  # its cost does not grow with open orders
        else:
            account = account_of(uow, customer.id)  # in full: a lower balance may release held orders
        source, as_of, changed = _take_live_balance(account, reading, now)
        if changed:
            reevaluate_holds(self._ctx, uow, account, now)
        check = _second_opinion(
            account.check(order.total, self._ctx.config.credit_policy, self._ctx.today(now)), order.total, reading
        )
        order.submit(check, customer.assigned_rep_id, actor, now, balance_source=source, balance_as_of=as_of)
        if check.approved:
            account.reserve(order.id, order.total, now)
            account.updated_at = now
            count_order(self._ctx, uow, order)
        if check.approved or changed:
            uow.credit.save(account)

    # --- credit-hold decisions ------------------------------------------------------------------------------

    def release(self, actor: Actor, order_id: str, note: str) -> Order:
        """Release a hold: reserve whatever the limit, record the override (four eyes)."""
        actor.require(Permission.ORDER_RELEASE)
        check_text(note, "note")
        if not note.strip():
            raise ValidationFailed("releasing an order from credit hold needs a note", field="note")

        def step(uow: UnitOfWork) -> Order:
            order, customer = self._order_in_scope(uow, actor, order_id)
            now = self._ctx.now()
            account = account_of(uow, customer.id)
            check = account.check(order.total, self._ctx.config.credit_policy, self._ctx.today(now))
            order.release(actor, note, check.shortfall, now)
            account.reserve(order.id, order.total, now, by_release=True)
            account.updated_at = now
            uow.credit.save(account)
            count_order(self._ctx, uow, order)
            uow.orders.save(order)
            self._ctx.audit(
                uow,
                actor_id=actor.id,
                action="order.released",
                entity="order",
                entity_id=order.id,
                note=note,
                shortfall=check.shortfall.decimal_string(),
            )
            return order

        return self._ctx.write(step)

    def reject(self, actor: Actor, order_id: str, reason: str) -> Order:
        actor.require(Permission.ORDER_RELEASE)
        check_text(reason, "reason")

        def step(uow: UnitOfWork) -> Order:
            order, _ = self._order_in_scope(uow, actor, order_id)
            order.reject(actor, reason, self._ctx.now())
            uow.orders.save(order)
            self._ctx.audit(
                uow, actor_id=actor.id, action="order.rejected", entity="order", entity_id=order.id, reason=reason
            )
            return order

        return self._ctx.write(step)

    # --- cancel -------------------------------------------------------------------------------------------

    def cancel(self, actor: Actor, order_id: str, reason: str) -> Order:
        """Cancel; the reservation is released and held orders that now fit are released too."""
        actor.require(Permission.ORDER_CANCEL)
        check_text(reason, "reason")
        if not reason.strip():
            raise ValidationFailed("cancelling an order needs a reason", field="reason")

        def step(uow: UnitOfWork) -> Order:
            order, customer = self._order_in_scope(uow, actor, order_id)
            now = self._ctx.now()
            was_counted = order.counts_for_performance
            order.cancel(actor, reason, now)
            if was_counted:
                count_order(self._ctx, uow, order, sign=-1)
            uow.orders.save(order)
            account = account_of(uow, customer.id)
            if account.release(order.id):
                reevaluate_holds(self._ctx, uow, account, now)
                uow.credit.save(account)
            return order

        return self._ctx.write(step)

    # --- the ERP's side ----------------------------------------------------------------------------------
    # Confirmed, dispatched, invoiced and delivered come from the ERP through one rule:
    # `ErpEventService.apply_order_status` (the webhook, the polling sync, the worker's confirm, the sandbox).

    def record_erp_sync(self, order_id: str, state: ErpSync, error: str | None = None) -> Order:
        def step(uow: UnitOfWork) -> Order:
            order = _order(uow, order_id)
            order.set_erp_sync(state, self._ctx.now(), error)
            uow.orders.save(order)
            return order

        return self._ctx.write(step)

    # --- reading ------------------------------------------------------------------------------------------

    def get(self, actor: Actor, order_id: str) -> Order:
        actor.require(Permission.ORDER_READ)
        return self._ctx.read(lambda uow: self._order_in_scope(uow, actor, order_id)[0])

    def list(self, actor: Actor, page: PageRequest, query: OrderQuery | None = None) -> Page[Order]:
        actor.require(Permission.ORDER_READ)

        def step(uow: UnitOfWork) -> Page[Order]:
            ids = uow.customers.ids_in_scope(scope_of(uow, actor))
            return uow.orders.page(page, attrs.evolve(query or OrderQuery(), customer_ids=ids))

        return self._ctx.read(step)

    def check_attachable(self, actor: Actor, order_id: str) -> None:
        """Refuse (403, 404) an upload to an order the actor may not attach to, before its bytes are written
        anywhere; `add_attachment` checks again in its own unit of work."""
        actor.require(Permission.ORDER_CREATE)
        self._ctx.read(lambda uow: self._order_in_scope(uow, actor, order_id))

    def add_attachment(self, actor: Actor, order_id: str, attachment: Attachment) -> Order:
        actor.require(Permission.ORDER_CREATE)

        def step(uow: UnitOfWork) -> Order:
            order, _ = self._order_in_scope(uow, actor, order_id)
            order.add_attachment(attachment)
            uow.orders.save(order)
            return order

        return self._ctx.write(step)

    # --- shared -------------------------------------------------------------------------------------------

    def _order_in_scope(self, uow: UnitOfWork, actor: Actor, order_id: str) -> tuple[Order, Customer]:
        order = uow.orders.get(order_id)
        if order is None:
            raise EntityNotFound("order", order_id)
        try:
            customer = customer_in_scope(uow, actor, order.customer_id)
        except EntityNotFound:
            raise EntityNotFound("order", order_id) from None
        return order, customer

    def _replay(self, uow: UnitOfWork, actor: Actor, operation: str, key: str | None, fingerprint: str) -> Order | None:
        if key is None:
            return None
        record = uow.idempotency.get(actor_id=actor.id, operation=operation, key=key)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(key)
        return _order(uow, record.result_id)


def _take_live_balance(
    account: CreditAccount, reading: LiveReading, now: datetime
) -> tuple[BalanceSource, datetime | None, bool]:
    """Apply a live balance to `account` (in memory; the caller saves it) unless the stored one is newer; answers
    the source the check uses, the time of its figures, and whether the account changed."""
    balance = reading.balance
    if balance is None or account.is_older_balance(balance.as_of):
        return BalanceSource.STORED, account.balance_as_of, False
    as_of = balance.as_of or reading.read_at or now
    if (account.receivables, account.overdue_days) != (balance.receivables.minor, balance.overdue_days):
        account.update_balance(balance.receivables, balance.overdue_days, now, balance.as_of)
        return BalanceSource.LIVE, as_of, True
    return BalanceSource.LIVE, as_of, account.note_balance_as_of(balance.as_of)


def _second_opinion(check: CreditCheck, amount: Money, reading: LiveReading) -> CreditCheck:
    """Our approval stands unless the ERP's own credit check (read live) refused the amount."""
    verdict = reading.verdict
    if not check.approved or verdict is None or verdict.passed:
        return check
    return check.refused_by_erp(amount, verdict.available)


def channel_of(actor: Actor, claimed: Channel | None) -> Channel:
    """The channel of an order `actor` places: a dealer's is `dealer_app`, an agent's `call_center`, a rep's
    `field_app`; anyone else's `web`. A `claimed` channel is accepted only when it cannot lie — one of the actor's
    own roles' channels, or `web`/`import` for someone with none — else `ValidationFailed` (docs/operations.md)."""
    own = [channel for role, channel in _ROLE_CHANNEL.items() if role in actor.roles]
    if claimed is None:
        return own[0] if own else Channel.WEB
    if claimed in own or (not own and claimed in _UNBOUND_CHANNELS):
        return claimed
    allowed = ", ".join(sorted(c.value for c in own or _UNBOUND_CHANNELS))
    raise ValidationFailed(f"channel {claimed.value!r} is not yours to name (yours: {allowed})", field="channel")


def _order(uow: UnitOfWork, order_id: str) -> Order:
    order = uow.orders.get(order_id)
    if order is None:
        raise EntityNotFound("order", order_id)
    return order
