"""The ERP's word at the moment of the credit check (SPEC §8, request-reply), against the local SAP and GenNext
peers over real HTTP: the live balance is used and stored; a slow peer or an open breaker leaves the stored
figures in use, and the order's credit decision says which source it used; SAP's own credit check can hold an
order we would pass (`erp_credit_check`, released by a person only); open orders are reported to SAP as credit
commitments once per change."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crm_domain.credit import HoldReason
from crm_domain.erp import BalanceSource
from crm_domain.money import Money
from crm_domain.orders import LineRequest, Order, OrderStatus
from crm_domain.services.catalogue import NewProduct
from crm_domain.services.customers import NewCustomer
from crm_domain.services.orders import NewOrder
from crm_domain.users import Actor, Role
from entrypoints.bootstrap import Container, bootstrap, build_dispatcher
from entrypoints.settings import Settings
from tests.erp.gennext_peer import GenNextPeer
from tests.erp.sap_peer import SapPeer

ADMIN = Actor(id="admin-1", roles=frozenset({Role.ADMIN}), name="Admin")
CONTROLLER = Actor(id="cc-1", roles=frozenset({Role.CREDIT_CONTROLLER}), name="Credit controller")
BALANCE = "CreditManagementAccountByIDQuery_In"
WORTHINESS = "CreditWorthinessQuery_In"
ERP_AS_OF = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def inr(amount: str) -> Money:
    return Money.of(amount, "INR")


class World:
    def __init__(self, container: Container, erp: str) -> None:
        self.c = container
        self.crm = container.crm
        self.crm.catalogue.create(
            ADMIN, NewProduct(sku="CEM-50", name="Cement 50 kg", unit_price=inr("1.00"), uom="BAG")
        )
        self.customer = self.crm.customers.create(
            ADMIN,
            NewCustomer(
                code="D-100", name="Jaipur Agro", mobile="+919100000001", credit_limit=inr("10000.00"), erp_system=erp
            ),
        ).customer

    def order(self, amount: str) -> Order:
        line = LineRequest(sku="CEM-50", quantity=Decimal(amount))
        return self.crm.orders.create(ADMIN, NewOrder(customer_id=self.customer.id, lines=(line,), submit=True))

    def receivables(self) -> Money:
        return self.crm.credit.position(ADMIN, self.customer.id).receivables

    def deliver(self) -> None:
        build_dispatcher(self.c).run_once(limit=100)


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(data_dir=tmp_path, database_url="memory://", **values)


def sap_settings(tmp_path: Path, peer: SapPeer, **values: Any) -> Settings:
    return settings(
        tmp_path,
        sap_wsdl="bundled",
        sap_endpoint=peer.base_url,
        sap_username=peer.username,
        sap_password=peer.password,
        **values,
    )


@pytest.fixture
def sap_world(tmp_path: Path, sap_peer: SapPeer, request: pytest.FixtureRequest) -> World:
    values = getattr(request, "param", {"live_balance": "sap"})
    return World(bootstrap(sap_settings(tmp_path, sap_peer, **values)), "sap")


def sap_account(peer: SapPeer, *, receivables: str, limit: str = "1000000", exposure: str = "0", **kw: Any) -> None:
    peer.set_balance(
        "D-100",
        limit=Decimal(limit),
        exposure=Decimal(exposure),
        receivables=Decimal(receivables),
        **{"key_date": ERP_AS_OF, **kw},
    )


class TestLiveBalance:
    def test_the_live_balance_decides_and_replaces_the_stored_one(self, sap_world: World, sap_peer: SapPeer) -> None:
        sap_account(sap_peer, receivables="4000.00")  # stored: 0.00; the dealer's invoice posted an hour ago
        held = sap_world.order("7000.00")
        assert held.status is OrderStatus.ON_CREDIT_HOLD
        assert held.credit is not None and held.credit.reason is HoldReason.LIMIT_EXCEEDED
        assert held.credit.shortfall == inr("1000.00")
        assert (held.credit.balance_source, held.credit.balance_as_of) == (BalanceSource.LIVE, ERP_AS_OF)
        assert sap_world.receivables() == inr("4000.00")  # a fresh live balance updates the stored one
        assert sap_world.order("6000.00").status is OrderStatus.SUBMITTED

    def test_a_payment_seen_live_releases_older_holds_first(self, sap_world: World, sap_peer: SapPeer) -> None:
        sap_account(sap_peer, receivables="8000.00")
        held = sap_world.order("5000.00")
        assert held.status is OrderStatus.ON_CREDIT_HOLD
        sap_account(sap_peer, receivables="0.00", key_date=ERP_AS_OF + timedelta(hours=1))  # the dealer paid
        new = sap_world.order("4000.00")
        assert new.status is OrderStatus.SUBMITTED
        assert sap_world.crm.orders.get(ADMIN, held.id).status is OrderStatus.SUBMITTED  # released by the system

    def test_an_older_live_answer_does_not_replace_newer_stored_figures(
        self, sap_world: World, sap_peer: SapPeer
    ) -> None:
        sap_world.crm.erp_events.apply_balance(
            "sap",
            _report("2000.00", ERP_AS_OF + timedelta(days=1)),  # a webhook newer than what SAP's query answers
        )
        sap_account(sap_peer, receivables="9000.00")
        order = sap_world.order("7000.00")
        assert order.status is OrderStatus.SUBMITTED
        assert order.credit is not None and order.credit.balance_source is BalanceSource.STORED
        assert sap_world.receivables() == inr("2000.00")

    def test_quote_uses_the_live_balance_and_changes_nothing(self, sap_world: World, sap_peer: SapPeer) -> None:
        sap_account(sap_peer, receivables="9500.00")
        line = LineRequest(sku="CEM-50", quantity=Decimal("1000"))
        quote = sap_world.crm.orders.quote(ADMIN, NewOrder(customer_id=sap_world.customer.id, lines=(line,)))
        assert not quote.credit.approved and quote.balance_source is BalanceSource.LIVE
        assert quote.credit.available == inr("500.00")
        assert sap_world.receivables() == inr("0.00")

    def test_gennext_live_balance(self, tmp_path: Path, gennext_peer: GenNextPeer) -> None:
        world = World(
            bootstrap(
                settings(
                    tmp_path,
                    gennext_url=gennext_peer.base_url,
                    gennext_api_key=gennext_peer.api_key,
                    live_balance="gennext",
                )
            ),
            "gennext",
        )
        gennext_peer.set_balance("D-100", "4000.00")
        held = world.order("7000.00")
        assert held.status is OrderStatus.ON_CREDIT_HOLD
        assert held.credit is not None and held.credit.balance_source is BalanceSource.LIVE
        assert world.receivables() == inr("4000.00")

    def test_customers_of_other_erps_are_not_read(self, sap_world: World, sap_peer: SapPeer) -> None:
        other = sap_world.crm.customers.create(
            ADMIN, NewCustomer(code="D-200", name="Sandbox Dealer", mobile="+919100000002", credit_limit=inr("10.00"))
        ).customer
        line = LineRequest(sku="CEM-50", quantity=Decimal("5"))
        order = sap_world.crm.orders.create(ADMIN, NewOrder(customer_id=other.id, lines=(line,), submit=True))
        assert order.credit is not None and order.credit.balance_source is BalanceSource.STORED
        assert BALANCE not in sap_peer.received


class TestWhenTheErpCannotAnswer:
    @pytest.mark.parametrize("sap_world", [{"live_balance": "sap", "live_credit_timeout_ms": 300}], indirect=True)
    def test_a_slow_peer_leaves_the_stored_balance_within_the_timeout(
        self, sap_world: World, sap_peer: SapPeer
    ) -> None:
        sap_account(sap_peer, receivables="9000.00")
        sap_peer.delay_next(3.0)
        started = time.monotonic()
        order = sap_world.order("7000.00")
        took = time.monotonic() - started
        assert took < 1.5, f"the submit waited {took:.2f} s for a peer that answers in 3 s"
        assert order.status is OrderStatus.SUBMITTED  # the stored receivables (0.00) fit
        assert order.credit is not None and order.credit.balance_source is BalanceSource.STORED
        assert order.credit.balance_as_of is None
        assert sap_world.receivables() == inr("0.00")

    @pytest.mark.parametrize("sap_world", [{"live_balance": "sap", "erp_breaker_failures": 2}], indirect=True)
    def test_an_open_breaker_makes_no_call_at_all(self, sap_world: World, sap_peer: SapPeer) -> None:
        sap_account(sap_peer, receivables="0.00")
        sap_peer.fail_next(2)
        for _ in range(2):
            failed = sap_world.order("10.00")
            assert failed.credit is not None and failed.credit.balance_source is BalanceSource.STORED
        calls = sap_peer.received.count(BALANCE)
        order = sap_world.order("10.00")
        assert sap_peer.received.count(BALANCE) == calls  # the breaker is open: SAP is not asked
        assert order.status is OrderStatus.SUBMITTED
        assert order.credit is not None and order.credit.balance_source is BalanceSource.STORED


class TestSapCreditCheck:
    @pytest.mark.parametrize("sap_world", [{"sap_credit_check": True}], indirect=True)
    def test_sap_saying_no_holds_an_order_we_would_pass(self, sap_world: World, sap_peer: SapPeer) -> None:
        sap_account(sap_peer, receivables="0.00", limit="3000.00", exposure="1000.00")  # SAP: 2,000.00 left
        held = sap_world.order("5000.00")  # ours: 10,000.00 available
        assert held.status is OrderStatus.ON_CREDIT_HOLD
        assert held.credit is not None and held.credit.reason is HoldReason.ERP_CREDIT_CHECK
        assert held.credit.shortfall == inr("3000.00")
        assert WORTHINESS in sap_peer.received
        assert sap_world.order("1500.00").status is OrderStatus.SUBMITTED  # SAP says yes to this one

        # exposure falling does not release it automatically: SAP said no, a person decides (four eyes)
        sap_world.crm.credit.update_balance(sap_world.customer.id, inr("0.00"), 0)
        assert sap_world.crm.orders.get(ADMIN, held.id).status is OrderStatus.ON_CREDIT_HOLD
        released = sap_world.crm.orders.release(CONTROLLER, held.id, "SAP block is stale; checked with finance")
        assert released.status is OrderStatus.SUBMITTED

    @pytest.mark.parametrize("sap_world", [{"sap_credit_check": True, "live_credit_timeout_ms": 300}], indirect=True)
    def test_no_answer_from_sap_leaves_our_verdict(self, sap_world: World, sap_peer: SapPeer) -> None:
        sap_account(sap_peer, receivables="0.00", limit="10.00")
        sap_peer.delay_next(3.0)
        assert sap_world.order("5000.00").status is OrderStatus.SUBMITTED


class TestCommitments:
    @pytest.mark.parametrize("sap_world", [{"sap_commitments": True}], indirect=True)
    def test_each_change_is_reported_once(self, sap_world: World, sap_peer: SapPeer) -> None:
        order = sap_world.order("700.00")
        held = sap_world.order("20000.00")
        sap_world.deliver()
        sap_world.deliver()  # nothing new: nothing sent again
        assert _commitments(sap_peer) == [(order.id, "700.00")]

        sap_world.crm.orders.cancel(ADMIN, order.id, "dealer changed his mind")
        sap_world.crm.orders.release(CONTROLLER, held.id, "approved by finance")
        sap_world.deliver()
        assert sorted(_commitments(sap_peer)[1:]) == sorted([(order.id, "0.00"), (held.id, "20000.00")])

    @pytest.mark.parametrize("sap_world", [{"sap_commitments": True}], indirect=True)
    def test_report_all_sends_every_open_order_in_batches(self, sap_world: World, sap_peer: SapPeer) -> None:
        orders = [sap_world.order("10.00") for _ in range(3)]
        handler = _commitment_handler(sap_world)
        assert handler.report_all() == 3
        assert sorted(_commitments(sap_peer)) == sorted((o.id, "10.00") for o in orders)


def _commitments(peer: SapPeer) -> list[tuple[str, str]]:
    return [(c["ExternalReference"], f"{Decimal(c['Amount']):.2f}") for c in peer.commitments]


def _commitment_handler(world: World) -> Any:
    from entrypoints.bootstrap import build_commitments

    handler = build_commitments(world.c)
    assert handler is not None
    return handler


def _report(receivables: str, as_of: datetime) -> Any:
    from crm_domain.services.erp_events import BalanceReport

    return BalanceReport(customer_code="D-100", receivables=inr(receivables), overdue_days=0, as_of=as_of)
