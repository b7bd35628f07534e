"""The SAP adapter with the real zeep client over real HTTP against the local SAP peer (tests/erp/sap_peer.py),
which validates every request against the repository's XSDs."""

from __future__ import annotations

from datetime import UTC, datetime
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

    def test_a_resend_carries_the_same_message_id(self, sap, sap_peer):
        sap.create_order(order_request("01JORDER-C"))
        sap.create_order(order_request("01JORDER-C"))
        sap.create_order(order_request("01JORDER-D"))

        ids = [payload.findtext("MessageHeader/ID") for payload in sap_peer.creates]
        assert ids[0] == ids[1] != ids[2]

    def test_a_refusal_names_sap_s_fault_text_and_message_ids(self, sap, sap_peer):
        with pytest.raises(ErpRejected, match=r"Sold-to party D-404 is not defined \[V1/302\]"):
            sap.create_order(order_request(customer="D-404"))
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

    def test_an_html_error_page_is_transient(self, sap, sap_peer):
        sap_peer.fail_next(how="http500_html")

        with pytest.raises(UpstreamUnavailable) as caught:
            sap.order_status("0004700001")
        assert not isinstance(caught.value, ErpRejected | ErpCredentialsRefused)

    def test_a_missing_wsdl_is_reported_as_unavailable_not_at_construction(self, sap_peer, tmp_path):
        sap = gateway_for(sap_peer, wsdl=str(tmp_path / "absent.wsdl"))

        with pytest.raises(UpstreamUnavailable, match="WSDL cannot be loaded"):
            sap.order_status("0004700001")


class TestMalformedAnswers:
    def test_a_valid_message_of_another_operation_is_transient(self, sap, sap_peer):
        sap_peer.malformed_next("wrong_answer")

        with pytest.raises(UpstreamUnavailable, match="malformed") as caught:
            sap.create_order(order_request())
        assert not isinstance(caught.value, ErpRejected)


class TestOrderStatus:
    @pytest.mark.parametrize(
        ("statuses", "state"),
        [
            ({"delivery": "B"}, ErpOrderState.OPEN),
            ({"delivery": "C", "invoice": "B"}, ErpOrderState.DISPATCHED),
            ({"delivery": "C", "invoice": "C", "invoice_id": "9000001", "pod": "B"}, ErpOrderState.INVOICED),
        ],
    )
    def test_only_complete_processing_moves_the_order_on(self, sap, sap_peer, statuses, state):
        order_id = sap.create_order(order_request()).erp_order_id
        sap_peer.set_order_state(order_id, **statuses)

        status = sap.order_status(order_id)

        assert (status.erp_order_id, status.external_ref, status.state) == (order_id, "01JCRMORDER0001", state)
        assert status.changed_at == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


class TestCredit:
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


class TestMasterData:
    def test_without_an_external_id_the_sap_id_is_the_code_and_the_sku(self, sap, sap_peer):
        sap_peer.add_customer("0000020", changed=T0)
        sap_peer.add_material("MAT-8", changed=T0)

        customers = {c.erp_customer_id: c for c in sap.customers_changed(None, None, 10).items}
        products = {p.erp_material_id: p for p in sap.products_changed(None, None, 10).items}

        assert customers["0000020"].customer_code == "0000020"
        assert products["MAT-8"].sku == "MAT-8"


class TestAuthentication:
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
