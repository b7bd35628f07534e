"""The demo data and the sandbox ERP agree (issue 14, decision 0019): on a freshly seeded store every `crm erp …`
command succeeds and changes no figure it should not — the sandbox issued the ERP number every demo order carries
and holds it in the same state, holds the demo's dealers, catalogue and receivables, and a demo order dispatched
there can be invoiced."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.erp.sandbox import SandboxErpGateway
from crm_domain.money import Money
from crm_domain.orders import Order, OrderStatus
from crm_domain.records import PageRequest
from crm_domain.services.erp_events import STATUS_TO_STATE
from entrypoints.cli.context import OPERATOR, container
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def sandbox() -> SandboxErpGateway:
    gateway = container().sandbox  # the routed one, without the metrics wrapper
    assert isinstance(gateway, SandboxErpGateway)
    return gateway


def all_orders() -> list[Order]:
    crm, orders, cursor = container().crm, [], None
    while True:
        page = crm.orders.list(OPERATOR, PageRequest(limit=200, cursor=cursor))
        orders += page.items
        if page.next_cursor is None:
            return orders
        cursor = page.next_cursor


def receivables_by_code() -> dict[str, tuple[Money, int]]:
    crm = container().crm
    customers = crm.customers.list(OPERATOR, PageRequest(limit=200)).items
    return {c.code: (p.receivables, p.overdue_days) for c in customers for p in [crm.credit.position(OPERATOR, c.id)]}


@pytest.fixture
def seeded(crm_cli: Cli) -> Cli:
    result = crm_cli("demo", "seed", "--months", "3", "--orders-per-month", "60")
    assert result.code == 0, result.err
    return crm_cli


class TestDemoSeedAgreesWithTheSandboxErp:
    def test_every_erp_number_was_issued_by_the_sandbox_in_the_same_state(self, seeded: Cli) -> None:
        in_erp = [o for o in all_orders() if o.erp_order_id is not None]
        assert {o.status for o in in_erp} >= {OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.DELIVERED}
        for order in in_erp:
            erp = sandbox().find_by_external_ref(order.id)
            assert erp is not None, order.number
            assert (erp.erp_order_id, erp.state) == (order.erp_order_id, STATUS_TO_STATE[order.status])
        assert sandbox().order_count() == len(in_erp)

    def test_the_sandbox_holds_each_dealers_receivables(self, seeded: Cli) -> None:
        for code, (receivables, overdue) in receivables_by_code().items():
            balance = sandbox().customer_balance(code)
            assert (balance.receivables, balance.overdue_days) == (receivables, overdue), code

    def test_every_sync_succeeds_and_changes_nothing(self, seeded: Cli) -> None:
        before = receivables_by_code()
        expected = {
            ("order-status",): "0 updated",
            ("balances",): "0 updated",
            ("products", "--erp", "sandbox"): "0 created, 0 updated, 200 unchanged, 0 failed",
            ("customers",): "0 created, 0 updated, 50 unchanged, 0 failed",
        }
        for args, summary in expected.items():
            result = seeded("erp", "sync", *args)
            assert result.code == 0, result.out + result.err
            assert summary in result.out and " 0 failed" in result.out, result.out
        assert receivables_by_code() == before

    def test_a_dispatched_demo_order_is_invoiced_in_both(self, seeded: Cli) -> None:
        order = next(o for o in all_orders() if o.status is OrderStatus.DISPATCHED)
        code = container().crm.customers.get(OPERATOR, order.customer_id).customer.code
        owed, _ = receivables_by_code()[code]

        result = seeded("erp", "sandbox", "invoice", order.number)

        assert result.code == 0, result.err
        assert "the CRM order is invoiced" in result.out
        assert receivables_by_code()[code][0] == owed + order.total
        assert sandbox().customer_balance(code).receivables == owed + order.total
        balances = seeded("erp", "sync", "balances")
        assert balances.code == 0 and "0 updated" in balances.out
        assert receivables_by_code()[code][0] == owed + order.total
