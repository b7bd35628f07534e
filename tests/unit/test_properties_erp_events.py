"""Property tests of ERP events (hypothesis): whatever sequence of order-status and balance events an ERP sends —
repeated, late, skipping steps, cancelling, for several orders of one customer — the CRM never moves an order
backwards, and its credit stays consistent:

- exposure = receivables + the reservations of the orders that are submitted, confirmed or dispatched, and the
  reservations are exactly those orders' (at the dispatched stage exactly for dispatched orders);
- receivables = the last balance the ERP sent + the amounts invoiced since;
- no held order is left on hold while it would fit (the customer is not overdue-blocked here).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.system import FixedClock
from crm_domain.app import Crm
from crm_domain.credit import CreditPolicy, ReservationStage
from crm_domain.erp import ErpOrderState
from crm_domain.errors import InvalidTransition
from crm_domain.money import Money
from crm_domain.orders import RESERVING, LineRequest, OrderStatus
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.erp_events import PROGRESS, BalanceReport, OrderStatusReport
from crm_domain.services.orders import NewOrder
from crm_domain.services.users import NewUser
from crm_domain.users import Role
from tests.unit.world import new_crm

S = OrderStatus
RANK = {S.SUBMITTED: 0, **{status: i + 1 for i, status in enumerate(PROGRESS)}}

submit = st.tuples(st.just("submit"), st.integers(min_value=1, max_value=600_000))
status_event = st.tuples(
    st.just("status"),
    st.integers(min_value=0, max_value=7),
    st.sampled_from(list(ErpOrderState)),
    st.none() | st.integers(min_value=0, max_value=700_000),
)
balance = st.tuples(st.just("balance"), st.integers(min_value=-100_000, max_value=1_500_000))
operations = st.lists(st.one_of(submit, status_event, balance), min_size=1, max_size=30)


def inr(minor: int) -> Money:
    return Money(minor, "INR")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_erp_events_never_regress_an_order_and_keep_exposure_consistent(ops: list[tuple[object, ...]]) -> None:
    crm = new_crm(FixedClock())
    admin = crm.users.create_admin("+919876499999", "Asha Admin").actor()
    rep = crm.users.create(
        admin,
        NewUser(mobile="+919876500001", name="Ravi Rep", roles=frozenset({Role.SALES_REP})),
    ).actor()
    customer = crm.customers.create(
        admin,
        NewCustomer(
            code="D-1", name="Dealer", mobile="+919765400001", credit_limit=inr(1_000_000), assigned_rep_id=rep.id
        ),
    ).customer
    crm.catalogue.create(admin, NewProduct(sku="AMT", name="Amount", unit_price=inr(1), min_order_qty=Decimal("0.01")))

    orders: list[str] = []
    seen: dict[str, S] = {}
    receivables = 0
    for op in ops:
        if op[0] == "submit":
            amount = int(op[1])  # type: ignore[call-overload]
            line = LineRequest(sku="AMT", quantity=Decimal(amount) / 100)
            order = crm.orders.create(rep, NewOrder(customer_id=customer.id, lines=(line,), submit=True))
            orders.append(order.id)
        elif op[0] == "balance":
            receivables = int(op[1])  # type: ignore[call-overload]
            crm.erp_events.apply_balance("sandbox", BalanceReport(customer_code="D-1", receivables=inr(receivables)))
        elif orders:
            _, index, state, invoiced = op
            order_id = orders[int(index) % len(orders)]  # type: ignore[call-overload]
            before = crm.orders.get(admin, order_id)
            event = OrderStatusReport(
                external_ref=order_id,
                erp_order_id=before.erp_order_id or f"E-{order_id}",
                state=ErpOrderState(str(state)),
                invoiced_amount=None if invoiced is None else inr(int(invoiced)),  # type: ignore[call-overload]
            )
            try:
                result = crm.erp_events.apply_order_status("sandbox", event)
            except InvalidTransition:
                assert crm.orders.get(admin, order_id).version == before.version  # refused: nothing changed
                continue
            if S.INVOICED in result.steps:
                receivables += before.total.minor if invoiced is None else int(invoiced)  # type: ignore[call-overload]

        check_invariants(crm, customer.id, orders, seen, receivables)


def check_invariants(crm: Crm, customer_id: str, orders: list[str], seen: dict[str, S], receivables: int) -> None:
    """The module docstring's invariants, after each event; `seen` keeps each order's last status."""
    with crm.ctx.uow(read_only=True) as uow:
        account = uow.credit.get(customer_id)
        assert account is not None
        current = {oid: o for oid in orders if (o := uow.orders.get(oid)) is not None}
    for oid, order in current.items():
        previous = seen.get(oid)
        if previous is S.CANCELLED:
            assert order.status is S.CANCELLED
        elif previous in RANK and order.status in RANK:
            assert RANK[order.status] >= RANK[previous], (previous, order.status)
        seen[oid] = order.status
    reserving = {oid for oid, o in current.items() if o.status in RESERVING}
    assert set(account.reservations) == reserving
    for oid in reserving:
        dispatched = account.reservations[oid].stage is ReservationStage.DISPATCHED
        assert dispatched == (current[oid].status is S.DISPATCHED)
        assert account.reservations[oid].amount == current[oid].total.minor
    assert account.receivables == receivables
    reserved = sum(current[oid].total.minor for oid in reserving)
    assert account.exposure(CreditPolicy()) == max(receivables, 0) + reserved
    available = account.available(CreditPolicy(), crm.ctx.today())
    for order in current.values():
        if order.status is S.ON_CREDIT_HOLD:
            assert order.total.minor > available, "a held order that fits was left on hold"
