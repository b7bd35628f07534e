"""Drivers for the ERP gateway contract (tests/contract/test_erp_gateways.py): one per gateway, each playing the
ERP's part behind it — seeding customers, products and balances, moving an order on as the ERP would, and
injecting the faults the port maps (a server error, an unreachable ERP, a slow answer, a malformed answer,
refused credentials).

The sandbox is driven through its own drivers (it is in-process); SAP and GenNext through their local peers
(tests/erp/sap_peer.py, tests/erp/gennext_peer.py) over real HTTP. What a gateway genuinely cannot do is listed
in its `lacks`, capability → why; the suite skips that test with the reason in the report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol

from adapters.erp.gennext import GenNextErpGateway
from adapters.erp.sandbox import SandboxErpGateway
from adapters.erp.sap import BUNDLED_WSDL, SapErpGateway
from adapters.system import FixedClock
from crm_domain.erp import ErpCustomer, ErpOrderLine, ErpOrderRequest, ErpOrderState, ErpProduct
from crm_domain.money import Money
from crm_domain.ports import ErpGateway
from tests.erp.gennext_peer import GenNextPeer
from tests.erp.sap_peer import SapPeer

ERP_NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # what every ERP here reports as "as of" / "changed at"
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused
WRONG_SECRET = "wrong-secret-0123"  # the secret a refused-credentials test must not find in the error

# Capabilities a test may need that a gateway can lack.
WIRE = "wire"  # an answer on the wire that can be slow or malformed
CREDENTIALS = "credentials"  # credentials the ERP can refuse
MASTER_DATA = "master data"  # the ERP refuses orders and balances of customers (and products) it does not know


class ErpDriver(Protocol):
    """What the contract suite asks of each gateway's driver."""

    name: str
    gateway: ErpGateway
    lacks: ClassVar[dict[str, str]]

    def add_customer(self, customer: ErpCustomer) -> None:
        """The ERP holds this customer, changed at `customer.changed_at`."""

    def add_product(self, product: ErpProduct) -> None:
        """The ERP holds this product, changed at `product.changed_at`."""

    def set_balance(self, customer_code: str, receivables: Money, overdue_days: int) -> None:
        """The customer owes `receivables` in the ERP, the oldest item `overdue_days` overdue."""

    def move(self, erp_order_id: str, state: ErpOrderState) -> None:
        """The ERP moves the order on (dispatched, invoiced for its whole total, delivered), step by step."""

    def order_count(self, external_ref: str) -> int:
        """How many orders the ERP holds with that external reference."""

    def fail_next(self) -> None:
        """The ERP's server fails (5xx) until `recover` (the peers: the next request only)."""

    def recover(self) -> None: ...

    def malformed_next(self, how: str) -> None:
        """The next answer is malformed: `garbled` (does not parse), `html` (a web page), `wrong_shape` (parses but
        breaks the schema), `wrong_ref` (a create's confirmation of another order)."""

    def slow_next(self, seconds: float) -> None: ...

    def gateway_with(self, *, unreachable: bool = False, timeout: float = 2.0, secret: str | None = None) -> Any:
        """Another gateway to the same ERP: at an address where nothing listens, with another timeout or with
        another password / API key."""

    @property
    def credentials_setting(self) -> str: ...

    def close(self) -> None: ...


def erp_order(
    external_ref: str, *, customer: str = "D-100", sku: str = "CEM-50", total: Money | None = None
) -> ErpOrderRequest:
    """An order of one line; `total` (tax included) defaults to 941.64 INR. The ERP's ids of the customer and the
    product are `K-<code>` and `M-<sku>`, as the suite seeds them."""
    gross = total or Money.of("941.64", "INR")
    net = Money(round(gross.minor / Decimal("1.18")), gross.currency)
    tax = Money(gross.minor - net.minor, gross.currency)
    line = ErpOrderLine(
        sku=sku,
        erp_material_id=f"M-{sku}",
        quantity=Decimal(2),
        uom="BAG",
        unit_price=Money(net.minor // 2, gross.currency),
        discount_pct=Decimal(0),
        net=net,
        tax=tax,
        total=gross,
    )
    return ErpOrderRequest(
        external_ref=external_ref,
        number=f"SO-{external_ref}",
        customer_code=customer,
        erp_customer_id=f"K-{customer}",
        currency=gross.currency,
        lines=(line,),
        net=net,
        tax=tax,
        total=gross,
        notes="deliver before Diwali",
        submitted_at=ERP_NOW,
    )


class SandboxDriver:
    name = "sandbox"
    lacks: ClassVar[dict[str, str]] = {
        WIRE: "the sandbox runs in-process: no wire, so no answer to time out or to garble",
        CREDENTIALS: "the sandbox runs in-process and asks for no credentials",
        MASTER_DATA: "the sandbox takes orders and balance queries for any customer and product (in the embedded "
        "set-up the CRM is the master; nobody seeds the sandbox's master data), an unknown customer owes nothing",
    }

    def __init__(self, tmp_path: Path) -> None:
        self._path = tmp_path / "sandbox-erp.db"
        self._outage = tmp_path / "sandbox-erp-is-down"
        self.gateway = self.sandbox = SandboxErpGateway(self._path, FixedClock(ERP_NOW), outage_file=self._outage)
        self._others: list[SandboxErpGateway] = []

    def add_customer(self, customer: ErpCustomer) -> None:
        self.sandbox.put_customer(customer)

    def add_product(self, product: ErpProduct) -> None:
        self.sandbox.put_product(product)

    def set_balance(self, customer_code: str, receivables: Money, overdue_days: int) -> None:
        """The sandbox's receivables are what it invoiced: one order of that total, invoiced."""
        ack = self.sandbox.create_order(
            erp_order(f"balance-of-{customer_code}", customer=customer_code, total=receivables)
        )
        self.move(ack.erp_order_id, ErpOrderState.INVOICED)
        self.sandbox.set_overdue(customer_code, overdue_days)

    def move(self, erp_order_id: str, state: ErpOrderState) -> None:
        steps = {
            ErpOrderState.DISPATCHED: self.sandbox.dispatch,
            ErpOrderState.INVOICED: self.sandbox.invoice,
            ErpOrderState.DELIVERED: self.sandbox.deliver,
        }
        for step, action in steps.items():
            action(erp_order_id)
            if step is state:
                return

    def order_count(self, external_ref: str) -> int:
        return self.sandbox.order_count(external_ref)

    def fail_next(self) -> None:
        self._outage.touch()

    def recover(self) -> None:
        self._outage.unlink(missing_ok=True)

    def malformed_next(self, how: str) -> None:  # pragma: no cover - lacks WIRE
        raise NotImplementedError(how)

    def slow_next(self, seconds: float) -> None:  # pragma: no cover - lacks WIRE
        raise NotImplementedError

    def gateway_with(self, *, unreachable: bool = False, timeout: float = 2.0, secret: str | None = None) -> Any:
        """An unreachable sandbox is one whose outage switch is on."""
        assert secret is None, self.lacks[CREDENTIALS]
        outage = self._outage.with_name("another-switch")
        if unreachable:
            outage.touch()
        other = SandboxErpGateway(self._path, FixedClock(ERP_NOW), outage_file=outage)
        self._others.append(other)
        return other

    @property
    def credentials_setting(self) -> str:  # pragma: no cover - lacks CREDENTIALS
        raise NotImplementedError

    def close(self) -> None:
        for gateway in (self.sandbox, *self._others):
            gateway.close()


class SapDriver:
    name = "sap"
    lacks: ClassVar[dict[str, str]] = {}
    _MALFORMED: ClassVar[dict[str, str]] = {
        "garbled": "not_xml",
        "html": "html",
        "wrong_shape": "invalid",
        "wrong_ref": "wrong_ref",
    }

    def __init__(self) -> None:
        self.peer = SapPeer()
        self.peer.start()
        self.gateway = self.gateway_with()

    def add_customer(self, customer: ErpCustomer) -> None:
        assert customer.changed_at is not None
        self.peer.add_customer(
            customer.erp_customer_id,
            name=customer.name,
            changed=customer.changed_at,
            code=customer.customer_code,
            mobile=customer.mobile,
            territory=customer.territory,
            currency=customer.currency,
            blocked=not customer.active,
        )

    def add_product(self, product: ErpProduct) -> None:
        assert product.changed_at is not None
        self.peer.add_material(
            product.erp_material_id,
            price=product.unit_price.decimal_string(),
            changed=product.changed_at,
            sku=product.sku,
            name=product.name,
            uom=product.uom,
            currency=product.unit_price.currency,
            tax=str(product.tax_rate),
            deleted=not product.active,
        )

    def set_balance(self, customer_code: str, receivables: Money, overdue_days: int) -> None:
        self.peer.set_balance(
            customer_code,
            limit=Decimal(1_000_000),
            exposure=receivables.amount,
            receivables=receivables.amount,
            overdue_days=overdue_days,
            currency=receivables.currency,
        )

    def move(self, erp_order_id: str, state: ErpOrderState) -> None:
        statuses: dict[ErpOrderState, dict[str, Any]] = {
            ErpOrderState.DISPATCHED: {"delivery": "C"},
            ErpOrderState.INVOICED: {"delivery": "C", "invoice": "C", "invoice_id": f"90{erp_order_id[-6:]}"},
            ErpOrderState.DELIVERED: {
                "delivery": "C",
                "invoice": "C",
                "invoice_id": f"90{erp_order_id[-6:]}",
                "pod": "C",
            },
        }
        self.peer.set_order_state(erp_order_id, **statuses[state])

    def order_count(self, external_ref: str) -> int:
        return sum(order.external_ref == external_ref for order in self.peer.orders.values())

    def fail_next(self) -> None:
        self.peer.fail_next(how="http503")

    def recover(self) -> None:
        pass  # the failure was for one request

    def malformed_next(self, how: str) -> None:
        self.peer.malformed_next(self._MALFORMED[how])

    def slow_next(self, seconds: float) -> None:
        self.peer.delay_next(seconds)

    def gateway_with(self, *, unreachable: bool = False, timeout: float = 2.0, secret: str | None = None) -> Any:
        return SapErpGateway(
            str(BUNDLED_WSDL),
            username=self.peer.username,
            password=self.peer.password if secret is None else secret,
            timeout=timeout,
            endpoint=UNREACHABLE if unreachable else self.peer.base_url,
        )

    @property
    def credentials_setting(self) -> str:
        return "CRM_SAP_PASSWORD"

    def close(self) -> None:
        self.peer.stop()
        assert self.peer.problems == [], self.peer.problems


class GenNextDriver:
    name = "gennext"
    lacks: ClassVar[dict[str, str]] = {}
    _MALFORMED: ClassVar[dict[str, str]] = {
        "garbled": "not_json",
        "html": "html",
        "wrong_shape": "wrong_shape",
        "wrong_ref": "wrong_ref",
    }

    def __init__(self) -> None:
        self.peer = GenNextPeer()
        self.peer.start()
        self._made: list[GenNextErpGateway] = []
        self.gateway = self.gateway_with()

    def add_customer(self, customer: ErpCustomer) -> None:
        assert customer.changed_at is not None
        self.peer.add_customer(
            customer.customer_code,
            changed=customer.changed_at,
            id=customer.erp_customer_id,
            name=customer.name,
            mobile=customer.mobile,
            territory=customer.territory,
            currency=customer.currency,
            active=customer.active,
        )

    def add_product(self, product: ErpProduct) -> None:
        assert product.changed_at is not None
        self.peer.add_product(
            product.sku,
            changed=product.changed_at,
            material_id=product.erp_material_id,
            name=product.name,
            uom=product.uom,
            unit_price=product.unit_price.decimal_string(),
            currency=product.unit_price.currency,
            tax_rate=str(product.tax_rate),
            active=product.active,
        )

    def set_balance(self, customer_code: str, receivables: Money, overdue_days: int) -> None:
        self.peer.set_balance(customer_code, receivables.decimal_string(), overdue_days, receivables.currency)

    def move(self, erp_order_id: str, state: ErpOrderState) -> None:
        invoice = None
        if state in (ErpOrderState.INVOICED, ErpOrderState.DELIVERED):
            ref = self.peer.orders[erp_order_id]["external_ref"]
            body = next(body for body in self.peer.order_bodies if body["external_ref"] == ref)
            invoice = {"number": f"INV-{erp_order_id}", "amount": body["total"], "currency": body["currency"]}
        self.peer.set_order_state(erp_order_id, state.value, invoice)

    def order_count(self, external_ref: str) -> int:
        return sum(order["external_ref"] == external_ref for order in self.peer.orders.values())

    def fail_next(self) -> None:
        self.peer.fail_next(how="503")

    def recover(self) -> None:
        pass  # the failure was for one request

    def malformed_next(self, how: str) -> None:
        self.peer.malformed_next(self._MALFORMED[how])

    def slow_next(self, seconds: float) -> None:
        self.peer.delay_next(seconds)

    def gateway_with(self, *, unreachable: bool = False, timeout: float = 2.0, secret: str | None = None) -> Any:
        gateway = GenNextErpGateway(
            UNREACHABLE if unreachable else self.peer.base_url,
            self.peer.api_key if secret is None else secret,
            timeout=timeout,
        )
        self._made.append(gateway)
        return gateway

    @property
    def credentials_setting(self) -> str:
        return "CRM_GENNEXT_API_KEY"

    def close(self) -> None:
        for gateway in self._made:
            gateway.close()
        self.peer.stop()
        assert self.peer.problems == [], self.peer.problems
