"""The `ErpGateway` contract: every test runs once per gateway — the sandbox (in-process), SAP (the real zeep
client over real HTTP against the local SOAP peer) and GenNext (real httpx against the local REST peer).

Each gateway comes with a driver (tests/erp/drivers.py) that plays the ERP's part: seeds customers, products and
balances, moves orders on, injects faults. A capability a gateway genuinely lacks is listed in its driver's
`lacks` with the reason, and a test that `needs` it is simply not generated for that gateway (nothing is
skipped): today the sandbox has no wire (no timeouts or malformed answers), no credentials and no master-data
check. A new ERP joins by adding a driver and one entry to `DRIVERS`.

Per-gateway details (SOAP envelopes, WS-Security, GenNext's JSON bodies, SAP's fault texts, the sandbox's own
drivers) stay in tests/erp/test_sap_gateway.py, tests/erp/test_gennext_gateway.py and
tests/erp_sandbox/test_sandbox_erp.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.erp.errors import ErpCredentialsRefused
from crm_domain.erp import ErpBalance, ErpChanges, ErpCustomer, ErpOrderState, ErpProduct, ErpRejected
from crm_domain.errors import UpstreamUnavailable
from crm_domain.money import Money
from crm_domain.ports import ErpGateway
from tests.erp.drivers import (
    CREDENTIALS,
    ERP_NOW,
    MASTER_DATA,
    WIRE,
    WRONG_SECRET,
    ErpDriver,
    GenNextDriver,
    SandboxDriver,
    SapDriver,
    erp_order,
)

T0 = ERP_NOW - timedelta(days=30)
T1 = ERP_NOW - timedelta(days=1)
DEALER = ErpCustomer(customer_code="D-100", erp_customer_id="K-D-100", name="Dealer D-100", changed_at=T0)
CEMENT = ErpProduct(
    sku="CEM-50",
    erp_material_id="M-CEM-50",
    name="Cement 50 kg",
    uom="BAG",
    unit_price=Money.of("420.00", "INR"),
    tax_rate=Decimal("28.00"),
    changed_at=T0,
)
NEW_CUSTOMERS = tuple(
    ErpCustomer(
        customer_code=f"D-2{n:02d}",
        erp_customer_id=f"K-D-2{n:02d}",
        name=f"Dealer {n}",
        mobile=f"+9198000000{n:02d}" if n % 2 else None,
        territory="NORTH" if n < 3 else "",
        active=n != 4,
        changed_at=T1,
    )
    for n in range(5)
)
NEW_PRODUCTS = tuple(
    ErpProduct(
        sku=f"TMT-{n}",
        erp_material_id=f"M-TMT-{n}",
        name=f"TMT bar {n} mm",
        uom="KG",
        unit_price=Money.of(f"61.{n}0", "INR"),
        tax_rate=Decimal(12),
        active=n != 2,
        changed_at=T1 + timedelta(hours=n),
    )
    for n in range(4)
)
DRIVERS: dict[str, Any] = {  # name → driver class; the sandbox's takes a folder for its database
    "sandbox": SandboxDriver,
    "sap": SapDriver,
    "gennext": GenNextDriver,
}


def needs(*capabilities: str) -> pytest.MarkDecorator:
    """Run the test only on the gateways that have every one of `capabilities` (see the drivers' `lacks`)."""
    return pytest.mark.needs(*capabilities)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`erp` over every driver, except those that lack a capability the test `needs` — those combinations are not
    generated at all (no skip), and the module docstring says which gateway lacks what and why."""
    if "erp" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("needs")
    wanted = marker.args if marker else ()
    names = [name for name, driver in DRIVERS.items() if not any(c in driver.lacks for c in wanted)]
    metafunc.parametrize("erp", names, indirect=True)


@pytest.fixture
def erp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ErpDriver]:
    """An ERP that knows the dealer D-100 and the product CEM-50 (changed at T0), with its gateway."""
    driver: ErpDriver = SandboxDriver(tmp_path) if request.param == "sandbox" else DRIVERS[request.param]()
    try:
        driver.add_customer(DEALER)
        driver.add_product(CEMENT)
        yield driver
    finally:
        driver.close()


def walk(list_page: Callable[[str | None], ErpChanges[Any]], limit: int) -> list[tuple[Any, ...]]:
    """Every page of a changed-since listing, following the cursor until the ERP says there is no more."""
    pages: list[tuple[Any, ...]] = []
    cursor: str | None = None
    while True:
        page = list_page(cursor)
        assert len(page.items) <= limit
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor never ends"


class TestCreateOrder:
    def test_creating_twice_gives_the_first_erp_order_and_one_order_in_the_erp(self, erp: ErpDriver) -> None:
        first = erp.gateway.create_order(erp_order("01JORDER-A"))
        again = erp.gateway.create_order(erp_order("01JORDER-A"))
        other = erp.gateway.create_order(erp_order("01JORDER-B"))

        assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
        assert again.erp_order_id == first.erp_order_id != other.erp_order_id
        assert (erp.order_count("01JORDER-A"), erp.order_count("01JORDER-B")) == (1, 1)

    def test_a_create_that_failed_is_retried_into_one_order(self, erp: ErpDriver) -> None:
        erp.fail_next()
        with pytest.raises(UpstreamUnavailable):
            erp.gateway.create_order(erp_order("01JORDER-C"))
        assert erp.order_count("01JORDER-C") == 0
        erp.recover()

        assert erp.gateway.create_order(erp_order("01JORDER-C")).duplicate is False
        assert erp.order_count("01JORDER-C") == 1

    @needs(MASTER_DATA)
    @pytest.mark.parametrize("unknown", [{"customer": "D-404"}, {"sku": "NOPE-1"}], ids=["customer", "product"])
    def test_an_unknown_customer_or_product_is_refused_for_good(self, erp: ErpDriver, unknown: dict[str, str]) -> None:
        with pytest.raises(ErpRejected):
            erp.gateway.create_order(erp_order("01JORDER-D", **unknown))
        assert erp.order_count("01JORDER-D") == 0


class TestOrderStatus:
    def test_a_new_order_is_open_under_our_order_id(self, erp: ErpDriver) -> None:
        ack = erp.gateway.create_order(erp_order("01JORDER-E"))

        status = erp.gateway.order_status(ack.erp_order_id)

        assert (status.erp_order_id, status.external_ref, status.state) == (
            ack.erp_order_id,
            "01JORDER-E",
            ErpOrderState.OPEN,
        )
        assert (status.invoice_number, status.invoiced_amount, status.changed_at) == (None, None, ERP_NOW)

    @pytest.mark.parametrize("state", [ErpOrderState.DISPATCHED, ErpOrderState.INVOICED, ErpOrderState.DELIVERED])
    def test_reports_the_order_as_the_erp_moves_it_on(self, erp: ErpDriver, state: ErpOrderState) -> None:
        order = erp_order("01JORDER-F")
        ack = erp.gateway.create_order(order)
        erp.move(ack.erp_order_id, state)

        status = erp.gateway.order_status(ack.erp_order_id)

        assert (status.erp_order_id, status.external_ref, status.state) == (ack.erp_order_id, "01JORDER-F", state)
        if state is ErpOrderState.DISPATCHED:
            assert (status.invoice_number, status.invoiced_amount) == (None, None)
        else:
            assert status.invoice_number
            assert status.invoiced_amount == order.total

    def test_an_unknown_order_is_refused(self, erp: ErpDriver) -> None:
        with pytest.raises(ErpRejected):
            erp.gateway.order_status("0000000042")


class TestCancelOrder:
    def test_an_open_order_is_cancelled_and_a_second_cancel_is_no_error(self, erp: ErpDriver) -> None:
        ack = erp.gateway.create_order(erp_order("01JORDER-G"))

        erp.gateway.cancel_order(ack.erp_order_id, "customer withdrew")
        erp.gateway.cancel_order(ack.erp_order_id, "customer withdrew")

        assert erp.gateway.order_status(ack.erp_order_id).state is ErpOrderState.CANCELLED

    def test_an_invoiced_order_cannot_be_cancelled(self, erp: ErpDriver) -> None:
        ack = erp.gateway.create_order(erp_order("01JORDER-H"))
        erp.move(ack.erp_order_id, ErpOrderState.INVOICED)

        with pytest.raises(ErpRejected):
            erp.gateway.cancel_order(ack.erp_order_id, "too late")
        assert erp.gateway.order_status(ack.erp_order_id).state is ErpOrderState.INVOICED

    def test_an_unknown_order_cannot_be_cancelled(self, erp: ErpDriver) -> None:
        with pytest.raises(ErpRejected):
            erp.gateway.cancel_order("0000000042", "never existed")


class TestCustomerBalance:
    def test_reports_the_receivables_and_the_days_overdue(self, erp: ErpDriver) -> None:
        erp.set_balance("D-100", Money.of("80000.25", "INR"), 17)

        assert erp.gateway.customer_balance("D-100") == ErpBalance(
            customer_code="D-100", receivables=Money.of("80000.25", "INR"), overdue_days=17, as_of=ERP_NOW
        )

    @needs(MASTER_DATA)
    def test_an_unknown_customer_is_refused(self, erp: ErpDriver) -> None:
        with pytest.raises(ErpRejected):
            erp.gateway.customer_balance("D-404")


class TestChangedSince:
    @pytest.mark.parametrize("limit", [1, 2, 5, 6, 50])
    def test_customers_come_each_exactly_once_across_pages_until_the_cursor_ends(
        self, erp: ErpDriver, limit: int
    ) -> None:
        for customer in NEW_CUSTOMERS:
            erp.add_customer(customer)

        pages = walk(lambda cursor: erp.gateway.customers_changed(None, cursor, limit), limit)

        seen = [customer for page in pages for customer in page]
        assert sorted(seen, key=lambda c: c.customer_code) == [DEALER, *NEW_CUSTOMERS]
        assert len(pages) == max(1, math.ceil(len(seen) / limit))

    @pytest.mark.parametrize("limit", [1, 3, 50])
    def test_products_come_each_exactly_once_across_pages_until_the_cursor_ends(
        self, erp: ErpDriver, limit: int
    ) -> None:
        for product in NEW_PRODUCTS:
            erp.add_product(product)

        pages = walk(lambda cursor: erp.gateway.products_changed(None, cursor, limit), limit)

        seen = [product for page in pages for product in page]
        assert sorted(seen, key=lambda p: p.sku) == [CEMENT, *NEW_PRODUCTS]
        assert len(pages) == max(1, math.ceil(len(seen) / limit))

    def test_only_what_changed_at_or_after_since(self, erp: ErpDriver) -> None:
        for customer in NEW_CUSTOMERS:
            erp.add_customer(customer)
        for product in NEW_PRODUCTS:
            erp.add_product(product)
        later = NEW_PRODUCTS[2].changed_at
        assert later is not None

        customers = walk(lambda cursor: erp.gateway.customers_changed(T1, cursor, 2), 2)
        products = walk(lambda cursor: erp.gateway.products_changed(later, cursor, 50), 50)

        assert sorted(c.customer_code for page in customers for c in page) == [c.customer_code for c in NEW_CUSTOMERS]
        assert [p.sku for page in products for p in page] == ["TMT-2", "TMT-3"]

    def test_nothing_changed_is_one_empty_page(self, erp: ErpDriver) -> None:
        page = erp.gateway.customers_changed(ERP_NOW + timedelta(days=1), None, 10)

        assert (page.items, page.next_cursor) == ((), None)


# --- failures: every operation maps them alike ----------------------------------------------------------------

EXISTING = "01JORDER-EXISTING"
OPERATIONS: dict[str, Callable[[ErpGateway, str], object]] = {
    "create": lambda gateway, _order: gateway.create_order(erp_order("01JORDER-NEW")),
    "status": lambda gateway, order: gateway.order_status(order),
    "cancel": lambda gateway, order: gateway.cancel_order(order, "customer withdrew"),
    "balance": lambda gateway, _order: gateway.customer_balance("D-100"),
    "customers": lambda gateway, _order: gateway.customers_changed(None, None, 10),
    "products": lambda gateway, _order: gateway.products_changed(None, None, 10),
}


def existing_order(erp: ErpDriver) -> str:
    """An order and a balance in the ERP, for the operations that read them."""
    erp.set_balance("D-100", Money.of("1000.00", "INR"), 0)
    return erp.gateway.create_order(erp_order(EXISTING)).erp_order_id


def assert_transient(caught: pytest.ExceptionInfo[UpstreamUnavailable]) -> None:
    assert not isinstance(caught.value, ErpRejected | ErpCredentialsRefused), caught.value


@pytest.mark.parametrize("operation", list(OPERATIONS))
class TestTransientFailures:
    def test_a_server_error_is_transient_and_the_retry_goes_through(self, erp: ErpDriver, operation: str) -> None:
        order = existing_order(erp)
        erp.fail_next()

        with pytest.raises(UpstreamUnavailable) as caught:
            OPERATIONS[operation](erp.gateway, order)
        assert_transient(caught)
        erp.recover()
        OPERATIONS[operation](erp.gateway, order)

    def test_an_unreachable_erp_is_transient(self, erp: ErpDriver, operation: str) -> None:
        order = existing_order(erp)
        unreachable = erp.gateway_with(unreachable=True, timeout=0.5)

        with pytest.raises(UpstreamUnavailable) as caught:
            OPERATIONS[operation](unreachable, order)
        assert_transient(caught)

    @needs(WIRE)
    @pytest.mark.parametrize("how", ["garbled", "wrong_shape"])
    def test_a_malformed_answer_is_transient(self, erp: ErpDriver, operation: str, how: str) -> None:
        order = existing_order(erp)
        erp.malformed_next(how)

        with pytest.raises(UpstreamUnavailable) as caught:
            OPERATIONS[operation](erp.gateway, order)
        assert_transient(caught)


class TestFailuresOnTheWire:
    @needs(WIRE)
    @pytest.mark.parametrize("operation", ["create", "customers"])
    def test_a_slow_answer_times_out_within_the_timeout(self, erp: ErpDriver, operation: str) -> None:
        order = existing_order(erp)
        impatient = erp.gateway_with(timeout=0.5)
        erp.slow_next(3.0)

        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match=r"timed out after 0\.5s") as caught:
            OPERATIONS[operation](impatient, order)
        assert time.monotonic() - started < 1.3
        assert_transient(caught)

    @needs(WIRE)
    @pytest.mark.parametrize("how", ["html", "wrong_ref"])
    def test_a_create_answered_with_a_page_or_another_order_s_confirmation_is_transient(
        self, erp: ErpDriver, how: str
    ) -> None:
        erp.malformed_next(how)

        with pytest.raises(UpstreamUnavailable) as caught:
            erp.gateway.create_order(erp_order("01JORDER-I"))
        assert_transient(caught)

    @needs(CREDENTIALS)
    def test_refused_credentials_say_which_setting_to_check_without_the_secret(self, erp: ErpDriver) -> None:
        wrong = erp.gateway_with(secret=WRONG_SECRET)

        with pytest.raises(ErpCredentialsRefused, match=erp.credentials_setting) as caught:
            wrong.create_order(erp_order("01JORDER-J"))
        assert isinstance(caught.value, UpstreamUnavailable)
        assert WRONG_SECRET not in str(caught.value)
        assert erp.order_count("01JORDER-J") == 0
