"""Credit use cases: position, credit-term change requests with four eyes, direct changes that lower credit,
ERP balances, and the automatic release of holds that fit again (SPEC §2.3, credit governance).

Every change that raises what a customer may owe is a credit-term change request (`request_term_change`),
applied when a second person approves it (`approve_request`). The direct changes (`set_limit`,
`set_temporary_limit`, `set_tolerance`, `set_overdue_block`, `unblock`) apply what lowers credit at once and
refuse a raise (`CreditRaiseNeedsApproval`, naming the request route): the account refuses it, so no door can
raise alone (docs/decisions/0011-credit-governance.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import attrs

from crm_domain.credit import CreditAccount, LimitChange
from crm_domain.credit_governance import Approval, CreditLimitRequest, LimitRequestStatus, TermKind
from crm_domain.errors import EntityNotFound
from crm_domain.events import (
    CreditLimitChanged,
    CreditLimitRequestDecided,
    CreditLimitRequested,
)
from crm_domain.money import Money
from crm_domain.orders import Order
from crm_domain.ports import UnitOfWork
from crm_domain.records import Page, PageRequest
from crm_domain.services.context import ServiceContext, account_of, customer_in_scope, scope_of
from crm_domain.services.tally import count_order
from crm_domain.users import SYSTEM, Actor, Permission

AUTO_RELEASE_NOTE = "released automatically: the order fits the available credit now"


@attrs.frozen(kw_only=True)
class CreditPosition:
    customer_id: str
    currency: str
    limit: Money  # the effective limit today (temporary limit while valid)
    base_limit: Money
    temporary_limit: Money | None
    temporary_limit_until: date | None
    tolerance_pct: str
    receivables: Money
    open_orders: Money
    dispatched: Money
    exposure: Money
    available: Money
    blocked: bool
    reason: str | None
    overdue_days: int
    overdue_block_days: int | None


def position_of(ctx: ServiceContext, account: CreditAccount) -> CreditPosition:
    today = ctx.today()
    policy = ctx.config.credit_policy
    m = account.money
    reason = account.block_reason if account.blocked else ("overdue" if account.is_overdue_blocked() else None)
    return CreditPosition(
        customer_id=account.customer_id,
        currency=account.currency,
        limit=m(account.effective_limit(today)),
        base_limit=m(account.limit),
        temporary_limit=None if account.temp_limit is None else m(account.temp_limit),
        temporary_limit_until=account.temp_limit_until,
        tolerance_pct=str(account.tolerance_pct),
        receivables=m(account.receivables),
        open_orders=m(account.open_orders),
        dispatched=m(account.dispatched),
        exposure=m(account.exposure(policy)),
        available=m(account.available(policy, today)),
        blocked=account.blocked or account.is_overdue_blocked(),
        reason=reason,
        overdue_days=account.overdue_days,
        overdue_block_days=account.overdue_block_days,
    )


def reevaluate_holds(
    ctx: ServiceContext,
    uow: UnitOfWork,
    account: CreditAccount,
    at: datetime,
    approval: Approval | None = None,
    approver: Actor = SYSTEM,
) -> list[Order]:
    """Release, in hold order, every held order of the customer that fits now; the caller saves `account`.

    After an approved raise (`approval`, decided by `approver`) the orders are released on the approver's behalf,
    and an order created by the requester or the approver is not released: it is marked to need a person and
    stays on hold (`Order.keep_for_a_person`). Otherwise (exposure fell, a sweep) on the system's behalf."""
    raised_by = frozenset() if approval is None else approval.people
    held = uow.orders.held_for_customer(account.customer_id)
    for order in held:
        if order.keep_for_a_person(raised_by):
            uow.orders.save(order)
    if account.blocked or account.is_overdue_blocked():
        return []
    released: list[Order] = []
    today = ctx.today(at)
    for order in held:
        if not order.releasable_automatically:
            continue
        check = account.check(order.total, ctx.config.credit_policy, today)
        if not check.approved:
            continue
        account.reserve(order.id, order.total, at)
        order.release(approver, AUTO_RELEASE_NOTE, Money.zero(order.currency), at, by_system=True)
        count_order(ctx, uow, order)
        uow.orders.save(order)
        released.append(order)
    return released


#: A change of an account's terms at a moment: applied by the account, which records (and returns) the event
#: saying what changed — the limit history is kept from it.
CreditChange = Callable[[CreditAccount, datetime], CreditLimitChanged]


def limit_change(new_limit: Money, *, by: str, reason: str) -> CreditChange:
    """Set the base credit limit."""
    return lambda account, at: account.set_limit(new_limit, by=by, reason=reason, at=at)


def tolerance_change(pct: str, *, by: str, reason: str) -> CreditChange:
    """Set the tolerance over the limit, in percent."""
    return lambda account, at: account.set_tolerance(pct, by=by, reason=reason, at=at)


def overdue_block_change(days: int | None, *, by: str, reason: str) -> CreditChange:
    """Set the overdue block (days; None: none)."""
    return lambda account, at: account.set_overdue_block(days, by=by, reason=reason, at=at)


@attrs.frozen(kw_only=True)
class TermRequest:
    """What a credit-term change request asks for: its kind and the kind's payload (see `CreditLimitRequest`)."""

    kind: TermKind
    new_limit: Money | None = None
    valid_until: date | None = None
    tolerance_pct: Decimal | None = None
    overdue_block_days: int | None = None


def apply_request(
    account: CreditAccount, request: CreditLimitRequest, approval: Approval, at: datetime
) -> CreditLimitChanged:
    """Apply an approved request to `account`, by its approver, for the request's reason."""
    by, reason = approval.approved_by, request.reason
    match request.kind:
        case TermKind.LIMIT:
            assert request.new_limit is not None
            return account.set_limit(request.new_limit, by=by, reason=reason, at=at, approval=approval)
        case TermKind.TEMPORARY_LIMIT:
            return account.set_temporary_limit(
                request.new_limit, request.valid_until, by=by, reason=reason, at=at, approval=approval
            )
        case TermKind.TOLERANCE:
            assert request.tolerance_pct is not None
            return account.set_tolerance(request.tolerance_pct, by=by, reason=reason, at=at, approval=approval)
        case TermKind.UNBLOCK:
            return account.unblock(by=by, reason=reason, at=at, approval=approval)
        case TermKind.POLICY:
            return account.set_overdue_block(request.overdue_block_days, by=by, reason=reason, at=at, approval=approval)


class CreditService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def position(self, actor: Actor, customer_id: str) -> CreditPosition:
        actor.require(Permission.CREDIT_READ)

        def step(uow: UnitOfWork) -> CreditPosition:
            customer_in_scope(uow, actor, customer_id)
            return position_of(self._ctx, account_of(uow, customer_id))

        return self._ctx.read(step)

    # --- credit-term change requests (four eyes) --------------------------------------------------------------

    def request_limit_change(self, actor: Actor, customer_id: str, new_limit: Money, reason: str) -> CreditLimitRequest:
        """Ask for a new base limit (a `limit` request)."""
        return self.request_term_change(
            actor, customer_id, TermRequest(kind=TermKind.LIMIT, new_limit=new_limit), reason
        )

    def request_term_change(
        self, actor: Actor, customer_id: str, change: TermRequest, reason: str
    ) -> CreditLimitRequest:
        """Ask for a change of the credit terms; someone else with `credit_limit:approve` decides. Checked against
        the bounds now and again when approved."""
        actor.require(Permission.CREDIT_LIMIT_REQUEST)

        def step(uow: UnitOfWork) -> CreditLimitRequest:
            customer_in_scope(uow, actor, customer_id)
            account = account_of(uow, customer_id)
            now = self._ctx.now()
            request = CreditLimitRequest(
                id=self._ctx.ids.new_id(),
                customer_id=customer_id,
                current_limit=account.money(account.limit),
                kind=change.kind,
                new_limit=change.new_limit,
                valid_until=change.valid_until,
                tolerance_pct=change.tolerance_pct,
                overdue_block_days=change.overdue_block_days,
                reason=reason,
                requested_by=actor.id,
                requested_at=now,
            )
            request.check_bounds(self._ctx.config.credit_bounds, self._ctx.today(now))
            uow.limit_requests.add(request)
            self._ctx.publish(
                uow,
                [
                    CreditLimitRequested(
                        occurred_at=now,
                        request_id=request.id,
                        customer_id=customer_id,
                        new_limit=request.new_limit or request.current_limit,
                        requested_by=actor.id,
                        kind=request.kind.value,
                    )
                ],
            )
            return request

        return self._ctx.write(step)

    def approve_request(self, actor: Actor, request_id: str, note: str = "") -> CreditLimitRequest:
        return self._decide(actor, request_id, LimitRequestStatus.APPROVED, note)

    def reject_request(self, actor: Actor, request_id: str, note: str = "") -> CreditLimitRequest:
        return self._decide(actor, request_id, LimitRequestStatus.REJECTED, note)

    def _decide(self, actor: Actor, request_id: str, status: LimitRequestStatus, note: str) -> CreditLimitRequest:
        actor.require(Permission.CREDIT_LIMIT_APPROVE)

        def step(uow: UnitOfWork) -> CreditLimitRequest:
            request = uow.limit_requests.get(request_id)
            if request is None:
                raise EntityNotFound("credit-limit request", request_id)
            customer_in_scope(uow, actor, request.customer_id)
            now = self._ctx.now()
            approval = request.decide(actor.id, status, note, now)
            uow.limit_requests.save(request)
            if approval is not None:
                request.check_bounds(self._ctx.config.credit_bounds, self._ctx.today(now))
                account = account_of(uow, request.customer_id)
                change = apply_request(account, request, approval, now)
                self._record(uow, account, change, request_id=request.id, approval=approval, approver=actor)
            self._ctx.publish(
                uow,
                [
                    CreditLimitRequestDecided(
                        occurred_at=now,
                        request_id=request.id,
                        customer_id=request.customer_id,
                        status=status.value,
                        decided_by=actor.id,
                    )
                ],
            )
            return request

        return self._ctx.write(step)

    def list_requests(
        self,
        actor: Actor,
        page: PageRequest,
        status: LimitRequestStatus | None = None,
        *,
        updated_since: datetime | None = None,
    ) -> Page[CreditLimitRequest]:
        """Requests of customers in scope, newest first; only those asked or decided at or after
        `updated_since` when given."""
        if not actor.can(Permission.CREDIT_LIMIT_APPROVE):
            actor.require(Permission.CREDIT_LIMIT_REQUEST)

        def step(uow: UnitOfWork) -> Page[CreditLimitRequest]:
            ids = uow.customers.ids_in_scope(scope_of(uow, actor))
            return uow.limit_requests.page(page, status=status, customer_ids=ids, updated_since=updated_since)

        return self._ctx.read(step)

    def get_request(self, actor: Actor, request_id: str) -> CreditLimitRequest:
        if not actor.can(Permission.CREDIT_LIMIT_APPROVE):
            actor.require(Permission.CREDIT_LIMIT_REQUEST)

        def step(uow: UnitOfWork) -> CreditLimitRequest:
            request = uow.limit_requests.get(request_id)
            if request is None:
                raise EntityNotFound("credit-limit request", request_id)
            customer_in_scope(uow, actor, request.customer_id)
            return request

        return self._ctx.read(step)

    # --- direct changes (approvers and admins) --------------------------------------------------------------

    def set_limit(self, actor: Actor, customer_id: str, new_limit: Money, reason: str) -> CreditPosition:
        """Change a limit without a request: administrators only (imports, corrections)."""
        actor.require(Permission.CREDIT_LIMIT_SET)

        return self._change(actor, customer_id, limit_change(new_limit, by=actor.id, reason=reason))

    def set_temporary_limit(
        self, actor: Actor, customer_id: str, amount: Money | None, until: date | None, reason: str
    ) -> CreditPosition:
        actor.require(Permission.CREDIT_LIMIT_APPROVE)

        return self._change(
            actor,
            customer_id,
            lambda account, now: account.set_temporary_limit(amount, until, by=actor.id, reason=reason, at=now),
        )

    def set_tolerance(self, actor: Actor, customer_id: str, pct: str, reason: str) -> CreditPosition:
        actor.require(Permission.CREDIT_LIMIT_APPROVE)

        return self._change(actor, customer_id, tolerance_change(pct, by=actor.id, reason=reason))

    def set_overdue_block(self, actor: Actor, customer_id: str, days: int | None, reason: str) -> CreditPosition:
        actor.require(Permission.CREDIT_LIMIT_APPROVE)

        return self._change(actor, customer_id, overdue_block_change(days, by=actor.id, reason=reason))

    def block(self, actor: Actor, customer_id: str, reason: str) -> CreditPosition:
        actor.require(Permission.CREDIT_LIMIT_APPROVE)

        return self._change(actor, customer_id, lambda account, now: account.block(reason, by=actor.id, at=now))

    def unblock(self, actor: Actor, customer_id: str, reason: str) -> CreditPosition:
        actor.require(Permission.CREDIT_LIMIT_APPROVE)

        return self._change(
            actor, customer_id, lambda account, now: account.unblock(by=actor.id, reason=reason, at=now)
        )

    def update_balance(
        self, customer_id: str, receivables: Money, overdue_days: int, actor: Actor = SYSTEM
    ) -> CreditPosition:
        """The ERP's receivables and overdue days (sync or ERP event); may release holds."""
        actor.require(Permission.CREDIT_LIMIT_APPROVE)

        def step(uow: UnitOfWork) -> CreditPosition:
            account = account_of(uow, customer_id)
            now = self._ctx.now()
            account.update_balance(receivables, overdue_days, now)
            reevaluate_holds(self._ctx, uow, account, now)
            uow.credit.save(account)
            return position_of(self._ctx, account)

        return self._ctx.write(step)

    def limit_history(self, actor: Actor, customer_id: str) -> list[LimitChange]:
        actor.require(Permission.CREDIT_READ)

        def step(uow: UnitOfWork) -> list[LimitChange]:
            customer_in_scope(uow, actor, customer_id)
            return uow.limit_history.list_for(customer_id)

        return self._ctx.read(step)

    def reevaluate(self, customer_id: str) -> list[Order]:
        """Release whatever fits now (a sweep for time-driven changes, e.g. a temporary limit's start)."""

        def step(uow: UnitOfWork) -> list[Order]:
            account = account_of(uow, customer_id)
            released = reevaluate_holds(self._ctx, uow, account, self._ctx.now())
            if released:
                uow.credit.save(account)
            return released

        return self._ctx.write(step)

    # --- shared -----------------------------------------------------------------------------------------

    def _change(self, actor: Actor, customer_id: str, change: CreditChange) -> CreditPosition:
        def step(uow: UnitOfWork) -> CreditPosition:
            customer_in_scope(uow, actor, customer_id)
            return self.change_in(uow, account_of(uow, customer_id), change)

        return self._ctx.write(step)

    def change_in(self, uow: UnitOfWork, account: CreditAccount, change: CreditChange) -> CreditPosition:
        """Apply `change` in the caller's unit of work: kept in the limit history, holds that fit released, the
        account saved (and its event written with it). The caller has checked the actor's permission and scope."""
        self._record(uow, account, change(account, self._ctx.now()), request_id=None)
        return position_of(self._ctx, account)

    def _record(
        self,
        uow: UnitOfWork,
        account: CreditAccount,
        change: CreditLimitChanged,
        *,
        request_id: str | None,
        approval: Approval | None = None,
        approver: Actor = SYSTEM,
    ) -> None:
        """Keep the change the account recorded in the limit history, release holds that fit now, save the account
        (its unit of work writes the recorded event to the outbox)."""
        uow.limit_history.add(
            LimitChange(
                id=self._ctx.ids.new_id(),
                customer_id=account.customer_id,
                kind=change.kind,
                old=change.old,
                new=change.new,
                changed_by=change.changed_by,
                at=change.occurred_at,
                reason=change.reason,
                request_id=request_id,
            )
        )
        reevaluate_holds(self._ctx, uow, account, change.occurred_at, approval, approver)
        uow.credit.save(account)
