"""The customer upsert (`CustomerService.upsert`), the one use case behind `crm customers import` and
`crm erp sync customers`: created, updated or unchanged by code, one unit of work, a refused record changes
nothing."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.system import FixedClock
from crm_domain.errors import CreditRaiseNeedsApproval, PermissionDenied, ValidationFailed
from crm_domain.money import Money
from crm_domain.orders import OrderStatus
from crm_domain.services.customers import CreditTerms, CustomerRecord, Upserted
from crm_domain.users import SYSTEM
from tests.unit.world import World, build_world, inr, new_crm


def record(code: str = "D-NEW", **kw: object) -> CustomerRecord:
    fields: dict[str, object] = {
        "code": code,
        "name": "Nashik Pump House",
        "mobile": "+919812345678",
        "currency": "INR",
        "territory": "West",
        "terms": CreditTerms(limit=inr("50000.00"), tolerance_pct=Decimal(5), overdue_block_days=60),
        "reason": "import of dealers.csv",
    }
    return CustomerRecord(**{**fields, **kw})  # type: ignore[arg-type]


def state(world: World, code: str) -> tuple[object, ...]:
    """Everything an upsert may write about the customer with `code`: the customer, its account, its limit
    history and audit entries, and the outbox."""
    with world.crm.ctx.uow(read_only=True) as uow:
        customer = uow.customers.get_by_code(code)
        if customer is None:
            return (None, [m.id for m in world.outbox()])
        account = uow.credit.get(customer.id)
        history = [(h.kind, h.old, h.new, h.reason) for h in uow.limit_history.list_for(customer.id)]
        audit = [(a.action, a.details) for a in uow.audit.list_for("customer", customer.id)]
    return customer, account, history, audit, [m.id for m in world.outbox()]


class TestCreate:
    def test_a_new_code_is_created_with_its_credit_terms(self, world: World) -> None:
        result = world.crm.customers.upsert(world.admin, record())
        assert result.outcome is Upserted.CREATED
        view = world.crm.customers.get_by_code(world.admin, "D-NEW")
        assert (view.customer.name, view.customer.mobile, view.customer.territory) == (
            "Nashik Pump House",
            "+919812345678",
            "West",
        )
        assert (view.account.limit, view.account.tolerance_pct, view.account.overdue_block_days) == (
            5_000_000,
            Decimal(5),
            60,
        )
        assert view.customer == result.customer

    def test_without_terms_a_new_customer_starts_at_a_zero_limit_and_holds(self, world: World) -> None:
        world.crm.customers.upsert(SYSTEM, record(terms=None, erp_system="sandbox", from_erp=True))
        view = world.crm.customers.get_by_code(world.admin, "D-NEW")
        assert view.account.limit == 0
        assert world.order_of("1.00", view.customer, actor=world.agent).status is OrderStatus.ON_CREDIT_HOLD

    def test_a_new_customer_needs_a_mobile(self, world: World) -> None:
        with pytest.raises(ValidationFailed, match="no mobile"):
            world.crm.customers.upsert(world.admin, record(mobile=None))
        assert state(world, "D-NEW")[0] is None


class TestUpdate:
    def test_changed_master_data_and_limit_are_written_once_with_the_limit_history(self, world: World) -> None:
        world.crm.customers.upsert(world.admin, record())
        changed = record(
            name="Nashik Pump House Pvt",
            terms=CreditTerms(limit=inr("30000.00"), tolerance_pct=Decimal(5), overdue_block_days=60),
        )

        result = world.crm.customers.upsert(world.admin, changed)

        assert result.outcome is Upserted.UPDATED
        view = world.crm.customers.get_by_code(world.admin, "D-NEW")
        assert (view.customer.name, view.account.limit) == ("Nashik Pump House Pvt", 3_000_000)
        _, _, history, audit, _ = state(world, "D-NEW")
        assert history == [("limit", "50000.00", "30000.00", "import of dealers.csv")]
        assert isinstance(audit, list)
        assert audit[-1] == ("customer.updated", {"fields": ["name"], "erp": "sandbox"})

    def test_fields_left_unset_and_a_missing_mobile_keep_what_the_crm_has(self, world: World) -> None:
        world.crm.customers.upsert(world.admin, record(erp_customer_id="C-1"))
        result = world.crm.customers.upsert(world.admin, record(mobile=None, territory=record().territory))
        assert result.outcome is Upserted.UNCHANGED
        assert (result.customer.mobile, result.customer.erp_customer_id) == ("+919812345678", "C-1")

    def test_a_raised_limit_is_refused_it_takes_a_request_approved_by_a_second_person(self, world: World) -> None:
        first = world.order_of("9000.00")
        held = world.order_of("5000.00")
        assert held.status is OrderStatus.ON_CREDIT_HOLD
        ravi = record(
            code=world.customer.code,
            name=world.customer.name,
            mobile=world.customer.mobile,
            territory=world.customer.territory,
            assigned_rep_id=world.customer.assigned_rep_id,
            terms=CreditTerms(limit=inr("14000.00")),
        )
        before = state(world, world.customer.code)
        with pytest.raises(CreditRaiseNeedsApproval):
            world.crm.customers.upsert(world.admin, ravi)
        assert state(world, world.customer.code) == before
        assert world.crm.orders.get(world.admin, held.id).status is OrderStatus.ON_CREDIT_HOLD
        assert world.crm.orders.get(world.admin, first.id).status is OrderStatus.SUBMITTED


class TestUnchanged:
    def test_the_same_record_again_writes_nothing(self, world: World) -> None:
        world.crm.customers.upsert(world.admin, record())
        before = state(world, "D-NEW")
        result = world.crm.customers.upsert(world.admin, record())
        assert result.outcome is Upserted.UNCHANGED
        assert state(world, "D-NEW") == before


#: Records refused for an existing D-NEW (created from `record()`); each also renames it, which must not stick.
REFUSED: dict[str, CustomerRecord] = {
    "another currency": record(currency="USD", terms=CreditTerms(limit=Money.of("9.00", "USD"))),
    "a limit in another currency than the record": record(terms=CreditTerms(limit=Money.of("9.00", "USD"))),
    "served by another ERP": record(erp_system="sap", from_erp=True),
    "an unknown rep": record(assigned_rep_id="nobody"),
    "a bad mobile": record(mobile="12"),
    "a negative overdue block after a limit change": record(
        terms=CreditTerms(limit=inr("40000.00"), overdue_block_days=-1)
    ),
}


class TestRefused:
    @pytest.mark.parametrize("case", sorted(REFUSED))
    def test_a_refused_record_changes_nothing(self, world: World, case: str) -> None:
        world.crm.customers.upsert(world.admin, record())
        before = state(world, "D-NEW")
        with pytest.raises(ValidationFailed):
            world.crm.customers.upsert(world.admin, attrs.evolve(REFUSED[case], name="Renamed"))
        assert state(world, "D-NEW") == before

    def test_a_refused_new_record_creates_nothing(self, world: World) -> None:
        with pytest.raises(ValidationFailed):
            world.crm.customers.upsert(world.admin, record(mobile="12"))
        assert state(world, "D-NEW")[0] is None

    def test_people_without_customer_write_are_refused(self, world: World) -> None:
        with pytest.raises(PermissionDenied):
            world.crm.customers.upsert(world.rep, record())
        assert state(world, "D-NEW")[0] is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(alphabet="abcdefgh XYZ", min_size=1, max_size=20).filter(str.strip),
    territory=st.sampled_from(["", "North", "South"]),
    limit=st.integers(min_value=0, max_value=10**9),
    tolerance=st.sampled_from([Decimal(0), Decimal(5), Decimal("7.5")]),
    overdue=st.none() | st.integers(min_value=0, max_value=365),
)
def test_an_upsert_leaves_what_the_record_says_and_the_same_record_again_changes_nothing(
    name: str, territory: str, limit: int, tolerance: Decimal, overdue: int | None
) -> None:
    clock = FixedClock()
    world = build_world(new_crm(clock), clock)
    terms = CreditTerms(limit=Money(limit, "INR"), tolerance_pct=tolerance, overdue_block_days=overdue)
    # a new customer and a known one whose terms are already the most any record states, so none raises them (a
    # raise of a known customer is refused: test_a_raised_limit_is_refused…)
    known = world.new_customer(limit="10000000.00", tolerance_pct="100", code="D-KNOWN")
    for code in ("D-NEW", known.code):
        stated = record(code=code, name=name, territory=territory, terms=terms)
        world.crm.customers.upsert(world.admin, stated)
        view = world.crm.customers.get_by_code(world.admin, code)
        assert (view.customer.name, view.customer.territory) == (name.strip(), territory)
        assert (view.account.limit, view.account.tolerance_pct, view.account.overdue_block_days) == (
            limit,
            tolerance,
            overdue,
        )
        before = state(world, code)
        assert world.crm.customers.upsert(world.admin, stated).outcome is Upserted.UNCHANGED
        assert state(world, code) == before
