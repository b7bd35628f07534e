"""A realistic demo data set: a sales organisation with every role, 50 dealers, 200 products and months of
orders in every state, created through the use cases (so every rule, event and running total holds).

The demo's ERP is the sandbox, and the data set is coherent with it: the sandbox's customer master and catalogue
hold the demo's dealers and products, every order that reached the ERP was created there (so the ERP number an
order carries is one the sandbox issued) and moved on there (dispatch, invoice, deliver), and each dealer's account
in the sandbox holds the receivables the CRM shows. So every `crm erp …` command works on a fresh demo and changes
no figure it should not (decision 0019)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from crm_domain.app import Crm
from crm_domain.customers import Customer
from crm_domain.erp import ErpCustomer, ErpOrderState, ErpProduct
from crm_domain.errors import DomainError
from crm_domain.money import Money
from crm_domain.orders import LineRequest, Order, OrderStatus
from crm_domain.performance import period_of
from crm_domain.products import Product
from crm_domain.services.call_log import NewInteraction
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.erp_events import BalanceReport, OrderStatusReport
from crm_domain.services.erp_sync import erp_order_request
from crm_domain.services.orders import NewOrder
from crm_domain.services.users import NewUser
from crm_domain.users import Actor, Role, User
from entrypoints.ports import SandboxErpDriver, SettableClock

TERRITORIES = ["North", "South", "East", "West"]
FAMILIES = [
    ("PMP", "Centrifugal pump", "EA", (4500, 48000), "18.00"),
    ("MTR", "Induction motor", "EA", (3200, 39000), "18.00"),
    ("VLV", "Gate valve", "EA", (350, 6500), "18.00"),
    ("PIP", "HDPE pipe", "M", (45, 420), "12.00"),
    ("CBL", "Submersible cable", "M", (60, 310), "18.00"),
    ("FIT", "Pipe fitting", "EA", (25, 900), "12.00"),
    ("PNL", "Starter panel", "EA", (2800, 21000), "18.00"),
    ("SPR", "Sprinkler set", "SET", (1200, 7400), "12.00"),
]
SIZES = [
    "0.5 HP",
    "1 HP",
    "1.5 HP",
    "2 HP",
    "3 HP",
    "5 HP",
    "25 mm",
    "32 mm",
    "40 mm",
    "50 mm",
    "63 mm",
    "75 mm",
    "90 mm",
    "110 mm",
    "4 sq mm",
    "6 sq mm",
    "10 sq mm",
    "single phase",
    "three phase",
    "heavy duty",
    "standard",
    "compact",
    "marine grade",
    "solar ready",
    "domestic",
]
TOWNS = [
    "Ludhiana",
    "Jaipur",
    "Indore",
    "Nagpur",
    "Coimbatore",
    "Madurai",
    "Vijayawada",
    "Hubli",
    "Nashik",
    "Rajkot",
    "Kanpur",
    "Patna",
    "Guwahati",
    "Cuttack",
    "Raipur",
    "Mysuru",
    "Kochi",
    "Surat",
    "Agra",
    "Bhopal",
    "Ranchi",
    "Dehradun",
    "Jodhpur",
    "Salem",
    "Warangal",
]
TRADES = [
    "Agro Traders",
    "Pump House",
    "Irrigation Co",
    "Electricals",
    "Hardware Mart",
    "Water Solutions",
    "Farm Supplies",
    "Engineering Stores",
]
FIRST = [
    "Aarav",
    "Priya",
    "Rohan",
    "Kavya",
    "Vikram",
    "Neha",
    "Arjun",
    "Isha",
    "Karan",
    "Meera",
    "Sahil",
    "Ananya",
    "Dev",
    "Pooja",
    "Nikhil",
    "Ritu",
    "Manish",
    "Sneha",
    "Rahul",
    "Divya",
]
LAST = ["Sharma", "Iyer", "Reddy", "Patel", "Singh", "Nair", "Gupta", "Menon", "Das", "Kulkarni"]


@attrs.frozen
class DemoSummary:
    users: int
    customers: int
    products: int
    orders: int
    by_status: dict[str, int]


class _Names:  # unique, plausible names
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def person(self) -> str:
        while True:
            name = f"{self._rng.choice(FIRST)} {self._rng.choice(LAST)}"
            if name not in self._used:
                self._used.add(name)
                return name


def seed(
    crm: Crm,
    clock: SettableClock,
    now: datetime,
    erp: SandboxErpDriver,
    *,
    months: int = 4,
    orders_per_month: int = 90,
    progress: Callable[[str], None] = lambda _msg: None,
    rng_seed: int = 2026,
) -> DemoSummary:
    """Create the data set, moving `clock` through the past `months` months up to `now`; `erp` is the sandbox
    ERP the demo's dealers are served by (it should run on the same clock)."""
    return _Demo(crm, clock, now, erp, random.Random(rng_seed)).run(months, orders_per_month, progress)


class _Demo:
    def __init__(
        self, crm: Crm, clock: SettableClock, now: datetime, erp: SandboxErpDriver, rng: random.Random
    ) -> None:
        self.crm, self.clock, self.now, self.erp, self.rng = crm, clock, now, erp, rng
        self.products: dict[str, Product] = {}
        self.names = _Names(rng)
        self._mobiles = iter(range(9_100_000_001, 9_199_999_999))
        self.users: list[User] = []

    def run(self, months: int, orders_per_month: int, progress: Callable[[str], None]) -> DemoSummary:
        start = _month_start(self.now, months - 1)
        self.clock.set(start - timedelta(days=3))
        progress("users")
        self.admin = self.crm.users.create_admin("+919000000001", "Asha Admin").actor()
        self._organisation()
        progress("products")
        skus = self._products()
        progress("dealers")
        customers = self._customers()
        progress("targets")
        self._targets(months)
        progress("orders")
        orders = self._orders(customers, skus, start, months * orders_per_month)
        progress("balances")
        self._balances(customers)
        by_status: dict[str, int] = {}
        for order in orders:
            status = self.crm.orders.get(self.admin, order.id).status.value
            by_status[status] = by_status.get(status, 0) + 1
        return DemoSummary(
            users=len(self.users) + 1, customers=len(customers), products=200, orders=len(orders), by_status=by_status
        )

    def _user(
        self,
        roles: set[Role],
        manager: User | None = None,
        territory: str | None = None,
        customer_id: str | None = None,
    ) -> User:
        name = self.names.person()
        user = self.crm.users.create(
            self.admin,
            NewUser(
                mobile=f"+91{next(self._mobiles)}",
                name=name,
                roles=frozenset(roles),
                manager_id=manager.id if manager else None,
                territory=territory,
                customer_id=customer_id,
                email=f"{name.lower().replace(' ', '.')}@example.com",
            ),
        )
        self.users.append(user)
        return user

    def _organisation(self) -> None:
        head = self._user({Role.SALES_MANAGER}, territory="India")
        managers = [self._user({Role.SALES_MANAGER}, head, t) for t in ("North & West", "South & East")]
        self.reps = [
            self._user({Role.SALES_REP}, managers[i // 2], territory)
            for i, territory in enumerate(TERRITORIES)
            for _ in range(2)
        ]
        self.controllers = [self._user({Role.CREDIT_CONTROLLER}).actor() for _ in range(2)]
        self.agents = [self._user({Role.CALL_CENTER_AGENT}).actor() for _ in range(2)]

    def _products(self) -> list[str]:
        skus = []
        for index in range(200):
            prefix, noun, uom, (low, high), rate = FAMILIES[index % len(FAMILIES)]
            active = index % 40 != 39
            sku = f"{prefix}-{index + 1:04d}"
            self.products[sku] = self.crm.catalogue.create(
                self.admin,
                NewProduct(
                    sku=sku,
                    name=f"{noun} {SIZES[index % len(SIZES)]}",
                    unit_price=Money.of(Decimal(self.rng.randint(low * 100, high * 100)) / 100, "INR"),
                    uom=uom,
                    tax_rate=Decimal(rate),
                    erp_material_id=f"MAT{100000 + index}",
                    active=active,
                ),
            )
            if active:
                skus.append(sku)
        self.erp.put_products([_erp_product(p) for p in self.products.values()])
        return skus

    def _customers(self) -> list[Customer]:
        customers = []
        for index in range(50):
            rep = self.reps[index % len(self.reps)]
            limit = Decimal(self.rng.choice([2, 3, 5, 8, 10, 15, 20])) * 100_000
            view = self.crm.customers.create(
                self.admin,
                NewCustomer(
                    code=f"D{index + 1:04d}",
                    name=f"{self.rng.choice(TOWNS)} {self.rng.choice(TRADES)}",
                    mobile=f"+91{next(self._mobiles)}",
                    credit_limit=Money.of(limit, "INR"),
                    territory=rep.territory or "",
                    erp_system="sandbox",
                    erp_customer_id=f"C{500000 + index}",
                    assigned_rep_id=rep.id,
                    tolerance_pct=Decimal(self.rng.choice([0, 0, 0, 5, 10])),
                    overdue_block_days=self.rng.choice([None, 60, 90]),
                ),
            )
            customers.append(view.customer)
        self.erp.put_customers([_erp_customer(c) for c in customers])
        self.dealer_of = {c.id: self._user({Role.DEALER}, customer_id=c.id).actor() for c in customers[:10]}
        return customers

    def _targets(self, months: int) -> None:
        for month in range(months):
            period = period_of(_month_start(self.now, months - 1 - month) + timedelta(days=1), self.crm.ctx.config.tz)
            for rep in self.reps:
                amount = Money.of(self.rng.randrange(12, 30) * 100_000, "INR")
                self.crm.performance.set_target(self.admin, rep.id, period, amount)

    def _orders(self, customers: list[Customer], skus: list[str], start: datetime, count: int) -> list[Order]:
        rng = self.rng
        rep_actor = {r.id: r.actor() for r in self.reps}
        span = (self.now - start).total_seconds()
        orders = []
        for at in sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count)):
            self.clock.set(at)
            customer = rng.choice(customers)
            who = rng.random()
            if customer.id in self.dealer_of and who < 0.3:
                actor = self.dealer_of[customer.id]
            elif who < 0.5:
                actor = rng.choice(self.agents)
            else:
                actor = rep_actor[customer.assigned_rep_id or self.reps[0].id]
            lines = tuple(
                LineRequest(
                    sku=sku,
                    quantity=Decimal(rng.choice([1, 2, 3, 5, 10, 20, 50])),
                    discount_pct=Decimal(rng.choice(["0", "0", "0", "2", "5", "7.5"])),
                )
                for sku in rng.sample(skus, rng.randint(1, 6))
            )
            order = self.crm.orders.create(
                actor,
                NewOrder(
                    customer_id=customer.id,
                    lines=lines,
                    submit=rng.random() > 0.04,
                    notes=rng.choice(["", "", "urgent", "deliver before Monday"]),
                ),
            )
            if actor in self.agents:  # the call that brought the order, in the call log (no draw from rng)
                call = NewInteraction(direction="in", outcome="order_placed", note=order.notes, order_id=order.id)
                self.crm.call_log.log(actor, customer.id, call)
            orders.append(self._progress(order, actor))
        return orders

    def _progress(self, order: Order, creator: Actor) -> Order:
        erp = _DemoErp(self.crm, self.erp, self.products)
        return _progress_order(erp, order, self.now, self.rng, self.controllers[0], creator)

    def _balances(self, customers: list[Customer]) -> None:
        """Each dealer's account as the ERP holds it (older invoices than the demo's months), applied as the
        ERP's balance sync would: the sandbox and the CRM show the same receivables."""
        self.clock.set(self.now)
        for customer in customers:
            receivables = Money.of(Decimal(self.rng.randrange(0, 4)) * 50_000, "INR")
            balance = self.erp.set_balance(customer.code, receivables, self.rng.choice([0, 0, 0, 15, 45, 75, 120]))
            self.crm.erp_events.apply_balance(customer.erp_system.value, BalanceReport.of(balance))
        self.crm.credit.block(self.controllers[1], customers[-1].id, "cheque bounced; pending clearance")


def _erp_product(product: Product) -> ErpProduct:
    return ErpProduct(
        sku=product.sku,
        erp_material_id=product.erp_material_id or product.sku,
        name=product.name,
        uom=product.uom,
        unit_price=product.unit_price,
        tax_rate=product.tax_rate,
        active=product.active,
    )


def _erp_customer(customer: Customer) -> ErpCustomer:
    return ErpCustomer(
        customer_code=customer.code,
        erp_customer_id=customer.erp_customer_id or customer.code,
        name=customer.name,
        mobile=customer.mobile,
        territory=customer.territory,
        currency=customer.currency,
        active=customer.active,
    )


@attrs.frozen
class _DemoErp:
    """The CRM with its sandbox ERP, for moving demo orders along."""

    crm: Crm
    sandbox: SandboxErpDriver
    products: dict[str, Product]


def _progress_order(
    erp: _DemoErp, order: Order, now: datetime, rng: random.Random, controller: Actor, creator: Actor
) -> Order:
    """Move an order along as the ERP and people would have, the older the further."""
    crm = erp.crm
    age_days = (now - order.created_at).days
    try:
        if order.status is OrderStatus.DRAFT:
            return order
        if order.status is OrderStatus.ON_CREDIT_HOLD:
            roll = rng.random()
            if age_days > 3 and roll < 0.4:
                return crm.orders.reject(controller, order.id, "credit exposure too high")
            if age_days <= 3 or roll > 0.8:
                return order
            order = crm.orders.release(controller, order.id, "dealer committed to pay this week")
        if rng.random() < 0.06:
            return crm.orders.cancel(creator, order.id, rng.choice(["duplicate order", "dealer changed quantities"]))
        if age_days < 2 or rng.random() < 0.03:
            return order
        order = erp_progress(crm, erp.sandbox, order, OrderStatus.CONFIRMED, erp.products)
        for status, after in ((OrderStatus.DISPATCHED, 3), (OrderStatus.INVOICED, 6), (OrderStatus.DELIVERED, 9)):
            if age_days < after + rng.randint(0, 4):
                break
            order = erp_progress(crm, erp.sandbox, order, status, erp.products)
        if order.status is OrderStatus.DELIVERED:
            _pay(erp, order)
    except DomainError:
        return order
    return order


_ERP_STEPS = (
    (OrderStatus.DISPATCHED, "dispatch"),
    (OrderStatus.INVOICED, "invoice"),
    (OrderStatus.DELIVERED, "deliver"),
)
_ORDER_OF_STATUS = [OrderStatus.CONFIRMED, *(status for status, _ in _ERP_STEPS)]


def erp_progress(
    crm: Crm,
    sandbox: SandboxErpDriver,
    order: Order,
    status: OrderStatus,
    products: dict[str, Product] | None = None,
) -> Order:
    """The sandbox ERP moves the order on to `status` (confirmed … delivered): a submitted order is created
    there first (the ERP numbers it), then dispatched, invoiced, delivered there as far as `status`; each answer
    is applied as the sandbox's webhook would be, through the one ERP-progress rule
    (`ErpEventService.apply_order_status`), so invoicing moves the amount to receivables in both."""
    order, customer = crm.erp_events.order_by_reference(order.id)
    erp = customer.erp_system.value
    erp_order_id = order.erp_order_id
    if erp_order_id is None:
        erp_order_id = sandbox.create_order(erp_order_request(order, customer, products or {})).erp_order_id
        report = OrderStatusReport(erp_order_id=erp_order_id, external_ref=order.id, state=ErpOrderState.OPEN)
        crm.erp_events.apply_order_status(erp, report)
    reached = _ORDER_OF_STATUS.index(order.status) if order.status in _ORDER_OF_STATUS else 0
    for step_status, action in _ERP_STEPS:
        step = _ORDER_OF_STATUS.index(step_status)
        if step > _ORDER_OF_STATUS.index(status):
            break
        if step <= reached:
            continue
        erp_status = getattr(sandbox, action)(erp_order_id)
        crm.erp_events.apply_order_status(erp, OrderStatusReport.of(erp_status))
    return crm.erp_events.order_by_reference(order.id)[0]


def _pay(erp: _DemoErp, order: Order) -> None:
    """The dealer pays a delivered order's invoice: the sandbox ERP takes the payment and reports the lower
    receivables, applied as its balance sync would."""
    _, customer = erp.crm.erp_events.order_by_reference(order.id)
    balance = erp.sandbox.pay(customer.code, order.total)
    erp.crm.erp_events.apply_balance(customer.erp_system.value, BalanceReport.of(balance))


def _month_start(now: datetime, months_back: int) -> datetime:
    year, month = now.year, now.month - months_back
    while month <= 0:
        month += 12
        year -= 1
    return datetime(year, month, 1, 4, 0, tzinfo=UTC)
