"""A small, realistic world for unit tests: people in every role, dealers assigned to reps, a catalogue.

    head (sales_manager)
    ├── manager (sales_manager)
    │   ├── rep   ── customer  "D-RAVI"   (and its dealer user `dealer`)
    │   └── rep2  ── customer2 "D-REKHA"
    └── (nothing else)
    other_manager (sales_manager)
    └── other_rep ── outsider  "D-OMAR"

Plus an admin, two credit controllers and a call-center agent who see every customer. Tests drive the real
use cases of `Crm` on the in-memory store; nothing here reaches into the store behind their back except the
read-only `outbox()`, `orders()` and `account()` views used for assertions.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs

from adapters.memory import MemoryStore
from adapters.phones import PhonenumbersNormaliser
from adapters.system import FixedClock, SequentialIds
from crm_domain.app import Crm
from crm_domain.config import DomainConfig
from crm_domain.credit import CreditAccount
from crm_domain.credit_governance import CreditLimitRequest, TermKind
from crm_domain.customers import Customer
from crm_domain.money import Money
from crm_domain.orders import LineRequest, Order, OrderStatus
from crm_domain.outbox import OutboxMessage
from crm_domain.ports import OrderQuery
from crm_domain.records import PageRequest
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.context import ServiceContext
from crm_domain.services.credit import TermRequest
from crm_domain.services.customers import NewCustomer
from crm_domain.services.erp_events import STATUS_TO_STATE, OrderStatusReport
from crm_domain.services.orders import NewOrder
from crm_domain.services.users import NewUser
from crm_domain.users import Actor, Role

INR = "INR"
#: A product at 1.00 without tax and a minimum of 0.01: an order of quantity q costs exactly q rupees.
AMOUNT_SKU = "AMT"
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def inr(amount: str | int) -> Money:
    return Money.of(amount, INR)


def new_crm(clock: FixedClock | None = None, config: DomainConfig | None = None) -> Crm:
    """A `Crm` on a fresh in-memory store (what the `crm` fixture builds, with an optional config); the store
    shares the clock, so idempotency records expire."""
    clock = clock or FixedClock()
    ids = SequentialIds()
    return Crm(
        ServiceContext(
            uow=MemoryStore(clock=clock, ids=ids),
            clock=clock,
            ids=ids,
            mobiles=PhonenumbersNormaliser(),
            config=config or DomainConfig(),
        )
    )


def erp_reports(
    crm: Crm,
    order_id: str,
    status: OrderStatus,
    *,
    erp_order_id: str | None = None,
    invoiced_amount: Money | None = None,
) -> Order:
    """The order's ERP reports it `status` (confirmed … delivered, or cancelled), applied by the one ERP-progress
    rule (`ErpEventService.apply_order_status`) as its webhook would be; the order afterwards. A submitted order
    is confirmed with `erp_order_id` (default `ERP-<number>`); invoicing takes `invoiced_amount` (default the
    total) into the receivables."""
    order, customer = crm.erp_events.order_by_reference(order_id)
    report = OrderStatusReport(
        erp_order_id=erp_order_id or order.erp_order_id or f"ERP-{order.number}",
        external_ref=order.id,
        state=STATUS_TO_STATE[status],
        invoiced_amount=invoiced_amount,
    )
    crm.erp_events.apply_order_status(customer.erp_system.value, report)
    return crm.erp_events.order_by_reference(order.id)[0]


@attrs.define
class World:
    crm: Crm
    clock: FixedClock
    admin: Actor
    head: Actor
    manager: Actor
    rep: Actor
    rep2: Actor
    other_manager: Actor
    other_rep: Actor
    controller: Actor
    controller2: Actor
    agent: Actor
    dealer: Actor
    customer: Customer
    customer2: Customer
    outsider: Customer
    _mobiles: itertools.count[int]
    _codes: itertools.count[int]

    # --- people and customers -----------------------------------------------------------------------------

    def user(
        self,
        *roles: Role,
        name: str | None = None,
        manager: Actor | None = None,
        customer: Customer | None = None,
    ) -> Actor:
        n = next(self._mobiles)
        return self.crm.users.create(
            self.admin,
            NewUser(
                mobile=f"+9198765{n:05d}",
                name=name or f"User {n}",
                roles=frozenset(roles),
                manager_id=manager.id if manager else None,
                customer_id=customer.id if customer else None,
            ),
        ).actor()

    def new_customer(
        self,
        rep: Actor | None = None,
        limit: str = "10000.00",
        *,
        currency: str = INR,
        tolerance_pct: str = "0",
        overdue_block_days: int | None = None,
        code: str | None = None,
    ) -> Customer:
        n = next(self._codes)
        return self.crm.customers.create(
            self.admin,
            NewCustomer(
                code=code or f"D-{n:03d}",
                name=f"Dealer {n}",
                mobile=f"+9197654{n:05d}",
                credit_limit=Money.of(limit, currency),
                assigned_rep_id=rep.id if rep else None,
                tolerance_pct=Decimal(tolerance_pct),
                overdue_block_days=overdue_block_days,
            ),
        ).customer

    # --- credit raises (four eyes, SPEC §2.3) ----------------------------------------------------------------

    def raise_credit(
        self,
        kind: TermKind | str,
        customer: Customer | None = None,
        *,
        requested_by: Actor | None = None,
        approved_by: Actor | None = None,
        reason: str = "x",
        **payload: Any,
    ) -> CreditLimitRequest:
        """A credit-term change request of `kind` with `payload` (`new_limit` as a str or Money, `valid_until`,
        `tolerance_pct`, `overdue_block_days`), asked by `requested_by` (the controller) and approved by
        `approved_by` (the second controller); the approved request."""
        if isinstance(payload.get("new_limit"), str):
            payload["new_limit"] = inr(payload["new_limit"])
        if "tolerance_pct" in payload:
            payload["tolerance_pct"] = Decimal(str(payload["tolerance_pct"]))
        request = self.crm.credit.request_term_change(
            requested_by or self.controller,
            (customer or self.customer).id,
            TermRequest(kind=TermKind(kind), **payload),
            reason,
        )
        return self.crm.credit.approve_request(approved_by or self.controller2, request.id)

    # --- orders -------------------------------------------------------------------------------------------

    def order(
        self,
        actor: Actor,
        customer: Customer,
        *lines: tuple[str, ...],
        submit: bool = True,
        key: str | None = None,
    ) -> Order:
        """An order of (sku, quantity[, discount_pct]) lines, submitted by default."""
        requests = tuple(
            LineRequest(sku=line[0], quantity=line[1], discount_pct=line[2] if len(line) > 2 else "0") for line in lines
        )
        return self.crm.orders.create(
            actor, NewOrder(customer_id=customer.id, lines=requests, submit=submit), idempotency_key=key
        )

    def order_of(self, amount: str, customer: Customer | None = None, actor: Actor | None = None) -> Order:
        """A submitted order whose total is exactly `amount` rupees (one line of the 1.00 product)."""
        return self.order(actor or self.rep, customer or self.customer, (AMOUNT_SKU, amount))

    def erp_reports(
        self,
        order: Order,
        status: OrderStatus,
        *,
        erp_order_id: str | None = None,
        invoiced_amount: Money | None = None,
    ) -> Order:
        """`erp_reports` on this world's `Crm`."""
        return erp_reports(self.crm, order.id, status, erp_order_id=erp_order_id, invoiced_amount=invoiced_amount)

    # --- read-only views for assertions -------------------------------------------------------------------

    def outbox(self) -> list[OutboxMessage]:
        with self.crm.ctx.uow(read_only=True) as uow:
            return uow.outbox.due(FAR_FUTURE, 1_000_000)

    def events(self) -> list[str]:
        """Event names in the outbox, oldest first."""
        return [m.event for m in sorted(self.outbox(), key=lambda m: (m.occurred_at, m.id))]

    def orders(self, customer: Customer | None = None) -> list[Order]:
        query = OrderQuery(customer_id=customer.id if customer else None)
        with self.crm.ctx.uow(read_only=True) as uow:
            return uow.orders.page(PageRequest(limit=200), query).items

    def account(self, customer: Customer | None = None) -> CreditAccount:
        with self.crm.ctx.uow(read_only=True) as uow:
            account = uow.credit.get((customer or self.customer).id)
        assert account is not None
        return account

    def available(self, customer: Customer | None = None) -> Money:
        return self.crm.credit.position(self.admin, (customer or self.customer).id).available

    def exposure(self, customer: Customer | None = None) -> Money:
        return self.crm.credit.position(self.admin, (customer or self.customer).id).exposure

    def snapshot(self) -> tuple[object, ...]:
        """Everything a failed use case must leave as it was: orders, credit accounts, outbox, limit history."""
        with self.crm.ctx.uow(read_only=True) as uow:
            accounts = uow.credit.list_all()
            requests = uow.limit_requests.page(PageRequest(limit=200)).items
        return (
            [(o.id, o.status, o.version) for o in self.orders()],
            [(a.customer_id, a.limit, a.temp_limit, a.blocked, a.receivables, dict(a.reservations)) for a in accounts],
            [m.id for m in self.outbox()],
            [(r.id, r.status) for r in requests],
        )


def build_world(crm: Crm, clock: FixedClock) -> World:
    mobiles = itertools.count(1)
    admin = crm.users.create_admin("+919876499999", "Asha Admin").actor()

    def user(*roles: Role, name: str, manager: Actor | None = None) -> Actor:
        n = next(mobiles)
        return crm.users.create(
            admin,
            NewUser(
                mobile=f"+9198765{n:05d}",
                name=name,
                roles=frozenset(roles),
                manager_id=manager.id if manager else None,
            ),
        ).actor()

    head = user(Role.SALES_MANAGER, name="Harish Head")
    manager = user(Role.SALES_MANAGER, name="Meera Manager", manager=head)
    rep = user(Role.SALES_REP, name="Ravi Rep", manager=manager)
    rep2 = user(Role.SALES_REP, name="Rekha Rep", manager=manager)
    other_manager = user(Role.SALES_MANAGER, name="Om Manager")
    other_rep = user(Role.SALES_REP, name="Omar Rep", manager=other_manager)
    controller = user(Role.CREDIT_CONTROLLER, name="Chitra Credit")
    controller2 = user(Role.CREDIT_CONTROLLER, name="Chetan Credit")
    agent = user(Role.CALL_CENTER_AGENT, name="Anil Agent")

    def customer(code: str, name: str, rep_id: str, n: int) -> Customer:
        return crm.customers.create(
            admin,
            NewCustomer(
                code=code,
                name=name,
                mobile=f"+919765400{n:03d}",
                credit_limit=inr("10000.00"),
                assigned_rep_id=rep_id,
                territory="Pune",
            ),
        ).customer

    first = customer("D-RAVI", "Ravi Traders", rep.id, 901)
    second = customer("D-REKHA", "Rekha Agencies", rep2.id, 902)
    outsider = customer("D-OMAR", "Omar Distributors", other_rep.id, 903)
    n = next(mobiles)
    dealer = crm.users.create(
        admin,
        NewUser(
            mobile=f"+9198765{n:05d}",
            name="Dev Dealer",
            roles=frozenset({Role.DEALER}),
            customer_id=first.id,
        ),
    ).actor()

    catalogue = [
        NewProduct(sku="PUMP", name="Pump", unit_price=inr("420.00"), tax_rate=Decimal("18.00")),
        NewProduct(sku="PIPE", name="Pipe", uom="M", unit_price=inr("99.50"), tax_rate=Decimal("12.00")),
        NewProduct(sku="VALVE", name="Valve", unit_price=inr("1234.56"), tax_rate=Decimal("5.00")),
        NewProduct(
            sku="CEMENT", name="Cement", uom="BAG", unit_price=inr("385.00"), tax_rate=Decimal(28), min_order_qty=10
        ),
        NewProduct(sku="OLD", name="Discontinued", unit_price=inr("50.00"), active=False),
        NewProduct(sku="USD-PUMP", name="Export pump", unit_price=Money.of("120.00", "USD")),
        NewProduct(
            sku=AMOUNT_SKU,
            name="Credit test item at 1.00",
            unit_price=inr("1.00"),
            tax_rate=Decimal(0),
            min_order_qty=Decimal("0.01"),
        ),
    ]
    for product in catalogue:
        crm.catalogue.create(admin, product)

    return World(
        crm=crm,
        clock=clock,
        admin=admin,
        head=head,
        manager=manager,
        rep=rep,
        rep2=rep2,
        other_manager=other_manager,
        other_rep=other_rep,
        controller=controller,
        controller2=controller2,
        agent=agent,
        dealer=dealer,
        customer=first,
        customer2=second,
        outsider=outsider,
        mobiles=mobiles,
        codes=itertools.count(1),
    )
