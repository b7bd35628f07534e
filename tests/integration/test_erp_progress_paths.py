"""One ERP-progress rule on every path (SPEC §2.3, §2.5, §8): however the ERP's invoice of an order reaches the
CRM — the library service, the signed webhook, `crm erp sync order-status`, `crm erp sandbox invoice` or the demo
seed — the invoiced amount is still owed, so it moves from the order's reservation to the receivables and a held
order that did not fit before still does not.

The scenario, on the embedded store and the sandbox ERP the CLI uses: a 10,000.00 limit; order A of 6,000.00
submitted, sent to the sandbox ERP and confirmed by the worker; order B of 5,000.00 on credit hold; then A is
invoiced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import attrs
import pytest
from litestar.testing import TestClient

from adapters.erp.sandbox import SandboxErpGateway
from crm_domain.erp import ErpOrderState
from crm_domain.money import Money
from crm_domain.orders import LineRequest, Order, OrderStatus
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.erp_events import OrderStatusReport
from crm_domain.services.orders import NewOrder
from entrypoints.cli.context import OPERATOR, container
from entrypoints.demo_data import erp_progress
from entrypoints.http.app import create_app
from entrypoints.http.controllers.integrations import sign
from tests.cli.conftest import Result

SECRET = "erp-webhook-" + "s" * 40
S = OrderStatus


def inr(amount: str) -> Money:
    return Money.of(amount, "INR")


@attrs.frozen
class Scenario:
    customer_id: str
    a: Order  # submitted, in the sandbox ERP, confirmed
    b: Order  # on credit hold
    cli: Callable[..., tuple[int, str]]

    @property
    def erp_order_id(self) -> str:
        assert self.a.erp_order_id is not None
        return self.a.erp_order_id


def sandbox() -> SandboxErpGateway:
    gateway = container().sandbox  # the routed one, without the metrics wrapper
    assert isinstance(gateway, SandboxErpGateway)
    return gateway


@pytest.fixture
def scenario(crm_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> Iterator[Scenario]:
    monkeypatch.setenv("CRM_ERP_WEBHOOK_SECRET", SECRET)  # read when the CLI's container is first built

    def cli(*args: str) -> tuple[int, str]:
        result = crm_cli(*args)
        return result.code, result.out + result.err

    crm = container().crm
    crm.catalogue.create(OPERATOR, NewProduct(sku="AMT", name="Credit test item at 1.00", unit_price=inr("1.00")))
    customer = crm.customers.create(
        OPERATOR, NewCustomer(code="D0001", name="Jaipur Agro", mobile="+919100000001", credit_limit=inr("10000.00"))
    ).customer

    def order(amount: str) -> Order:
        line = LineRequest(sku="AMT", quantity=amount)
        return crm.orders.create(OPERATOR, NewOrder(customer_id=customer.id, lines=(line,), submit=True))

    a, b = order("6000.00"), order("5000.00")
    assert (a.status, b.status) == (S.SUBMITTED, S.ON_CREDIT_HOLD)
    code, output = cli("worker", "--once")  # A reaches the sandbox ERP and is confirmed with its number
    assert code == 0, output
    a = crm.orders.get(OPERATOR, a.id)
    assert a.status is S.CONFIRMED and a.erp_order_id
    yield Scenario(customer.id, a, b, cli)
    container.cache_clear()


# --- the paths ---------------------------------------------------------------------------------------------------


def library(s: Scenario) -> None:
    report = OrderStatusReport(erp_order_id=s.erp_order_id, external_ref=s.a.id, state=ErpOrderState.INVOICED)
    container().crm.erp_events.apply_order_status("sandbox", report)


def webhook(s: Scenario) -> None:
    event = {
        "type": "order.status",
        "id": "evt-1",
        "external_ref": s.a.id,
        "erp_order_id": s.erp_order_id,
        "state": "invoiced",
    }
    raw = json.dumps(event).encode()
    timestamp = str(int(container().crm.ctx.now().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-CRM-Timestamp": timestamp,
        "X-CRM-Signature": sign(SECRET.encode(), timestamp, raw),
    }
    with TestClient(create_app(container())) as client:
        response = client.post("/api/v1/integrations/sandbox/events", content=raw, headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["applied"], response.json()["rejected"]) == (1, 0)


def sync_order_status(s: Scenario) -> None:
    sandbox().dispatch(s.erp_order_id)
    sandbox().invoice(s.erp_order_id)
    code, output = s.cli("erp", "sync", "order-status")
    assert code == 0, output
    assert "1 updated" in output


def sandbox_invoice(s: Scenario) -> None:
    for step in ("dispatch", "invoice"):
        code, output = s.cli("erp", "sandbox", step, s.a.number)
        assert code == 0, output
    assert "the CRM order is invoiced" in output


def demo_seed(s: Scenario) -> None:
    driver = container().sandbox
    assert driver is not None
    erp_progress(container().crm, driver, s.a, S.INVOICED)
    assert sandbox().find_by_external_ref(s.a.id).state is ErpOrderState.INVOICED  # type: ignore[union-attr]


PATHS: dict[str, Callable[[Scenario], None]] = {
    "library service": library,
    "signed webhook": webhook,
    "crm erp sync order-status": sync_order_status,
    "crm erp sandbox invoice": sandbox_invoice,
    "demo seed": demo_seed,
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_an_invoice_moves_the_amount_to_receivables_and_keeps_the_hold(scenario: Scenario, path: str) -> None:
    PATHS[path](scenario)

    crm = container().crm
    position = crm.credit.position(OPERATOR, scenario.customer_id)
    assert (position.receivables, position.open_orders, position.dispatched, position.exposure) == (
        inr("6000.00"),
        inr("0.00"),
        inr("0.00"),
        inr("6000.00"),
    )
    with crm.ctx.uow(read_only=True) as uow:
        account = uow.credit.get(scenario.customer_id)
    assert account is not None
    assert account.reservations == {}  # A's reservation released; B never had one
    a, b = (crm.orders.get(OPERATOR, o.id) for o in (scenario.a, scenario.b))
    assert (a.status, b.status) == (S.INVOICED, S.ON_CREDIT_HOLD)
    assert [h.to_status for h in a.history] == [S.DRAFT, S.SUBMITTED, S.CONFIRMED, S.DISPATCHED, S.INVOICED]
