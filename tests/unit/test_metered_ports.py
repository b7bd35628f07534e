"""The Prometheus wrappers the composition root puts around the ports (`adapters.metrics`): each answers or raises
exactly as the port it wraps, and counts what happened under the names the alert rules read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from adapters.memory import MemoryStore
from adapters.metrics import NOTIFICATIONS, SIGN_IN_CODES, MeteredErpGateway, MeteredSmsSender, MeteredStore
from crm_domain.erp import ErpRejected
from crm_domain.errors import RecipientRejected, UpstreamUnavailable, ValidationFailed
from crm_domain.services.delivery import BreakerSettings, CircuitBreaker
from entrypoints.cli.worker_metrics import BreakerCollector, configured_erps
from tests.erp_sandbox.test_sandbox_erp import an_order
from tests.unit.erp_fakes import FakeErp


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def exported() -> list[tuple[str, dict[str, str]]]:
    return [(s.name, s.labels) for family in REGISTRY.collect() for s in family.samples]


def delta(name: str, labels: dict[str, str], action: Callable[[], object]) -> float:
    before = sample(name, **labels)
    action()
    return sample(name, **labels) - before


class TestMeteredErpGateway:
    def test_counts_every_call_and_the_failed_ones_by_kind(self) -> None:
        erp = FakeErp(name="gennext")
        gateway = MeteredErpGateway(erp)
        labels = {"erp": "gennext", "operation": "create_order"}
        assert ("crm_erp_call_failures_total", {**labels, "kind": "unavailable"}) in exported()  # before any call
        assert delta("crm_erp_call_duration_seconds_count", labels, lambda: gateway.create_order(an_order())) == 1

        erp.down = True

        def fails() -> None:
            with pytest.raises(UpstreamUnavailable):
                gateway.create_order(an_order())

        assert delta("crm_erp_call_failures_total", {**labels, "kind": "unavailable"}, fails) == 1
        assert delta("crm_erp_call_duration_seconds_count", labels, fails) == 1
        assert gateway.name == "gennext"

    def test_a_refusal_is_counted_as_rejected_and_raised_unchanged(self) -> None:
        gateway = MeteredErpGateway(FakeErp(name="sap", reject="blocked customer"))
        labels = {"erp": "sap", "operation": "create_order", "kind": "rejected"}

        def refused() -> None:
            with pytest.raises(ErpRejected, match="blocked customer"):
                gateway.create_order(an_order("O-1"))

        assert delta("crm_erp_call_failures_total", labels, refused) == 1


class _Gateway:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[str] = []

    def send(self, to: str, text: str) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(to)


class TestMeteredSenders:
    def test_sign_in_codes_sent_and_failed(self) -> None:
        ok, down = _Gateway(), _Gateway(UpstreamUnavailable("gateway down"))
        sent = {"result": "sent"}
        failed = {"result": "failed"}
        assert delta("crm_sign_in_codes_total", sent, lambda: MeteredSmsSender(ok, SIGN_IN_CODES).send("+91", "t")) == 1

        def fails() -> None:
            with pytest.raises(UpstreamUnavailable):
                MeteredSmsSender(down, SIGN_IN_CODES).send("+91", "t")

        assert delta("crm_sign_in_codes_total", failed, fails) == 1
        assert ok.sent == ["+91"]

    def test_notifications_by_channel(self) -> None:
        refused = MeteredSmsSender(_Gateway(RecipientRejected("sms", "+91****", 400)), NOTIFICATIONS, channel="sms")

        def fails() -> None:
            with pytest.raises(RecipientRejected):
                refused.send("+91", "t")

        assert delta("crm_notifications_total", {"channel": "sms", "result": "failed"}, fails) == 1


class TestMeteredStore:
    def test_times_each_commit_and_keeps_what_the_store_does(self) -> None:
        inner = MemoryStore()
        store = MeteredStore(inner, "memory")

        def commit() -> None:
            with store() as uow:
                uow.commit()

        def no_commit() -> None:
            with store(read_only=True) as uow:
                uow.outbox.stats()

        assert delta("crm_store_commit_duration_seconds_count", {"store": "memory"}, commit) == 1
        assert delta("crm_store_commit_duration_seconds_count", {"store": "memory"}, no_commit) == 0


class TestBreakerGauge:
    def test_open_from_the_failure_that_opens_it_until_a_success(self) -> None:
        now = datetime(2026, 1, 1, tzinfo=UTC)

        class Dispatcher:
            breakers = {"erp:sap": CircuitBreaker(BreakerSettings(failures=2, cool_down=timedelta(seconds=5)))}

        def state() -> dict[str, float]:
            [family] = BreakerCollector(Dispatcher(), systems=("sap", "sandbox")).collect()  # type: ignore[arg-type]
            return {s.labels["erp"]: s.value for s in family.samples}

        breaker = Dispatcher.breakers["erp:sap"]
        assert state() == {"sap": 0.0, "sandbox": 0.0}
        breaker.failed(now)
        assert state()["sap"] == 0.0
        breaker.failed(now)
        assert state()["sap"] == 1.0
        assert not breaker.is_open(now + timedelta(seconds=6))  # half-open: still reported open until a success
        assert state()["sap"] == 1.0
        breaker.succeeded()
        assert state() == {"sap": 0.0, "sandbox": 0.0}

    def test_the_gauge_lists_the_erps_that_are_configured(self) -> None:
        class Routing:
            def for_system(self, system: str) -> object:
                if system not in ("sandbox", "gennext"):
                    raise ValidationFailed(f"no ERP gateway for {system!r}")
                return object()

        assert configured_erps(Routing()) == ["gennext", "sandbox"]  # type: ignore[arg-type]
