"""Property tests of the credit rules of SPEC §2.3 over random operation sequences (hypothesis state machine)
on one or two customers, under each choice of which exposure parts count.

The machine submits (amounts, shares of the room left, exactly the room left and a paisa more), cancels,
releases and rejects holds, moves orders through the ERP to invoiced, changes limits through approved requests,
sets temporary limits and tolerances, blocks and unblocks, updates receivables and overdue days, makes exactly
the room one held order needs, and lets days pass. It checks every verdict against an independent model, and:

- exposure is never negative, and equals receivables + the counted reservations;
- the open-order part equals the reservations of the orders that are submitted, confirmed or dispatched;
- every reservation made by a submit (not by a release) left exposure within the effective limit plus
  tolerance at that moment, and so did every release the system made when re-evaluating holds, which happens
  in hold order, skipping what does not fit;
- submit-then-cancel restores the available credit exactly;
- no held order is left on hold while it would fit (unless its customer is blocked or overdue-blocked, or the
  order waits for a person because its creator asked for or approved a raise while it was held);
- credit governance (SPEC §2.3): no order leaves hold by the act of its own creator alone. Orders are created by
  a rep, a manager and an admin; raises are asked for and approved by random people (the admin and the manager
  create orders and ask; the admin and two credit controllers approve), and asking and approving alike is refused;
  a direct change that would raise is refused and changes nothing, one that lowers releases nothing; a manual
  release is by someone other than the creator; an automatic release after an approved raise is on the
  approver's behalf and never of an order whose creator asked for or approved it (nor later, by the system).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from adapters.system import FixedClock
from crm_domain.config import DomainConfig
from crm_domain.credit import CreditAccount, CreditPolicy, HoldReason, ReservationStage
from crm_domain.credit_governance import TermKind
from crm_domain.errors import CreditRaiseNeedsApproval, FourEyesViolation
from crm_domain.money import Money
from crm_domain.orders import RESERVING, LineRequest, Order, OrderStatus
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.credit import AUTO_RELEASE_NOTE, TermRequest
from crm_domain.services.customers import NewCustomer
from crm_domain.services.erp_events import PROGRESS
from crm_domain.services.orders import NewOrder
from crm_domain.services.users import NewUser
from crm_domain.users import Actor, Role
from tests.unit.world import erp_reports, new_crm

S = OrderStatus
RUPEE = 100

# order totals in paise: anything from a paisa to 15,000 rupees, plus round figures that meet the limits
amounts = st.one_of(
    st.integers(min_value=1, max_value=1_500_000),
    st.sampled_from([100_000, 250_000, 500_000, 1_000_000]),
)
limits = st.sampled_from([1_000_000, 2_000_000, 0, 100_000, 500_000]) | st.integers(0, 3_000_000)
tolerances = st.sampled_from(["0", "0", "5", "10", "12.5"])
picks = st.integers(min_value=0, max_value=10_000)
customers = st.sampled_from([0, 1])
hold_choices = st.sampled_from(["newest", "smallest", "any"])
creators = st.sampled_from(["rep", "rep", "manager", "admin"])
askers = st.sampled_from(["manager", "admin", "controller"])
approvers = st.sampled_from(["controller", "controller2", "admin"])


def inr(minor: int) -> Money:
    return Money(minor, "INR")


#: Which exposure parts count: everything (the default) most of the time, each part left out sometimes.
policies = st.sampled_from(
    [
        CreditPolicy(),
        CreditPolicy(),
        CreditPolicy(),
        CreditPolicy(count_dispatched=False),
        CreditPolicy(count_receivables=False),
        CreditPolicy(count_open_orders=False),
    ]
)


class CreditMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock()
        self.policy = CreditPolicy()
        self.customer_ids: list[str] = []
        self.status: dict[str, OrderStatus] = {}
        self.owner: dict[str, str] = {}
        self.total: dict[str, int] = {}
        self.creator: dict[str, str] = {}  # order id -> who created it
        self.waits_for_a_person: set[str] = set()  # held orders whose creator asked for or approved a raise
        self.released_by_act: dict[str, frozenset[str]] = {}  # order id -> the people whose act released it

    def _open_shop(self, policy: CreditPolicy) -> None:
        self.policy = policy
        self.crm = new_crm(self.clock, DomainConfig(credit_policy=policy))
        self.admin = self.crm.users.create_admin("+919876499999", "Asha Admin").actor()
        self.manager = self._user(1, Role.SALES_MANAGER)
        self.rep = self._user(2, Role.SALES_REP, manager=self.manager)
        self.controller = self._user(3, Role.CREDIT_CONTROLLER)
        self.controller2 = self._user(4, Role.CREDIT_CONTROLLER)
        self.crm.catalogue.create(
            self.admin,
            NewProduct(sku="AMT", name="One rupee", unit_price=Money(RUPEE, "INR"), min_order_qty=Decimal("0.01")),
        )

    def _user(self, n: int, role: Role, manager: Actor | None = None) -> Actor:
        new = NewUser(
            mobile=f"+91987650000{n}",
            name=f"{role} {n}",
            roles=frozenset({role}),
            manager_id=manager.id if manager else None,
        )
        return self.crm.users.create(self.admin, new).actor()

    # --- reading -----------------------------------------------------------------------------------------

    def account(self, customer_id: str) -> CreditAccount:
        with self.crm.ctx.uow(read_only=True) as uow:
            account = uow.credit.get(customer_id)
        assert account is not None
        return account

    def stored_orders(self) -> list[Order]:
        with self.crm.ctx.uow(read_only=True) as uow:
            page = uow.orders.page(PageRequest(limit=200), OrderQuery())
        assert page.next_cursor is None
        return page.items

    # The model: SPEC §2.3 computed from the account's stored figures, independently of its methods.

    def temporary_limit_applies(self, account: CreditAccount) -> bool:
        """A temporary limit is valid through its valid-until date, in the company time zone."""
        today = self.clock.now().astimezone(ZoneInfo("Asia/Kolkata")).date()
        until = account.temp_limit_until
        return account.temp_limit is not None and until is not None and today <= until

    def limit(self, account: CreditAccount) -> int:
        if self.temporary_limit_applies(account):
            assert account.temp_limit is not None
            return account.temp_limit
        return account.limit

    def ceiling(self, account: CreditAccount) -> int:
        """limit × (1 + tolerance/100), half-up to the paisa: the most exposure a submit may reach."""
        scaled = Decimal(self.limit(account)) * (1 + account.tolerance_pct / 100)
        return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def exposure(self, account: CreditAccount) -> int:
        policy, reservations = self.policy, account.reservations.values()
        return (
            (max(account.receivables, 0) if policy.count_receivables else 0)
            + sum(r.amount for r in reservations if r.stage is ReservationStage.OPEN and policy.count_open_orders)
            + sum(r.amount for r in reservations if r.stage is ReservationStage.DISPATCHED and policy.count_dispatched)
        )

    def blocked(self, account: CreditAccount) -> bool:
        overdue_block = account.overdue_block_days
        return account.blocked or (overdue_block is not None and account.overdue_days > overdue_block)

    def orders_in(self, *statuses: OrderStatus) -> list[str]:
        return [order_id for order_id, status in self.status.items() if status in statuses]

    def pick(self, candidates: list[str], index: int) -> str:
        return candidates[index % len(candidates)]

    def person(self, name: str) -> Actor:
        return getattr(self, name)  # type: ignore[no-any-return]

    def observe(
        self,
        change: Callable[[], object],
        raised_by: tuple[str, str] | None = None,
        *,
        lowers: bool = False,
        customer_id: str | None = None,
    ) -> None:
        """Run `change`, then replay the hold re-evaluation it caused: walking the customer's holds in hold
        order, each order released automatically must have fitted at its turn, and each left on hold must not
        (unless it waits for a person). `raised_by`: the change is a raise asked for and approved by those two
        (the release is on the approver's behalf, never of their orders — the orders of `customer_id`, the customer
        whose terms were raised: another customer's holds are not that change's to release); `lowers`: a direct
        change, which may release nothing."""
        held_before = set(self.orders_in(S.ON_CREDIT_HOLD))
        if raised_by is not None:
            self.waits_for_a_person |= {
                o for o in held_before if self.creator[o] in raised_by and self.owner[o] == customer_id
            }
        change()
        orders = self.sync()
        for customer_id in self.customer_ids:
            account = self.account(customer_id)
            holds = sorted(
                (o for o in orders if o.id in held_before and o.customer_id == customer_id),
                key=lambda o: (o.held_at, o.number),
            )
            released = [o for o in holds if o.status is S.SUBMITTED and o.history[-1].note == AUTO_RELEASE_NOTE]
            if released:
                event("a hold was released automatically")
            for order in released:
                assert not lowers, f"{order.number} was released by a direct change"
                assert order.id not in self.waits_for_a_person, f"{order.number} waits for a person"
                on_behalf = "system" if raised_by is None else raised_by[1]
                assert order.history[-1].actor_id == on_behalf
                self.released_by_act[order.id] = frozenset(raised_by or {"system"})
            if self.blocked(account):
                assert not released
                continue
            counted = 1 if self.policy.count_open_orders else 0  # what a new reservation adds to exposure
            exposure = self.exposure(account) - counted * sum(o.total.minor for o in released)
            for order in holds:
                fits = exposure + order.total.minor <= self.ceiling(account)
                if order.id in self.waits_for_a_person:
                    assert order.status is not S.SUBMITTED or order not in released
                    continue
                if order in released:
                    assert fits, f"{order.number} was released but did not fit"
                    assert not account.reservations[order.id].by_release
                    exposure += counted * order.total.minor
                elif order.status is S.ON_CREDIT_HOLD:
                    assert not fits, f"{order.number} fitted at its turn but was left on hold"
            assert exposure == self.exposure(account)

    def sync(self) -> list[Order]:
        orders = self.stored_orders()
        for order in orders:
            self.status[order.id] = order.status
        return orders

    # --- set-up ------------------------------------------------------------------------------------------

    @initialize(
        policy=policies,
        count=st.sampled_from([1, 2]),
        limit_a=limits,
        limit_b=limits,
        tolerance=tolerances,
        overdue_block=st.sampled_from([None, 30]),
    )
    def open_customers(
        self, policy: CreditPolicy, count: int, limit_a: int, limit_b: int, tolerance: str, overdue_block: int | None
    ) -> None:
        self._open_shop(policy)
        for n, limit in enumerate([limit_a, limit_b][:count]):
            customer = self.crm.customers.create(
                self.admin,
                NewCustomer(
                    code=f"D{n}",
                    name=f"Dealer {n}",
                    mobile=f"+91976540000{n}",
                    credit_limit=inr(limit),
                    assigned_rep_id=self.rep.id,
                    tolerance_pct=Decimal(tolerance),
                    overdue_block_days=overdue_block,
                ),
            ).customer
            self.customer_ids.append(customer.id)

    def customer(self, index: int) -> str:
        return self.customer_ids[index % len(self.customer_ids)]

    # --- orders ------------------------------------------------------------------------------------------

    def _submit(self, customer_id: str, amount: int, by: str = "rep") -> Order:
        quantity = Decimal(amount).scaleb(-2)
        order = self.crm.orders.create(
            self.person(by),
            NewOrder(customer_id=customer_id, lines=(LineRequest(sku="AMT", quantity=quantity),), submit=True),
        )
        self.status[order.id] = order.status
        self.owner[order.id] = customer_id
        self.total[order.id] = amount
        self.creator[order.id] = self.person(by).id
        return order

    @rule(
        which=customers,
        batch=st.lists(st.tuples(amounts, st.none() | st.integers(min_value=1, max_value=150)), min_size=1, max_size=3),
        by=creators,
    )
    def submit(self, which: int, batch: list[tuple[int, int | None]], by: str) -> None:
        """Submit one to three orders, each of an amount or of a share (percent) of what still fits."""
        for amount, share_of_room in batch:
            self._submit_checked(self.customer(which), amount, share_of_room, by)

    def _submit_checked(self, customer_id: str, amount: int, share_of_room: int | None, by: str = "rep") -> None:
        """Submit and compare the verdict with the model: held when blocked or when exposure + total would pass
        the ceiling (with the exact shortfall), else reserved with exposure still within the ceiling."""
        before = self.account(customer_id)
        exposure_before = self.exposure(before)
        room = self.ceiling(before) - exposure_before
        if share_of_room is not None and room > 0:
            amount = max(room * share_of_room // 100, 1)

        order = self._submit(customer_id, amount, by)

        after = self.account(customer_id)
        blocked = self.blocked(before)
        fits = exposure_before + amount <= self.ceiling(before)
        assert order.total == inr(amount)
        event(f"submit: {order.status}")
        if blocked or not fits:
            assert order.status is S.ON_CREDIT_HOLD
            assert order.credit is not None
            expected = (
                HoldReason.CUSTOMER_BLOCKED
                if before.blocked
                else HoldReason.OVERDUE
                if blocked
                else HoldReason.LIMIT_EXCEEDED
            )
            assert order.credit.reason is expected
            if not blocked:
                assert order.credit.shortfall == inr(exposure_before + amount - self.ceiling(before))
            assert after.reservations == before.reservations
        else:
            assert order.status is S.SUBMITTED
            assert not after.reservations[order.id].by_release
            assert after.reserved == before.reserved + amount
            assert self.exposure(after) <= self.ceiling(after)  # the reservation stayed within the limit

    @rule(which=customers, paise_over=st.sampled_from([0, 0, 1]))
    def submit_what_is_left(self, which: int, paise_over: int) -> None:
        """Boundary: exactly the room left under the ceiling passes; one paisa more is held."""
        customer_id = self.customer(which)
        account = self.account(customer_id)
        room = self.ceiling(account) - self.exposure(account)
        if room + paise_over < 1 or self.blocked(account):
            return
        order = self._submit(customer_id, room + paise_over)
        assert order.status is (S.SUBMITTED if paise_over == 0 else S.ON_CREDIT_HOLD)

    @rule(which=customers, amount=amounts)
    def submit_then_cancel_restores_available_credit(self, which: int, amount: int) -> None:
        customer_id = self.customer(which)
        before = self.account(customer_id)
        statuses = dict(self.status)
        order = self._submit(customer_id, amount)
        self.crm.orders.cancel(self.rep, order.id, "changed their mind")
        self.status[order.id] = S.CANCELLED
        after = self.account(customer_id)
        today = self.crm.ctx.today()
        assert after.available(self.policy, today) == before.available(self.policy, today)
        assert self.limit(after) - self.exposure(after) == self.limit(before) - self.exposure(before)
        assert after.reservations == before.reservations
        self.sync()
        assert {k: v for k, v in self.status.items() if k != order.id} == statuses

    @precondition(lambda self: self.orders_in(S.SUBMITTED, S.CONFIRMED, S.ON_CREDIT_HOLD))
    @rule(index=picks)
    def cancel(self, index: int) -> None:
        order_id = self.pick(self.orders_in(S.SUBMITTED, S.CONFIRMED, S.ON_CREDIT_HOLD), index)
        reserved_before = self.account(self.owner[order_id]).reserved
        was_reserving = self.status[order_id] in RESERVING
        self.observe(lambda: self.crm.orders.cancel(self.rep, order_id, "cancelled"))
        assert self.status[order_id] is S.CANCELLED
        assert order_id not in self.account(self.owner[order_id]).reservations
        if not was_reserving:
            assert self.account(self.owner[order_id]).reserved == reserved_before

    @precondition(lambda self: self.orders_in(S.ON_CREDIT_HOLD))
    @rule(index=picks, release=st.booleans(), by=approvers)
    def decide_hold(self, index: int, release: bool, by: str) -> None:
        """A credit controller (or the admin) releases a hold (reserved whatever the limit) or rejects it (nothing
        reserved); releasing one's own order is refused."""
        order_id = self.pick(self.orders_in(S.ON_CREDIT_HOLD), index)
        before = self.account(self.owner[order_id])
        releaser = self.person(by)
        if release and releaser.id == self.creator[order_id]:
            with pytest.raises(FourEyesViolation):
                self.crm.orders.release(releaser, order_id, "my own")
            assert self.account(self.owner[order_id]) == before
            return
        if release:
            order = self.crm.orders.release(releaser, order_id, "override")
            self.released_by_act[order_id] = frozenset({releaser.id})
        else:
            order = self.crm.orders.reject(self.controller, order_id, "too risky")
        self.status[order_id] = order.status
        after = self.account(self.owner[order_id])
        if release:
            assert order.status is S.SUBMITTED
            assert after.reservations[order_id].by_release
            assert after.reserved == before.reserved + self.total[order_id]
        else:
            assert order.status is S.REJECTED
            assert after.reservations == before.reservations

    @precondition(lambda self: self.orders_in(S.SUBMITTED, S.CONFIRMED, S.DISPATCHED))
    @rule(index=picks, to_invoice=st.booleans())
    def erp_progress(self, index: int, to_invoice: bool) -> None:
        """The ERP moves an order one step (confirmed, dispatched, invoiced), or a submitted one all the way to
        invoiced, through the one ERP-progress rule; invoicing moves the order's reservation to the receivables."""
        submitted = self.orders_in(S.SUBMITTED)
        if to_invoice and submitted:
            order_id, target = self.pick(submitted, index), S.INVOICED
        else:
            order_id = self.pick(self.orders_in(S.SUBMITTED, S.CONFIRMED, S.DISPATCHED), index)
            target = (
                PROGRESS[PROGRESS.index(self.status[order_id]) + 1]
                if self.status[order_id] in PROGRESS
                else S.CONFIRMED
            )
        customer_id = self.owner[order_id]
        receivables = self.account(customer_id).receivables
        reserved = self.account(customer_id).reservations[order_id].amount
        self.observe(lambda: erp_reports(self.crm, order_id, target, erp_order_id=f"E-{order_id}"))
        assert self.status[order_id] is target
        after = self.account(customer_id)
        if target is S.INVOICED:
            assert order_id not in after.reservations
            assert after.receivables == receivables + reserved  # still owed: exposure moves, it does not fall
        else:
            assert after.receivables == receivables

    def choose_hold(self, index: int, choice: str) -> str:
        """A held order of some customer: any of them, that customer's newest hold, or its smallest one (room
        made for a later or smaller hold shows whether earlier holds are considered first and skipped past)."""
        held = self.orders_in(S.ON_CREDIT_HOLD)
        customer_id = self.owner[self.pick(held, index)]
        mine = [order_id for order_id in held if self.owner[order_id] == customer_id]  # in submit order
        if choice == "newest":
            return mine[-1]
        if choice == "smallest":
            return min(reversed(mine), key=lambda order_id: self.total[order_id])
        return self.pick(mine, index)

    @precondition(lambda self: self.orders_in(S.ON_CREDIT_HOLD))
    @rule(index=picks, choice=hold_choices, short_by=st.sampled_from([0, 0, 1]), by_payment=st.booleans())
    def make_room_for(self, index: int, choice: str, short_by: int, by_payment: bool) -> None:
        """Make exactly the room one held order needs (or a paisa less): by raising the limit through an approved
        request, or by a payment that lowers the receivables (as far as they go)."""
        order_id = self.choose_hold(index, choice)
        customer_id = self.owner[order_id]
        account = self.account(customer_id)
        needed = self.exposure(account) + self.total[order_id]
        if by_payment:
            excess = needed - self.ceiling(account)
            remaining = max(max(account.receivables, 0) - excess + short_by, 0)
            self.observe(lambda: self.crm.credit.update_balance(customer_id, inr(remaining), account.overdue_days))
            return
        if self.temporary_limit_applies(account):
            return  # the base limit does not matter now
        factor = 1 + account.tolerance_pct / 100
        fitting = max(int((Decimal(needed) / factor).to_integral_value(rounding=ROUND_FLOOR)) - 2, 0)
        while self.ceiling(attrs.evolve(account, limit=fitting)) < needed:
            fitting += 1  # the smallest limit whose ceiling lets the order in
        new_limit = fitting - short_by
        if new_limit <= account.limit:
            return
        self._raise(customer_id, TermRequest(kind=TermKind.LIMIT, new_limit=inr(new_limit)), "manager", "controller")

    # --- credit terms ------------------------------------------------------------------------------------

    def _raise(self, customer_id: str, change: TermRequest, asker: str, approver: str) -> bool:
        """Ask for `change` as `asker` and have `approver` decide: refused when they are one person (nothing
        changes, the request stays pending), else approved and observed. Answers whether it was applied."""
        request = self.crm.credit.request_term_change(self.person(asker), customer_id, change, "x")
        if self.person(asker).id == self.person(approver).id:
            before = self.account(customer_id)
            with pytest.raises(FourEyesViolation):
                self.crm.credit.approve_request(self.person(approver), request.id)
            assert self.account(customer_id) == before
            return False
        people = (self.person(asker).id, self.person(approver).id)
        self.observe(
            lambda: self.crm.credit.approve_request(self.person(approver), request.id), people, customer_id=customer_id
        )
        return True

    def _direct(self, customer_id: str, change: Callable[[], object]) -> bool:
        """A direct change of terms: a raise is refused and changes nothing; what is applied lowers credit and
        releases nothing. Answers whether it was applied."""
        before = self.account(customer_id)
        try:
            self.observe(change, lowers=True)
        except CreditRaiseNeedsApproval:
            event("a direct raise was refused")
            assert self.account(customer_id) == before
            return False
        return True

    @rule(which=customers, new_limit=limits, asker=askers, approver=approvers)
    def change_limit(self, which: int, new_limit: int, asker: str, approver: str) -> None:
        customer_id = self.customer(which)
        direct = lambda: self.crm.credit.set_limit(self.admin, customer_id, inr(new_limit), "review")  # noqa: E731
        if not self._direct(customer_id, direct):
            self._raise(customer_id, TermRequest(kind=TermKind.LIMIT, new_limit=inr(new_limit)), asker, approver)
        if self.person(asker).id != self.person(approver).id:
            assert self.account(customer_id).limit == new_limit

    @rule(
        which=customers,
        amount=limits,
        days=st.integers(min_value=0, max_value=20),
        clear=st.booleans(),
        asker=askers,
        approver=approvers,
        by=st.sampled_from(["controller", "admin"]),
    )
    def temporary_limit(
        self, which: int, amount: int, days: int, clear: bool, asker: str, approver: str, by: str
    ) -> None:
        customer_id = self.customer(which)
        value = None if clear else inr(amount)
        until = None if clear else self.crm.ctx.today() + timedelta(days=days)
        direct = lambda: self.crm.credit.set_temporary_limit(  # noqa: E731
            self.person(by), customer_id, value, until, "season"
        )
        if not self._direct(customer_id, direct):
            change = TermRequest(kind=TermKind.TEMPORARY_LIMIT, new_limit=value, valid_until=until)
            self._raise(customer_id, change, asker, approver)

    @rule(which=customers, tolerance=tolerances, asker=askers, approver=approvers)
    def tolerance(self, which: int, tolerance: str, asker: str, approver: str) -> None:
        customer_id = self.customer(which)
        direct = lambda: self.crm.credit.set_tolerance(self.controller, customer_id, tolerance, "x")  # noqa: E731
        if not self._direct(customer_id, direct):
            change = TermRequest(kind=TermKind.TOLERANCE, tolerance_pct=Decimal(tolerance))
            self._raise(customer_id, change, asker, approver)

    @rule(which=customers, blocked=st.booleans(), asker=askers, approver=approvers)
    def block_or_unblock(self, which: int, blocked: bool, asker: str, approver: str) -> None:
        customer_id = self.customer(which)
        if blocked:
            self.observe(lambda: self.crm.credit.block(self.controller, customer_id, "cheque bounced"), lowers=True)
        elif not self._direct(
            customer_id, lambda: self.crm.credit.unblock(self.admin, customer_id, "cleared")
        ) and not self._raise(customer_id, TermRequest(kind=TermKind.UNBLOCK), asker, approver):
            return
        assert self.account(customer_id).blocked is blocked

    @rule(
        which=customers,
        receivables=st.none() | st.integers(min_value=-500_000, max_value=2_500_000),
        paid_share=st.integers(min_value=1, max_value=100),
        overdue=st.sampled_from([0, 0, 10, 30, 31, 90]),
    )
    def balance_update(self, which: int, receivables: int | None, paid_share: int, overdue: int) -> None:
        """The ERP's receivables and overdue days: a new figure, or a payment of `paid_share` percent."""
        customer_id = self.customer(which)
        if receivables is None:
            current = self.account(customer_id).receivables
            receivables = current - current * paid_share // 100 if current > 0 else 0
        self.observe(lambda: self.crm.credit.update_balance(customer_id, inr(receivables), overdue))
        assert self.account(customer_id).receivables == receivables

    @rule(days=st.integers(min_value=1, max_value=10))
    def time_passes(self, days: int) -> None:
        """Days go by (temporary limits lapse); the sweep re-evaluates every customer's holds."""
        self.clock.advance(timedelta(days=days))

        def sweep() -> None:
            for customer_id in self.customer_ids:
                self.crm.credit.reevaluate(customer_id)

        self.observe(sweep)

    # --- invariants --------------------------------------------------------------------------------------

    @invariant()
    def credit_is_consistent(self) -> None:
        orders = self.sync()
        today = self.crm.ctx.today()
        for customer_id in self.customer_ids:
            account = self.account(customer_id)
            mine = [o for o in orders if o.customer_id == customer_id]
            reserving = {o.id: o.total.minor for o in mine if o.status in RESERVING}

            # exposure is never negative, and is what the model says it is
            assert account.exposure(self.policy) == self.exposure(account) >= 0
            assert account.available(self.policy, today) == self.limit(account) - self.exposure(account)
            # the open-order part is exactly the reservations of the submitted, confirmed and dispatched orders
            assert {k: r.amount for k, r in account.reservations.items()} == reserving
            assert account.open_orders + account.dispatched == sum(reserving.values())
            for order in mine:
                if order.status in RESERVING:
                    stage = ReservationStage.DISPATCHED if order.status is S.DISPATCHED else ReservationStage.OPEN
                    assert account.reservations[order.id].stage is stage
            # no held order is left on hold while it would fit (unless it waits for a person)
            if not self.blocked(account):
                for order in mine:
                    if order.status is S.ON_CREDIT_HOLD and order.id not in self.waits_for_a_person:
                        fits = self.exposure(account) + order.total.minor <= self.ceiling(account)
                        assert not fits, f"{order.number} is held but fits"

    @invariant()
    def no_order_leaves_hold_by_the_act_of_its_own_creator_alone(self) -> None:
        """SPEC §2.3 credit governance: whoever released an order from hold (by hand, or by asking for or
        approving the raise the automatic release followed) is not its creator; and the store's record agrees."""
        for order in self.stored_orders():
            releases = [h for h in order.history if (h.from_status, h.to_status) == (S.ON_CREDIT_HOLD, S.SUBMITTED)]
            if not releases:
                continue
            assert order.created_by == self.creator[order.id]
            assert order.created_by not in self.released_by_act[order.id], f"{order.number} released by its creator"
            assert releases[-1].actor_id != order.created_by


MACHINE_SETTINGS = settings(
    max_examples=300,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


TestCreditInvariants = CreditMachine.TestCase
TestCreditInvariants.settings = MACHINE_SETTINGS
# A failure is shrunk for up to five minutes (hypothesis's own limit); let that finish and report the case.
TestCreditInvariants.pytestmark = [pytest.mark.timeout(600)]
