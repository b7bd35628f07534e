"""Routing through the composition root: with CRM_SAP_* and CRM_GENNEXT_* set, each customer's orders reach the
ERP it names — SAP over SOAP, GenNext over REST, the sandbox in-process — through the outbox worker, and come
back confirmed with that ERP's order number."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from adapters.erp.gennext import GenNextErpGateway
from adapters.erp.sap import SapErpGateway
from adapters.metrics import MeteredErpGateway
from crm_domain.erp import ErpOrderState
from crm_domain.money import Money
from crm_domain.orders import LineRequest, OrderStatus
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.orders import NewOrder
from entrypoints.bootstrap import ConfigurationError, bootstrap, build_dispatcher
from entrypoints.settings import Settings
from tests.erp.conftest import T0
from tests.erp.gennext_peer import GenNextPeer
from tests.erp.sap_peer import SapPeer


def _settings(tmp_path: Path, sap_peer: SapPeer, gennext_peer: GenNextPeer) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url="memory://",
        sap_wsdl="bundled",
        sap_endpoint=sap_peer.base_url,
        sap_username=sap_peer.username,
        sap_password=sap_peer.password,  # type: ignore[arg-type]
        gennext_url=gennext_peer.base_url,
        gennext_api_key=gennext_peer.api_key,  # type: ignore[arg-type]
        erp_timeout=3.0,
    )


def test_each_customer_s_orders_reach_its_own_erp_and_come_back_confirmed(
    tmp_path: Path, sap_peer: SapPeer, gennext_peer: GenNextPeer
) -> None:
    sap_peer.add_customer("D-SAP", changed=T0)
    gennext_peer.add_customer("D-GNX", changed=T0)
    container = bootstrap(_settings(tmp_path, sap_peer, gennext_peer))
    sap, gennext = container.erp.for_system("sap"), container.erp.for_system("gennext")
    assert isinstance(sap, MeteredErpGateway) and isinstance(gennext, MeteredErpGateway)  # counted (SPEC §9)
    assert isinstance(sap.inner, SapErpGateway)
    assert isinstance(gennext.inner, GenNextErpGateway)
    crm = container.crm
    admin = crm.users.create_admin("+919000000001", "Asha Admin").actor()
    crm.catalogue.create(admin, NewProduct(sku="CEM-50", name="Cement 50 kg", unit_price=Money.of("420.00", "INR")))
    orders = {}
    for code, erp in (("D-SAP", "sap"), ("D-GNX", "gennext"), ("D-SBX", "sandbox")):
        customer = crm.customers.create(
            admin,
            NewCustomer(
                code=code,
                name=f"Dealer {code}",
                mobile=f"+9197654{len(orders):05d}",
                credit_limit=Money.of("100000.00", "INR"),
                erp_system=erp,
            ),
        ).customer
        line = (LineRequest(sku="CEM-50", quantity=Decimal(2)),)
        orders[erp] = crm.orders.create(admin, NewOrder(customer_id=customer.id, lines=line, submit=True))

    build_dispatcher(container).run_once(limit=50)

    confirmed = {erp: crm.orders.get(admin, order.id) for erp, order in orders.items()}
    assert all(order.status is OrderStatus.CONFIRMED for order in confirmed.values()), confirmed
    sap_orders = [o for o in sap_peer.orders.values() if o.external_ref == orders["sap"].id]
    assert [o.id for o in sap_orders] == [confirmed["sap"].erp_order_id]
    assert gennext_peer.by_ref == {orders["gennext"].id: confirmed["gennext"].erp_order_id}
    sandbox = container.erp.for_system("sandbox")
    status = sandbox.order_status(confirmed["sandbox"].erp_order_id or "")
    assert (status.external_ref, status.state) == (orders["sandbox"].id, ErpOrderState.OPEN)


def test_gennext_without_its_api_key_is_a_configuration_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="memory://", gennext_url="http://127.0.0.1:9/")
    with pytest.raises(ConfigurationError, match="CRM_GENNEXT_API_KEY"):
        bootstrap(settings)
