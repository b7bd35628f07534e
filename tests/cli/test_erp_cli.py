"""`crm erp sync …` and `crm erp sandbox …` on the embedded store and the sandbox ERP (SPEC §6, §8)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.erp.sandbox import SandboxErpGateway
from crm_domain.customers import Customer
from crm_domain.erp import ErpCustomer, ErpOrderState, ErpProduct
from crm_domain.errors import UpstreamUnavailable
from crm_domain.money import Money
from crm_domain.orders import LineRequest, Order
from crm_domain.records import PageRequest
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.erp_events import OrderStatusReport
from crm_domain.services.erp_sync import erp_order_request
from crm_domain.services.orders import NewOrder
from entrypoints.cli.context import OPERATOR, container
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def sandbox() -> SandboxErpGateway:
    gateway = container().sandbox  # the routed one, without the metrics wrapper
    assert isinstance(gateway, SandboxErpGateway)
    return gateway


def inr(amount: str) -> Money:
    return Money.of(amount, "INR")


def product(sku: str, price: str = "100.00", tax: str = "18") -> ErpProduct:
    return ErpProduct(
        sku=sku, erp_material_id=f"M-{sku}", name=f"Product {sku}", unit_price=inr(price), tax_rate=Decimal(tax)
    )


def customer(code: str = "D0001", limit: str = "10000.00", erp: str = "sandbox") -> Customer:
    return (
        container()
        .crm.customers.create(
            OPERATOR,
            NewCustomer(
                code=code, name=f"Dealer {code}", mobile="+919100000001", credit_limit=inr(limit), erp_system=erp
            ),
        )
        .customer
    )


def skus() -> list[str]:
    return [p.sku for p in container().crm.catalogue.list(OPERATOR, PageRequest(limit=200)).items]


def summary(result: Result) -> tuple[int, ...]:
    match = re.search(r"(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) failed", result.out)
    assert match, (result.out, result.err)
    return tuple(int(g) for g in match.groups())


def sent_order(amount_qty: str = "10", *, code: str = "D0001") -> tuple[Order, str]:
    """An order submitted in the CRM, created in the sandbox ERP and confirmed (what the worker does)."""
    crm = container().crm
    if crm.catalogue.list(OPERATOR, PageRequest()).items == []:
        crm.catalogue.create(OPERATOR, NewProduct(sku="PMP-1", name="Pump", unit_price=inr("100.00")))
    found = crm.customers.get_by_code(OPERATOR, code).customer
    line = LineRequest(sku="PMP-1", quantity=Decimal(amount_qty))
    order = crm.orders.create(OPERATOR, NewOrder(customer_id=found.id, lines=(line,), submit=True))
    ack = sandbox().create_order(erp_order_request(order, found, {}))
    report = OrderStatusReport(erp_order_id=ack.erp_order_id, external_ref=order.id, state=ErpOrderState.OPEN)
    crm.erp_events.apply_order_status("sandbox", report)
    return crm.orders.get(OPERATOR, order.id), ack.erp_order_id


class TestProductSync:
    def test_products_are_created_then_unchanged_then_updated(self, crm_cli: Cli) -> None:
        sandbox().put_products([product(f"SKU-{i}") for i in range(5)])
        first = crm_cli("erp", "sync", "products", "--batch", "2")
        assert first.code == 0, first.err
        assert summary(first) == (5, 0, 0, 0)
        assert skus() == [f"SKU-{i}" for i in range(5)]
        again = crm_cli("erp", "sync", "products", "--full")
        assert summary(again) == (0, 0, 5, 0)
        sandbox().put_product(product("SKU-3", price="120.00"))
        changed = crm_cli("erp", "sync", "products")
        assert changed.code == 0
        created, updated, _, failed = summary(changed)
        assert (created, updated, failed) == (0, 1, 0)
        assert container().crm.catalogue.get(OPERATOR, "SKU-3").unit_price == inr("120.00")

    def test_a_bad_product_is_reported_and_the_rest_kept(self, crm_cli: Cli) -> None:
        sandbox().put_products([product("GOOD-1"), product("BAD-1", tax="150"), product("GOOD-2")])
        result = crm_cli("erp", "sync", "products")
        assert result.code == 1
        assert summary(result) == (2, 0, 0, 1)
        assert re.search(r"^BAD-1: .*tax_rate", result.err, re.M), result.err
        assert skus() == ["GOOD-1", "GOOD-2"]

    def test_an_interrupted_sync_resumes_after_the_last_finished_batch(
        self, crm_cli: Cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        sandbox().put_products([product(f"SKU-{i}") for i in range(5)])
        gateway = sandbox()
        real = gateway.products_changed
        calls: list[str | None] = []

        def flaky(since: Any, cursor: str | None, limit: int) -> Any:
            calls.append(cursor)
            if len(calls) == 2:
                raise UpstreamUnavailable("the ERP went away")
            return real(since, cursor, limit)

        monkeypatch.setattr(gateway, "products_changed", flaky)
        broken = crm_cli("erp", "sync", "products", "--batch", "2")
        assert broken.code == 1
        assert "run it again to continue after cursor" in broken.err
        assert skus() == ["SKU-0", "SKU-1"]
        state = json.loads((data_dir / "erp-sync-state.json").read_text())
        assert state["sandbox:products"]["cursor"]

        monkeypatch.setattr(gateway, "products_changed", real)
        resumed = crm_cli("erp", "sync", "products", "--batch", "2")
        assert resumed.code == 0, resumed.err
        assert "resuming sandbox:products" in resumed.err
        assert summary(resumed) == (3, 0, 0, 0)  # only what was left
        assert skus() == [f"SKU-{i}" for i in range(5)]
        assert "cursor" not in json.loads((data_dir / "erp-sync-state.json").read_text())["sandbox:products"]


class TestCustomerSync:
    def test_customers_are_matched_by_code_and_refusals_reported(self, crm_cli: Cli) -> None:
        customer("D0001")
        customer("D0002", erp="sap")
        gateway = sandbox()
        for code, mobile in [("D0001", None), ("D0002", "+919100000009"), ("D0003", "+919100000003"), ("D0004", None)]:
            gateway.put_customer(
                ErpCustomer(customer_code=code, erp_customer_id=f"C-{code}", name=f"ERP {code}", mobile=mobile)
            )
        result = crm_cli("erp", "sync", "customers")
        assert result.code == 1
        assert summary(result) == (1, 1, 0, 2)
        assert re.search(r"^D0002: .*served by sap", result.err, re.M), result.err
        assert re.search(r"^D0004: .*no mobile", result.err, re.M), result.err
        crm = container().crm
        updated = crm.customers.get_by_code(OPERATOR, "D0001")
        assert (updated.customer.name, updated.customer.erp_customer_id) == ("ERP D0001", "C-D0001")
        assert updated.account.limit == 10000_00  # credit terms are the CRM's
        new = crm.customers.get_by_code(OPERATOR, "D0003")
        assert (new.customer.erp_system.value, new.account.limit) == ("sandbox", 0)
        assert crm.customers.get_by_code(OPERATOR, "D0002").customer.name == "Dealer D0002"


class TestBalancesAndOrderStatus:
    def test_balances_are_fetched_and_applied(self, crm_cli: Cli) -> None:
        found = customer("D0001")
        customer("D0002", erp="sap")
        sandbox().set_overdue("D0001", 12)
        result = crm_cli("erp", "sync", "balances")
        assert result.code == 0, result.err
        assert summary(result) == (0, 1, 0, 0)
        assert container().crm.credit.position(OPERATOR, found.id).overdue_days == 12
        assert summary(crm_cli("erp", "sync", "balances")) == (0, 0, 1, 0)

    def test_order_status_polls_the_erp_and_walks_orders_forward(self, crm_cli: Cli) -> None:
        customer("D0001")
        order, erp_id = sent_order()
        sandbox().dispatch(erp_id)
        sandbox().invoice(erp_id)
        result = crm_cli("erp", "sync", "order-status")
        assert result.code == 0, result.err
        assert summary(result) == (0, 1, 0, 0)
        crm = container().crm
        assert crm.orders.get(OPERATOR, order.id).status.value == "invoiced"
        position = crm.credit.position(OPERATOR, order.customer_id)
        assert (position.receivables, position.open_orders) == (inr("1000.00"), inr("0.00"))
        assert summary(crm_cli("erp", "sync", "order-status")) == (0, 0, 1, 0)


class TestSandboxDrivers:
    def test_dispatch_invoice_deliver_move_the_crm_order(self, crm_cli: Cli) -> None:
        customer("D0001")
        order, _ = sent_order()
        for action, status in [("dispatch", "dispatched"), ("invoice", "invoiced"), ("deliver", "delivered")]:
            result = crm_cli("erp", "sandbox", action, order.number)
            assert result.code == 0, result.err
            assert f"the CRM order is {status}" in result.out
        assert container().crm.orders.get(OPERATOR, order.id).status.value == "delivered"
        position = container().crm.credit.position(OPERATOR, order.customer_id)
        assert position.receivables == inr("1000.00")

    def test_pay_and_overdue_update_the_crm_and_release_holds(self, crm_cli: Cli) -> None:
        customer("D0001", limit="1500.00")
        first, _ = sent_order("10")
        crm_cli("erp", "sandbox", "dispatch", first.id)
        crm_cli("erp", "sandbox", "invoice", first.id)
        held = container().crm.orders.create(
            OPERATOR,
            NewOrder(
                customer_id=first.customer_id, lines=(LineRequest(sku="PMP-1", quantity=Decimal(8)),), submit=True
            ),
        )
        assert held.status.value == "on_credit_hold"
        late = crm_cli("erp", "sandbox", "overdue", "D0001", "40")
        assert late.code == 0 and "overdue 40 days" in late.out
        paid = crm_cli("erp", "sandbox", "pay", "D0001", "600.00")
        assert paid.code == 0, paid.err
        assert "receivables 400.00 INR" in paid.out and "released 1 held order" in paid.out
        assert container().crm.orders.get(OPERATOR, held.id).status.value == "submitted"

    def test_an_order_not_yet_in_the_erp_is_one_line_and_exit_1(self, crm_cli: Cli) -> None:
        customer("D0001")
        crm = container().crm
        crm.catalogue.create(OPERATOR, NewProduct(sku="PMP-1", name="Pump", unit_price=inr("100.00")))
        line = (LineRequest(sku="PMP-1", quantity=Decimal(1)),)
        order = crm.orders.create(
            OPERATOR,
            NewOrder(customer_id=crm.customers.get_by_code(OPERATOR, "D0001").customer.id, lines=line, submit=True),
        )
        result = crm_cli("erp", "sandbox", "dispatch", order.number)
        assert result.code == 1
        assert "not in the sandbox ERP yet" in result.err and result.err.strip().count("\n") == 0
        assert crm_cli("erp", "sandbox", "dispatch", "SO-1999-000001").code == 1
        assert crm_cli("erp", "sandbox", "invoice", order.number).code == 1
        assert crm.orders.get(OPERATOR, order.id).status.value == "submitted"

    def test_paying_a_bad_amount_or_an_unknown_customer_fails_cleanly(self, crm_cli: Cli) -> None:
        customer("D0001")
        for args in (("pay", "D0001", "12.345"), ("pay", "D0001", "0.00"), ("pay", "NOPE", "1.00")):
            result = crm_cli("erp", "sandbox", *args)
            assert result.code == 1, (args, result)
            assert "Traceback" not in result.err and result.err.startswith("error:")


class TestUsage:
    @pytest.mark.parametrize(
        "args",
        [
            ("erp", "sync", "widgets"),
            ("erp", "sync", "products", "--since", "last tuesday"),
            ("erp", "sync", "products", "--erp", "oracle"),
            ("erp", "sync", "products", "--batch", "0"),
            ("erp", "sandbox", "overdue", "D0001", "-1"),
        ],
    )
    def test_usage_errors_exit_2(self, crm_cli: Cli, args: tuple[str, ...]) -> None:
        assert crm_cli(*args).code == 2

    def test_an_erp_that_is_not_configured_is_one_line_and_exit_1(self, crm_cli: Cli) -> None:
        result = crm_cli("erp", "sync", "products", "--erp", "gennext")
        assert result.code == 1
        assert "gennext" in result.err and result.err.strip().count("\n") == 0


class TestCommitments:
    """`crm erp commitments`: every open order of SAP customers reported to SAP in batches (SPEC §8)."""

    def test_without_the_setting_it_says_what_to_set(self, crm_cli: Callable[..., Result]) -> None:
        result = crm_cli("erp", "commitments")
        assert result.code == 2
        assert result.err.strip().splitlines() == [
            "error: set CRM_SAP_COMMITMENTS=true (and CRM_SAP_WSDL) to report commitments to SAP"
        ]

    def test_without_sap_configured_it_refuses(
        self, crm_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CRM_SAP_COMMITMENTS", "true")
        result = crm_cli("erp", "commitments")
        assert result.code == 2
        assert "CRM_SAP_COMMITMENTS needs SAP configured" in result.err

    def test_reports_the_open_orders_of_sap_customers(
        self, crm_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from tests.erp.sap_peer import SapPeer

        peer = SapPeer()
        peer.start()
        try:
            for name, value in {
                "CRM_SAP_COMMITMENTS": "true",
                "CRM_SAP_WSDL": "bundled",
                "CRM_SAP_ENDPOINT": peer.base_url,
                "CRM_SAP_USERNAME": peer.username,
                "CRM_SAP_PASSWORD": peer.password,
            }.items():
                monkeypatch.setenv(name, value)
            crm = container().crm
            crm.catalogue.create(OPERATOR, NewProduct(sku="AMT", name="Item", unit_price=inr("1.00")))
            sap = customer("D0001", erp="sap")
            other = customer("D0002")  # a sandbox customer: not reported
            for who in (sap.id, other.id):
                crm.orders.create(
                    OPERATOR,
                    NewOrder(customer_id=who, lines=(LineRequest(sku="AMT", quantity=Decimal("250")),), submit=True),
                )
            result = crm_cli("erp", "commitments")
            assert result.code == 0, result.err
            assert result.out.strip() == "reported 1 open orders to SAP as credit commitments"
            assert [(c["DebtorPartyInternalID"], c["Amount"]) for c in peer.commitments] == [("D0001", "250.00")]
        finally:
            peer.stop()
        assert peer.problems == []
