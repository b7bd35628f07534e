"""Sign-in survives an SMS outage (SPEC §5, §10): the code goes out through the primary gateway after it failed a
few times, or through the fallback gateway (`CRM_SMS_FALLBACK_BACKEND`) while the primary is down, within a
bounded time; when neither takes it the request still answers 202, the failure is counted for the alert
(`crm_sign_in_codes_total{result="failed"}`), and every try shows by gateway. Real local HTTP gateways
(tests/notifications/servers.py); a gateway that is down is a port nothing listens on."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from pydantic import ValidationError

from adapters.sms.failover import FailoverSmsSender
from crm_domain.errors import RecipientRejected, UpstreamUnavailable
from entrypoints.bootstrap import ConfigurationError, Container, bootstrap
from entrypoints.settings import Settings
from tests.net import free_port
from tests.notifications.servers import GATEWAY_KEY, SmsGateway, sms_gateway

ADMIN = "+919876500001"


@pytest.fixture
def fallback() -> Iterator[SmsGateway]:
    with sms_gateway() as running:
        yield running


def site(tmp_path: Path, primary: str, fallback: str | None = None, **values: Any) -> Container:
    settings = Settings(
        database_url="memory://",
        data_dir=tmp_path,
        jwt_secret="x" * 48,
        smtp_url=None,
        sms_backend="http:" + primary,
        sms_api_key=GATEWAY_KEY,
        sms_fallback_backend=None if fallback is None else "http:" + fallback,
        sms_fallback_api_key=None if fallback is None else GATEWAY_KEY,
        sms_timeout=1.0,
        **values,
    )
    container = bootstrap(settings)
    container.crm.users.create_admin(ADMIN, "Asha Admin")
    return container


def down_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1/messages"


def count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def signs_in(container: Container, gateway: SmsGateway) -> None:
    [message] = gateway.taken
    code = re.search(r"\b(\d{6})\b", message["text"])
    assert code is not None
    assert container.auth.verify_otp(ADMIN, code.group(1), "127.0.0.1").user.mobile == ADMIN


class TestSignInCodes:
    def test_a_primary_that_fails_twice_takes_the_third_try(self, tmp_path: Path, gateway: SmsGateway) -> None:
        container = site(tmp_path, gateway.url)
        gateway.fail_next = 2
        failed_tries = count("crm_sms_gateway_sends_total", gateway="primary", result="failed")
        started = time.monotonic()
        container.auth.request_otp(ADMIN, "127.0.0.1")
        assert time.monotonic() - started < 3
        assert gateway.requests == 3
        signs_in(container, gateway)
        assert count("crm_sms_gateway_sends_total", gateway="primary", result="failed") - failed_tries == 2

    def test_while_the_primary_is_down_the_fallback_takes_it(self, tmp_path: Path, fallback: SmsGateway) -> None:
        container = site(tmp_path, down_url(), fallback.url)
        sent = count("crm_sign_in_codes_total", result="sent")
        container.auth.request_otp(ADMIN, "127.0.0.1")
        assert fallback.requests == 1
        signs_in(container, fallback)
        assert count("crm_sign_in_codes_total", result="sent") - sent == 1

    def test_the_fallback_takes_it_when_the_primary_answers_503(
        self, tmp_path: Path, gateway: SmsGateway, fallback: SmsGateway
    ) -> None:
        container = site(tmp_path, gateway.url, fallback.url)
        gateway.answer = 503
        container.auth.request_otp(ADMIN, "127.0.0.1")
        assert (gateway.requests, fallback.requests, gateway.taken) == (1, 1, [])
        signs_in(container, fallback)

    def test_both_down_answers_within_the_budget_and_counts_the_failure(
        self, tmp_path: Path, gateway: SmsGateway, fallback: SmsGateway
    ) -> None:
        container = site(tmp_path, gateway.url, fallback.url)
        gateway.answer = fallback.answer = 503
        failed = count("crm_sign_in_codes_total", result="failed")
        started = time.monotonic()
        issued = container.auth.request_otp(ADMIN, "127.0.0.1")  # the same answer as for an unknown mobile
        elapsed = time.monotonic() - started
        assert issued.request_id
        assert (gateway.requests, fallback.requests) == (3, 3)
        assert 1.0 <= elapsed < 3  # the two backoffs (0.25 s, 0.75 s), then it gives up
        assert count("crm_sign_in_codes_total", result="failed") - failed == 1

    def test_a_hanging_gateway_is_given_up_within_the_budget(self, tmp_path: Path, gateway: SmsGateway) -> None:
        container = site(tmp_path, gateway.url)
        gateway.hang = True
        started = time.monotonic()
        container.auth.request_otp(ADMIN, "127.0.0.1")
        assert time.monotonic() - started < 5  # three 1 s timeouts and the backoffs
        assert gateway.requests == 3


class TestNotifications:
    def test_one_round_only_the_outbox_retries(self, tmp_path: Path, gateway: SmsGateway, fallback: SmsGateway) -> None:
        container = site(tmp_path, gateway.url, fallback.url)
        gateway.answer = fallback.answer = 503
        with pytest.raises(UpstreamUnavailable):
            container.sms.send("+919765400901", "Order SO-2026-000001 has been dispatched.")
        assert (gateway.requests, fallback.requests) == (1, 1)


class _Refusing:
    def __init__(self) -> None:
        self.tries = 0

    def send(self, to: str, text: str) -> None:
        self.tries += 1
        raise RecipientRejected("sms", "+91****", 400)


class TestFailoverRules:
    def test_a_number_every_gateway_refuses_is_not_tried_again(self) -> None:
        first, second = _Refusing(), _Refusing()
        sender = FailoverSmsSender([first, second], attempts=3, backoff=(0.0,))
        with pytest.raises(RecipientRejected):
            sender.send("+919765400901", "text")
        assert (first.tries, second.tries) == (1, 1)

    def test_no_round_starts_after_the_budget(self) -> None:
        clock = [0.0]

        class Slow:
            tries = 0

            def send(self, to: str, text: str) -> None:
                Slow.tries += 1
                clock[0] += 3.0
                raise UpstreamUnavailable("timeout")

        sender = FailoverSmsSender(
            [Slow()],
            attempts=5,
            backoff=(1.0,),
            budget=8.0,
            sleep=lambda s: clock.__setitem__(0, clock[0] + s),
            monotonic=lambda: clock[0],
        )
        with pytest.raises(UpstreamUnavailable):
            sender.send("+919765400901", "text")
        assert Slow.tries == 2  # 3 s, backoff 1 s, 3 s: a third round would start at 8 s


class _Scripted:
    """A gateway that answers from a shared script of outcomes, one per try of any gateway."""

    def __init__(self, script: list[str], log: list[tuple[int, str]], index: int) -> None:
        self._script, self._log, self._index = script, log, index

    def send(self, to: str, text: str) -> None:
        outcome = self._script[len(self._log)] if len(self._log) < len(self._script) else "down"
        self._log.append((self._index, outcome))
        if outcome == "down":
            raise UpstreamUnavailable("down")
        if outcome == "refuse":
            raise RecipientRejected("sms", "+91****", 400)


@settings(max_examples=150, deadline=None)
@given(
    gateways=st.integers(1, 2),
    attempts=st.integers(1, 3),
    script=st.lists(st.sampled_from(["ok", "down", "refuse"]), max_size=6),
)
def test_failover_sends_at_most_once_within_its_bounds(gateways: int, attempts: int, script: list[str]) -> None:
    tries: list[tuple[int, str]] = []
    slept: list[float] = []
    sender = FailoverSmsSender(
        [_Scripted(script, tries, i) for i in range(gateways)],
        attempts=attempts,
        backoff=(0.25, 0.75),
        sleep=slept.append,
        monotonic=lambda: sum(slept),
    )
    try:
        sender.send("+919765400901", "text")
        raised: Exception | None = None
    except (UpstreamUnavailable, RecipientRejected) as exc:
        raised = exc
    outcomes = [outcome for _, outcome in tries]
    assert outcomes.count("ok") == (0 if raised else 1)  # sent exactly when it returns, never twice
    assert not raised or tries  # it always tried before giving up
    assert outcomes.index("ok") == len(outcomes) - 1 if not raised else True  # nothing after the success
    assert len(tries) <= attempts * gateways
    rounds = [tries[i : i + gateways] for i in range(0, len(tries), gateways)]
    for done in rounds[:-1]:  # a round with a refusal for good is the last
        assert "refuse" not in [outcome for _, outcome in done]
    assert len(slept) == max(len(rounds) - 1, 0)
    if isinstance(raised, RecipientRejected):
        assert "down" not in outcomes  # refused for good only when no gateway was merely down


class TestFallbackSettings:
    def test_a_fallback_gateway_needs_its_own_key(self, tmp_path: Path, gateway: SmsGateway) -> None:
        with pytest.raises(ConfigurationError, match="CRM_SMS_FALLBACK_API_KEY"):
            bootstrap(
                Settings(
                    database_url="memory://",
                    data_dir=tmp_path,
                    jwt_secret="x" * 48,
                    sms_backend="http:" + gateway.url,
                    sms_api_key=GATEWAY_KEY,
                    sms_fallback_backend="http:" + gateway.url,
                    sms_fallback_api_key=None,
                )
            )

    def test_production_refuses_the_log_as_fallback(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match="CRM_SMS_FALLBACK_BACKEND=log"):
            Settings(
                env="prod",
                data_dir=tmp_path,
                jwt_secret="x" * 48,
                gennext_url="https://gennext.example.com/api/v1",
                sms_backend="http:https://sms.example.com/send",
                sms_fallback_backend="log",
            )
