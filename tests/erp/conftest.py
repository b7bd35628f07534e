"""Local ERP peers on 127.0.0.1 for the SAP and GenNext adapters, and a sample order. A peer that saw a request
breaking the contract (or crashed building an answer) fails the test at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

import pytest

from adapters.erp.gennext import GenNextErpGateway
from adapters.erp.sap import BUNDLED_WSDL, SapErpGateway
from crm_domain.erp import ErpOrderLine, ErpOrderRequest
from crm_domain.money import Money
from tests.erp.gennext_peer import GenNextPeer
from tests.erp.sap_peer import SapPeer

P = TypeVar("P", SapPeer, GenNextPeer)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def inr(amount: str) -> Money:
    return Money.of(amount, "INR")


def order_request(
    external_ref: str = "01JCRMORDER0001", *, customer: str = "D-100", sku: str = "CEM-50"
) -> ErpOrderRequest:
    line = ErpOrderLine(
        sku=sku,
        erp_material_id=None,
        quantity=Decimal(2),
        uom="BAG",
        unit_price=inr("420.00"),
        discount_pct=Decimal("5"),
        net=inr("798.00"),
        tax=inr("143.64"),
        total=inr("941.64"),
    )
    return ErpOrderRequest(
        external_ref=external_ref,
        number="SO-2026-000123",
        customer_code=customer,
        erp_customer_id=None,
        currency="INR",
        lines=(line,),
        net=inr("798.00"),
        tax=inr("143.64"),
        total=inr("941.64"),
        notes="deliver before Diwali",
        submitted_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    )


def _run(peer: P) -> Iterator[P]:
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()
    assert peer.problems == [], peer.problems


@pytest.fixture
def sap_peer() -> Iterator[SapPeer]:
    peer = SapPeer()
    peer.add_customer("D-100", changed=T0)
    peer.add_material("CEM-50", changed=T0)
    yield from _run(peer)


@pytest.fixture
def sap(sap_peer: SapPeer) -> SapErpGateway:
    return SapErpGateway(
        str(BUNDLED_WSDL),
        username=sap_peer.username,
        password=sap_peer.password,
        timeout=2.0,
        endpoint=sap_peer.base_url,
    )


@pytest.fixture
def gennext_peer() -> Iterator[GenNextPeer]:
    peer = GenNextPeer()
    peer.add_customer("D-100", changed=T0)
    peer.add_product("CEM-50", changed=T0)
    yield from _run(peer)


@pytest.fixture
def gennext(gennext_peer: GenNextPeer) -> Iterator[GenNextErpGateway]:
    gateway = GenNextErpGateway(gennext_peer.base_url, gennext_peer.api_key, timeout=2.0)
    yield gateway
    gateway.close()
