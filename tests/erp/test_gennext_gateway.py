"""The GenNext adapter with the real httpx client over real HTTP against the local GenNext peer
(tests/erp/gennext_peer.py), which speaks the contract of docs/integrations/gennext-api.md."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.erp.errors import ErpCredentialsRefused
from adapters.erp.gennext import GenNextErpGateway
from crm_domain.erp import ErpOrderState, ErpRejected
from crm_domain.errors import UpstreamUnavailable
from tests.erp.conftest import T0, inr, order_request
from tests.erp.gennext_peer import NOW, GenNextPeer


@pytest.fixture
def make_gateway(gennext_peer: GenNextPeer) -> Iterator[object]:
    made: list[GenNextErpGateway] = []

    def make(**overrides: object) -> GenNextErpGateway:
        options: dict[str, object] = {"api_key": gennext_peer.api_key, "timeout": 2.0}
        options.update(overrides)
        base_url = str(options.pop("base_url", gennext_peer.base_url))
        gateway = GenNextErpGateway(base_url, **options)  # type: ignore[arg-type]
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


class TestCreateOrder:
    def test_posts_the_order_with_our_id_as_external_ref(self, gennext, gennext_peer):
        ack = gennext.create_order(order_request("01JORDER-A"))

        assert (ack.erp_order_id, ack.duplicate) == ("GN-000001", False)
        body = gennext_peer.order_bodies[0]
        assert body["external_ref"] == "01JORDER-A"
        assert body["customer"] == {"code": "D-100", "erp_id": None}
        assert (body["net"], body["tax"], body["total"]) == ("798.00", "143.64", "941.64")
        assert body["lines"][0] == {
            "sku": "CEM-50",
            "material_id": None,
            "quantity": "2",
            "uom": "BAG",
            "unit_price": "420.00",
            "discount_pct": "5",
            "net": "798.00",
            "tax": "143.64",
            "total": "941.64",
        }
        assert body["submitted_at"] == "2026-11-02T09:30:00+00:00"

    def test_a_repeated_external_ref_returns_the_first_order_and_creates_none(self, gennext, gennext_peer):
        first = gennext.create_order(order_request("01JORDER-B"))
        again = gennext.create_order(order_request("01JORDER-B"))

        assert again.erp_order_id == first.erp_order_id
        assert (first.duplicate, again.duplicate) == (False, True)
        assert len(gennext_peer.orders) == 1

    @pytest.mark.parametrize(
        ("request_", "code"),
        [
            (order_request(customer="D-404"), "unknown_customer"),
            (order_request(sku="NOPE-1"), "unknown_product"),
        ],
    )
    def test_a_business_refusal_is_rejected_for_good(self, gennext, gennext_peer, request_, code):
        with pytest.raises(ErpRejected, match=code):
            gennext.create_order(request_)
        assert gennext_peer.orders == {}


class TestTransientFailures:
    @pytest.mark.parametrize("how", ["500", "503", "429", "404_html"])
    def test_server_errors_rate_limits_and_foreign_pages_are_transient(self, gennext, gennext_peer, how):
        gennext_peer.fail_next(how=how)

        with pytest.raises(UpstreamUnavailable, match="answered HTTP") as caught:
            gennext.create_order(order_request())
        assert not isinstance(caught.value, ErpRejected | ErpCredentialsRefused)
        assert gennext.create_order(order_request()).duplicate is False  # the retry goes through

    def test_a_slow_answer_times_out_within_the_timeout(self, make_gateway, gennext_peer):
        gennext = make_gateway(timeout=0.5)
        gennext_peer.delay_next(3.0)

        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match=r"timed out after 0\.5s"):
            gennext.order_status("GN-000001")
        assert time.monotonic() - started < 1.3

    def test_an_unreachable_gennext_is_transient(self, make_gateway):
        gennext = make_gateway(base_url="http://127.0.0.1:9", timeout=0.5)

        with pytest.raises(UpstreamUnavailable, match="cannot be reached"):
            gennext.customer_balance("D-100")

    @pytest.mark.parametrize("how", ["not_json", "html", "wrong_shape", "bad_state", "wrong_ref"])
    def test_a_malformed_answer_is_transient(self, gennext, gennext_peer, how):
        gennext_peer.malformed_next(how)

        with pytest.raises(UpstreamUnavailable, match="answered malformed") as caught:
            gennext.create_order(order_request())
        assert not isinstance(caught.value, ErpRejected)


class TestOrderStatus:
    @pytest.mark.parametrize("state", list(ErpOrderState))
    def test_reports_the_state(self, gennext, gennext_peer, state):
        order_id = gennext.create_order(order_request()).erp_order_id
        gennext_peer.set_order_state(order_id, state.value)

        status = gennext.order_status(order_id)

        assert (status.erp_order_id, status.external_ref, status.state) == (order_id, "01JCRMORDER0001", state)
        assert status.changed_at == NOW

    def test_an_invoiced_order_carries_its_invoice(self, gennext, gennext_peer):
        order_id = gennext.create_order(order_request()).erp_order_id
        gennext_peer.set_order_state(
            order_id, "invoiced", invoice={"number": "INV-77", "amount": "941.64", "currency": "INR"}
        )

        status = gennext.order_status(order_id)

        assert (status.invoice_number, status.invoiced_amount) == ("INV-77", inr("941.64"))

    def test_an_unknown_order_is_rejected(self, gennext):
        with pytest.raises(ErpRejected, match="order_not_found"):
            gennext.order_status("GN-999999")


class TestCancelOrder:
    def test_cancels_and_cancelling_again_is_no_error(self, gennext, gennext_peer):
        order_id = gennext.create_order(order_request()).erp_order_id

        gennext.cancel_order(order_id, "customer withdrew")
        gennext.cancel_order(order_id, "customer withdrew")

        assert gennext_peer.orders[order_id]["state"] == "cancelled"

    def test_an_invoiced_order_cannot_be_cancelled(self, gennext, gennext_peer):
        order_id = gennext.create_order(order_request()).erp_order_id
        gennext_peer.set_order_state(order_id, "invoiced")

        with pytest.raises(ErpRejected, match="order_not_cancellable"):
            gennext.cancel_order(order_id, "too late")
        assert gennext_peer.orders[order_id]["state"] == "invoiced"


class TestBalance:
    def test_reads_receivables_and_overdue_days(self, gennext, gennext_peer):
        gennext_peer.set_balance("D-100", "80000.25", overdue_days=17)

        balance = gennext.customer_balance("D-100")

        assert (balance.customer_code, balance.receivables, balance.overdue_days) == ("D-100", inr("80000.25"), 17)
        assert balance.as_of == NOW

    def test_an_unknown_customer_is_rejected(self, gennext):
        with pytest.raises(ErpRejected, match="customer_not_found"):
            gennext.customer_balance("D-404")

    def test_a_code_with_a_slash_stays_one_path_segment(self, gennext, gennext_peer):
        gennext_peer.set_balance("D/7", "1.00")

        assert gennext.customer_balance("D/7").receivables == inr("1.00")


class TestChangedSince:
    def test_customers_are_paged_by_cursor_until_none(self, gennext, gennext_peer):
        for index in range(4):
            gennext_peer.add_customer(f"D-20{index}", territory="NORTH", changed=T0)
        codes: list[str] = []
        pages = 0
        cursor = None
        while True:
            page = gennext.customers_changed(None, cursor, 2)
            pages += 1
            codes += [item.customer_code for item in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break

        assert codes == ["D-100", "D-200", "D-201", "D-202", "D-203"]
        assert pages == 3

    def test_only_customers_changed_at_or_after_since(self, gennext, gennext_peer):
        gennext_peer.add_customer("D-300", changed=T0 + timedelta(days=2), active=False, mobile="+919800000001")

        page = gennext.customers_changed(T0 + timedelta(days=2), None, 50)

        assert [c.customer_code for c in page.items] == ["D-300"]
        customer = page.items[0]
        assert (customer.erp_customer_id, customer.active, customer.mobile) == ("GC-D-300", False, "+919800000001")
        assert customer.changed_at == T0 + timedelta(days=2)

    def test_products_map_their_fields(self, gennext, gennext_peer):
        gennext_peer.add_product("TMT-12", material_id="M-77", uom="KG", unit_price="61.50", tax_rate="12", changed=T0)

        page = gennext.products_changed(None, None, 10)

        product = {p.sku: p for p in page.items}["TMT-12"]
        assert (product.erp_material_id, product.uom, product.unit_price) == ("M-77", "KG", inr("61.50"))
        assert (product.tax_rate, product.active) == (Decimal(12), True)
        assert page.next_cursor is None


class TestAuthentication:
    def test_a_wrong_api_key_is_a_clear_credentials_error_without_the_key(self, make_gateway, gennext_peer):
        gennext = make_gateway(api_key="wrong-key-123")

        with pytest.raises(ErpCredentialsRefused, match="CRM_GENNEXT_API_KEY") as caught:
            gennext.create_order(order_request())
        assert isinstance(caught.value, UpstreamUnavailable)
        assert "wrong-key-123" not in str(caught.value)
        assert gennext_peer.orders == {}
