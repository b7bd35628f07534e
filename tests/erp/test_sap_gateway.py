"""The SAP adapter with the real zeep client over real HTTP against the local SAP peer (tests/erp/sap_peer.py),
which validates every request against the repository's XSDs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.erp.errors import ErpCredentialsRefused
from adapters.erp.sap import BUNDLED_WSDL, SapErpGateway
from adapters.erp.sap_messages import SapCreditCommitment
from crm_domain.erp import ErpOrderState, ErpRejected
from crm_domain.errors import UpstreamUnavailable
from tests.erp.conftest import T0, inr, order_request
from tests.erp.sap_peer import SapPeer


def gateway_for(peer: SapPeer, **overrides: object) -> SapErpGateway:
    options: dict[str, object] = {
        "username": peer.username,
        "password": peer.password,
        "timeout": 2.0,
        "endpoint": peer.base_url,
    }
    options.update(overrides)
    wsdl = str(options.pop("wsdl", BUNDLED_WSDL))
    return SapErpGateway(wsdl, **options)  # type: ignore[arg-type]


class TestCreateOrder:
    def test_creates_the_sales_order_with_our_order_id_as_external_reference(self, sap, sap_peer):
        ack = sap.create_order(order_request("01JORDER-A"))

        assert ack.duplicate is False
        assert list(sap_peer.orders) == [ack.erp_order_id]
        sent = sap_peer.creates[0].find("SalesOrder")
        assert sent.findtext("ExternalReference") == "01JORDER-A"
        assert sent.findtext("PurchaseOrderByCustomer") == "SO-2026-000123"
        assert sent.findtext("BuyerParty/InternalID") == "D-100"
        assert sent.findtext("Item/Product/InternalID") == "CEM-50"
        assert sent.find("Item/RequestedQuantity").get("unitCode") == "BAG"
        assert Decimal(sent.findtext("Item/DiscountPercent")) == Decimal(5)
        gross = sent.find("GrossAmount")
        assert (Decimal(gross.text), gross.get("currencyCode")) == (Decimal("941.64"), "INR")
        assert sent.findtext("Note") == "deliver before Diwali"

    def test_a_repeated_external_reference_returns_the_first_order_and_creates_none(self, sap, sap_peer):
        first = sap.create_order(order_request("01JORDER-B"))
        again = sap.create_order(order_request("01JORDER-B"))

        assert again.erp_order_id == first.erp_order_id
        assert again.duplicate is True
        assert len(sap_peer.orders) == 1

    def test_a_resend_carries_the_same_message_id(self, sap, sap_peer):
        sap.create_order(order_request("01JORDER-C"))
        sap.create_order(order_request("01JORDER-C"))
        sap.create_order(order_request("01JORDER-D"))

        ids = [payload.findtext("MessageHeader/ID") for payload in sap_peer.creates]
        assert ids[0] == ids[1] != ids[2]

    def test_an_unknown_customer_is_rejected_for_good(self, sap, sap_peer):
        with pytest.raises(ErpRejected, match=r"Sold-to party D-404 .*V1/302"):
            sap.create_order(order_request(customer="D-404"))
        assert sap_peer.orders == {}

    def test_an_unknown_material_is_rejected_for_good(self, sap, sap_peer):
        with pytest.raises(ErpRejected, match="Material NOPE-1 does not exist"):
            sap.create_order(order_request(sku="NOPE-1"))
        assert sap_peer.orders == {}


class TestTransientFailures:
    def test_a_technical_fault_is_transient_and_a_retry_goes_through(self, sap, sap_peer):
        sap_peer.fail_next(how="fault")

        with pytest.raises(UpstreamUnavailable, match="SRT Framework") as caught:
            sap.create_order(order_request())
        assert not isinstance(caught.value, ErpRejected)
        assert sap.create_order(order_request()).duplicate is False
        assert len(sap_peer.orders) == 1

    def test_a_lock_message_is_transient_although_it_is_an_application_fault(self, sap, sap_peer):
        sap_peer.business_fault_next("Sales document 4711 is currently being processed", "V1/042")

        with pytest.raises(UpstreamUnavailable, match="temporarily refused"):
            sap.create_order(order_request())

    @pytest.mark.parametrize("how", ["http503", "http500_html"])
    def test_http_errors_are_transient(self, sap, sap_peer, how):
        sap_peer.fail_next(how=how)

        with pytest.raises(UpstreamUnavailable) as caught:
            sap.order_status("0004700001")
        assert not isinstance(caught.value, ErpRejected | ErpCredentialsRefused)

    def test_a_slow_answer_times_out_within_the_timeout(self, sap_peer):
        sap = gateway_for(sap_peer, timeout=0.5)
        sap_peer.delay_next(3.0)

        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match=r"timed out after 0\.5s"):
            sap.create_order(order_request())
        assert time.monotonic() - started < 1.3

    def test_an_unreachable_sap_is_transient(self, sap_peer):
        sap = gateway_for(sap_peer, endpoint="http://127.0.0.1:9", timeout=0.5)

        with pytest.raises(UpstreamUnavailable, match="cannot be reached"):
            sap.order_status("0004700001")

    def test_a_missing_wsdl_is_reported_as_unavailable_not_at_construction(self, sap_peer, tmp_path):
        sap = gateway_for(sap_peer, wsdl=str(tmp_path / "absent.wsdl"))

        with pytest.raises(UpstreamUnavailable, match="WSDL cannot be loaded"):
            sap.order_status("0004700001")


class TestMalformedAnswers:
    @pytest.mark.parametrize(
        ("how", "operation"),
        [
            ("not_xml", "create"),
            ("html", "create"),
            ("invalid", "create"),  # well-formed, but the confirmation lacks its required sales order ID
            ("wrong_answer", "create"),  # a valid message of another operation
            ("wrong_ref", "create"),  # the confirmation of another order
            ("invalid", "status"),
            ("invalid", "balance"),
            ("invalid", "customers"),
        ],
    )
    def test_an_answer_that_breaks_the_contract_is_transient(self, sap, sap_peer, how, operation):
        sap_peer.set_balance("D-100", limit=Decimal(100000), exposure=Decimal(0), receivables=Decimal(0))
        order_id = sap.create_order(order_request("01JORDER-M")).erp_order_id
        calls = {
            "create": lambda: sap.create_order(order_request("01JORDER-N")),
            "status": lambda: sap.order_status(order_id),
            "balance": lambda: sap.customer_balance("D-100"),
            "customers": lambda: sap.customers_changed(None, None, 10),
        }
        sap_peer.malformed_next(how)

        with pytest.raises(UpstreamUnavailable, match=r"malformed|not SOAP|HTTP") as caught:
            calls[operation]()
        assert not isinstance(caught.value, ErpRejected)


class TestOrderStatus:
    @pytest.mark.parametrize(
        ("statuses", "state"),
        [
            ({}, ErpOrderState.OPEN),
            ({"delivery": "B"}, ErpOrderState.OPEN),
            ({"delivery": "C"}, ErpOrderState.DISPATCHED),
            ({"delivery": "C", "invoice": "C", "invoice_id": "9000001"}, ErpOrderState.INVOICED),
            ({"delivery": "C", "invoice": "C", "invoice_id": "9000001", "pod": "C"}, ErpOrderState.DELIVERED),
            ({"cancelled": "C"}, ErpOrderState.CANCELLED),
        ],
    )
    def test_maps_sap_processing_statuses_to_one_state(self, sap, sap_peer, statuses, state):
        order_id = sap.create_order(order_request()).erp_order_id
        sap_peer.set_order_state(order_id, **statuses)

        status = sap.order_status(order_id)

        assert (status.erp_order_id, status.external_ref, status.state) == (order_id, "01JCRMORDER0001", state)
        assert status.changed_at == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def test_an_invoiced_order_carries_its_invoice(self, sap, sap_peer):
        order_id = sap.create_order(order_request()).erp_order_id
        sap_peer.set_order_state(order_id, delivery="C", invoice="C", invoice_id="9000001")

        status = sap.order_status(order_id)

        assert (status.invoice_number, status.invoiced_amount) == ("9000001", inr("941.64"))

    def test_an_unknown_order_is_rejected(self, sap):
        with pytest.raises(ErpRejected, match="not in the database"):
            sap.order_status("0000000042")


class TestCancelOrder:
    def test_cancels_and_cancelling_again_is_no_error(self, sap, sap_peer):
        order_id = sap.create_order(order_request()).erp_order_id

        sap.cancel_order(order_id, "customer withdrew")
        sap.cancel_order(order_id, "customer withdrew")

        assert sap.order_status(order_id).state is ErpOrderState.CANCELLED

    def test_an_invoiced_order_cannot_be_cancelled(self, sap, sap_peer):
        order_id = sap.create_order(order_request()).erp_order_id
        sap_peer.set_order_state(order_id, delivery="C", invoice="C", invoice_id="9000001")

        with pytest.raises(ErpRejected, match="already invoiced"):
            sap.cancel_order(order_id, "too late")
        assert sap_peer.orders[order_id].cancelled == "A"


class TestCredit:
    def test_balance_is_the_credit_accounts_receivables(self, sap, sap_peer):
        sap_peer.set_balance(
            "D-100",
            limit=Decimal(500000),
            exposure=Decimal("120000.50"),
            receivables=Decimal("80000.25"),
            overdue_days=17,
        )

        balance = sap.customer_balance("D-100")

        assert balance.customer_code == "D-100"
        assert balance.receivables == inr("80000.25")
        assert balance.overdue_days == 17
        assert balance.as_of == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def test_balance_of_an_unknown_account_is_rejected(self, sap):
        with pytest.raises(ErpRejected, match="UKM_BP/101"):
            sap.customer_balance("D-404")

    def test_credit_worthiness_checks_the_amount_against_the_available_credit(self, sap, sap_peer):
        sap_peer.set_balance("D-100", limit=Decimal(100000), exposure=Decimal(90000), receivables=Decimal(0))

        small = sap.credit_worthiness("D-100", inr("9999.00"))
        large = sap.credit_worthiness("D-100", inr("10000.01"))

        assert (small.passed, large.passed) == (True, False)
        assert large.available == inr("10000.00")
        assert (large.limit, large.exposure) == (inr("100000.00"), inr("90000.00"))

    def test_commitments_reach_sap_credit_management(self, sap, sap_peer):
        sap.report_commitments(
            [
                SapCreditCommitment(customer_code="D-100", external_ref="01JORDER-1", amount=inr("941.64")),
                SapCreditCommitment(customer_code="D-100", external_ref="01JORDER-2", amount=inr("10.00")),
            ]
        )

        assert [(c["ExternalReference"], Decimal(c["Amount"])) for c in sap_peer.commitments] == [
            ("01JORDER-1", Decimal("941.64")),
            ("01JORDER-2", Decimal("10.00")),
        ]
        assert sap_peer.received == ["CreditCommitmentNotification_In"]


class TestChangedSince:
    def test_customers_are_paged_by_the_last_returned_id_until_no_more_hits(self, sap, sap_peer):
        for index in range(5):
            sap_peer.add_customer(
                f"0000010{index}", code=f"D-20{index}", territory="NORTH", mobile="+919800000000", changed=T0
            )
        codes: list[str] = []
        cursors: list[str | None] = []
        cursor = None
        while True:
            page = sap.customers_changed(None, cursor, 2)
            assert len(page.items) <= 2
            codes += [item.customer_code for item in page.items]
            cursor = page.next_cursor
            cursors.append(cursor)
            if cursor is None:
                break

        assert codes == ["D-200", "D-201", "D-202", "D-203", "D-204", "D-100"]
        assert cursors == ["00000101", "00000103", None]

    def test_only_customers_changed_at_or_after_since(self, sap, sap_peer):
        sap_peer.add_customer("0000020", changed=T0 + timedelta(days=3), territory="EAST", blocked=True)

        page = sap.customers_changed(T0 + timedelta(days=3), None, 50)

        assert [c.erp_customer_id for c in page.items] == ["0000020"]
        customer = page.items[0]
        assert (customer.customer_code, customer.territory, customer.active) == ("0000020", "EAST", False)
        assert customer.changed_at == T0 + timedelta(days=3)
        assert page.next_cursor is None

    def test_products_map_material_fields(self, sap, sap_peer):
        sap_peer.add_material(
            "MAT-7", sku="TMT-12", name="TMT bar 12 mm", uom="KG", price="61.50", tax="12", changed=T0
        )
        sap_peer.add_material("MAT-8", deleted=True, changed=T0)

        page = sap.products_changed(None, None, 10)

        by_sku = {p.sku: p for p in page.items}
        assert set(by_sku) == {"CEM-50", "TMT-12", "MAT-8"}
        bar = by_sku["TMT-12"]
        assert (bar.erp_material_id, bar.name, bar.uom) == ("MAT-7", "TMT bar 12 mm", "KG")
        assert (bar.unit_price, bar.tax_rate, bar.active) == (inr("61.50"), Decimal(12), True)
        assert by_sku["MAT-8"].active is False


class TestAuthentication:
    def test_a_wrong_password_is_a_clear_credentials_error_without_the_password(self, sap_peer):
        sap = gateway_for(sap_peer, password="wrong-password")

        with pytest.raises(ErpCredentialsRefused, match="CRM_SAP_PASSWORD") as caught:
            sap.create_order(order_request())
        assert isinstance(caught.value, UpstreamUnavailable)
        assert "wrong-password" not in str(caught.value)
        assert sap_peer.orders == {}

    def test_the_wsdl_can_be_fetched_from_sap_with_basic_auth(self, sap_peer):
        sap = gateway_for(sap_peer, wsdl=f"{sap_peer.base_url}/sap/bc/srt/wsdl/crm?wsdl", endpoint=None)

        assert sap.create_order(order_request()).duplicate is False

    def test_a_wrong_password_for_the_wsdl_is_a_credentials_error(self, sap_peer):
        sap = gateway_for(sap_peer, wsdl=f"{sap_peer.base_url}/sap/bc/srt/wsdl/crm?wsdl", password="nope")

        with pytest.raises(ErpCredentialsRefused, match="WSDL"):
            sap.order_status("1")


@pytest.fixture
def wsse_peer():
    peer = SapPeer(ws_security=True)
    peer.add_customer("D-100", changed=T0)
    peer.add_material("CEM-50", changed=T0)
    peer.start()
    yield peer
    peer.stop()
    assert peer.problems == []


class TestWsSecurity:
    def test_a_username_token_authenticates_the_operations(self, wsse_peer):
        sap = gateway_for(wsse_peer, ws_security=True)

        assert sap.create_order(order_request()).duplicate is False
        assert len(wsse_peer.orders) == 1
        assert wsse_peer.post_authorization == [None]  # no basic auth beside the token

    def test_without_ws_security_the_peer_refuses(self, wsse_peer):
        sap = gateway_for(wsse_peer, ws_security=False)

        with pytest.raises(ErpCredentialsRefused, match="FailedAuthentication"):
            sap.create_order(order_request())

    def test_a_wrong_token_password_is_a_credentials_error(self, wsse_peer):
        sap = gateway_for(wsse_peer, ws_security=True, password="wrong-password")

        with pytest.raises(ErpCredentialsRefused) as caught:
            sap.create_order(order_request())
        assert "wrong-password" not in str(caught.value)
        assert wsse_peer.orders == {}
