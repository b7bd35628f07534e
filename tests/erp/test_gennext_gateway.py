"""The GenNext adapter with the real httpx client over real HTTP against the local GenNext peer
(tests/erp/gennext_peer.py), which speaks the contract of docs/integrations/gennext-api.md."""

from __future__ import annotations

import pytest

from adapters.erp.errors import ErpCredentialsRefused
from crm_domain.erp import ErpRejected
from crm_domain.errors import UpstreamUnavailable
from tests.erp.conftest import inr, order_request


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

    def test_a_refusal_names_gennext_s_error_code_and_message(self, gennext, gennext_peer):
        with pytest.raises(ErpRejected, match="unknown_product: product NOPE-1 does not exist"):
            gennext.create_order(order_request(sku="NOPE-1"))
        assert gennext_peer.orders == {}


class TestTransientFailures:
    @pytest.mark.parametrize("how", ["500", "429", "404_html"])
    def test_server_errors_rate_limits_and_foreign_pages_are_transient(self, gennext, gennext_peer, how):
        gennext_peer.fail_next(how=how)

        with pytest.raises(UpstreamUnavailable, match="answered HTTP") as caught:
            gennext.create_order(order_request())
        assert not isinstance(caught.value, ErpRejected | ErpCredentialsRefused)
        assert gennext.create_order(order_request()).duplicate is False  # the retry goes through

    def test_a_state_outside_the_contract_is_a_malformed_answer(self, gennext, gennext_peer):
        gennext_peer.malformed_next("bad_state")

        with pytest.raises(UpstreamUnavailable, match="answered malformed") as caught:
            gennext.create_order(order_request())
        assert not isinstance(caught.value, ErpRejected)


class TestBalance:
    def test_a_code_with_a_slash_stays_one_path_segment(self, gennext, gennext_peer):
        gennext_peer.set_balance("D/7", "1.00")

        assert gennext.customer_balance("D/7").receivables == inr("1.00")
