"""The sandbox ERP: numbers orders in arrival order, de-duplicates by our order id, is shared by processes
through its file, and plays the ERP's part when driven (dispatch, invoice, deliver, pay)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from adapters.erp import ErpRouter
from adapters.erp.sandbox import SandboxErpGateway
from adapters.system import FixedClock
from crm_domain.erp import ErpOrderLine, ErpOrderRequest, ErpOrderState, ErpRejected
from crm_domain.errors import Conflict, UpstreamUnavailable, ValidationFailed
from crm_domain.money import Money

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def inr(minor: int) -> Money:
    return Money(minor, "INR")


def an_order(ref: str = "O-1", total: int = 118_00, customer: str = "D-001") -> ErpOrderRequest:
    line = ErpOrderLine(
        sku="SKU-1",
        erp_material_id=None,
        quantity=Decimal(1),
        uom="EA",
        unit_price=inr(100_00),
        discount_pct=Decimal(0),
        net=inr(100_00),
        tax=inr(total - 100_00),
        total=inr(total),
    )
    return ErpOrderRequest(
        external_ref=ref,
        number=f"SO-2026-{ref}",
        customer_code=customer,
        erp_customer_id=None,
        currency="INR",
        lines=(line,),
        net=inr(100_00),
        tax=inr(total - 100_00),
        total=inr(total),
        submitted_at=T0,
    )


@pytest.fixture
def erp(tmp_path: Path) -> SandboxErpGateway:
    return SandboxErpGateway(tmp_path / "erp.db", FixedClock(T0))


def test_orders_are_numbered_in_arrival_order_and_a_repeat_returns_the_first(erp: SandboxErpGateway) -> None:
    first = erp.create_order(an_order("O-1"))
    second = erp.create_order(an_order("O-2"))
    again = erp.create_order(an_order("O-1"))

    assert (first.erp_order_id, first.duplicate) == ("SBX-0000001", False)
    assert second.erp_order_id == "SBX-0000002"
    assert (again.erp_order_id, again.duplicate) == ("SBX-0000001", True)
    assert erp.order_count() == 2


def test_another_process_sees_the_same_erp_through_the_file(tmp_path: Path) -> None:
    SandboxErpGateway(tmp_path / "erp.db", FixedClock(T0)).create_order(an_order("O-1"))

    other = SandboxErpGateway(tmp_path / "erp.db", FixedClock(T0))

    assert other.create_order(an_order("O-1")).duplicate
    assert other.find_by_external_ref("O-1") is not None


def test_an_order_without_lines_is_refused_for_good(erp: SandboxErpGateway) -> None:
    with pytest.raises(ErpRejected):
        erp.create_order(attrs.evolve(an_order(), lines=()))


def test_invoicing_adds_the_total_to_receivables_and_paying_takes_it_off(erp: SandboxErpGateway) -> None:
    ack = erp.create_order(an_order("O-1", total=590_00))
    erp.dispatch(ack.erp_order_id)
    invoiced = erp.invoice(ack.erp_order_id)
    erp.set_overdue("D-001", 45)

    assert invoiced.state is ErpOrderState.INVOICED
    assert invoiced.invoice_number == "INV-0000001"
    assert invoiced.invoiced_amount == inr(590_00)
    assert erp.customer_balance("D-001").receivables == inr(590_00)
    assert erp.customer_balance("D-001").overdue_days == 45

    partly = erp.pay("D-001", inr(90_00))
    fully = erp.pay("D-001", inr(1_000_00))

    assert (partly.receivables, partly.overdue_days) == (inr(500_00), 45)
    assert (fully.receivables, fully.overdue_days) == (inr(0), 0)


def test_states_move_forward_only_and_a_dispatched_order_can_no_longer_be_cancelled(erp: SandboxErpGateway) -> None:
    ack = erp.create_order(an_order("O-1"))
    with pytest.raises(Conflict):
        erp.invoice(ack.erp_order_id)  # not dispatched yet
    erp.dispatch(ack.erp_order_id)
    assert erp.dispatch(ack.erp_order_id).state is ErpOrderState.DISPATCHED  # repeat is harmless
    with pytest.raises(ErpRejected):
        erp.cancel_order(ack.erp_order_id, "too late")
    assert erp.order_status(ack.erp_order_id).state is ErpOrderState.DISPATCHED


def test_while_the_outage_switch_is_on_the_gateway_fails_but_the_drivers_still_play_the_erp(tmp_path: Path) -> None:
    switch = tmp_path / "erp-is-down"
    erp = SandboxErpGateway(tmp_path / "erp.db", FixedClock(T0), outage_file=switch)
    ack = erp.create_order(an_order("O-1"))
    switch.touch()

    with pytest.raises(UpstreamUnavailable, match="outage switch on"):
        erp.order_status(ack.erp_order_id)
    erp.dispatch(ack.erp_order_id)
    invoiced = erp.invoice(ack.erp_order_id)
    found = erp.find_by_external_ref("O-1")
    paid = erp.pay("D-001", inr(18_00))

    assert (invoiced.state, found.state if found else None) == (ErpOrderState.INVOICED, ErpOrderState.INVOICED)
    assert paid.receivables == inr(100_00)
    switch.unlink()
    assert erp.order_status(ack.erp_order_id).state is ErpOrderState.INVOICED


def test_the_router_names_what_is_configured_when_asked_for_an_unknown_erp(erp: SandboxErpGateway) -> None:
    router = ErpRouter({"sandbox": erp})

    assert router.for_system("sandbox") is erp
    with pytest.raises(ValidationFailed, match="configured: sandbox"):
        router.for_system("sap")
