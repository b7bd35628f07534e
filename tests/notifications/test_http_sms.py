"""The HTTP SMS gateway adapter against a real local gateway: the JSON contract with the API key, permanent
refusals versus failures worth retrying, bounded waits, and nothing secret in the logs."""

from __future__ import annotations

import logging
import time

import pytest

from adapters.sms.http import HttpSmsSender
from crm_domain.errors import RecipientRejected, UpstreamUnavailable
from tests.net import free_port
from tests.notifications.servers import GATEWAY_KEY, SmsGateway, silent_server

DEALER = "+919765400901"


def sender(gateway: SmsGateway, key: str = GATEWAY_KEY, timeout: float = 5.0) -> HttpSmsSender:
    return HttpSmsSender(gateway.url, key, timeout=timeout)


class TestDelivery:
    def test_posts_json_with_the_api_key_and_the_gateway_takes_it(self, gateway: SmsGateway) -> None:
        sender(gateway).send(DEALER, "Order SO-2026-000001 for INR 1,180.00 is confirmed.")
        assert gateway.taken == [{"to": DEALER, "text": "Order SO-2026-000001 for INR 1,180.00 is confirmed."}]
        assert gateway.headers["content-type"].startswith("application/json")
        assert gateway.headers["x-api-key"] == GATEWAY_KEY

    def test_text_beyond_ascii_arrives_intact(self, gateway: SmsGateway) -> None:
        sender(gateway).send(DEALER, "आपका ऑर्डर भेज दिया गया है ✓")
        assert gateway.taken[0]["text"] == "आपका ऑर्डर भेज दिया गया है ✓"

    def test_one_sender_serves_many_messages(self, gateway: SmsGateway) -> None:
        sms = sender(gateway)
        for n in range(5):
            sms.send(DEALER, f"message {n}")
        assert [m["text"] for m in gateway.taken] == [f"message {n}" for n in range(5)]


class TestFailures:
    @pytest.mark.parametrize("status", [500, 502, 503, 429])
    def test_server_errors_and_throttling_are_retried_later(self, gateway: SmsGateway, status: int) -> None:
        gateway.answer = status
        with pytest.raises(UpstreamUnavailable, match=str(status)):
            sender(gateway).send(DEALER, "hello")
        assert gateway.requests == 1  # no retry loop inside the adapter: the outbox retries with backoff
        assert gateway.taken == []

    def test_a_wrong_api_key_is_retried_not_dropped(self, gateway: SmsGateway) -> None:
        with pytest.raises(UpstreamUnavailable, match="401"):
            sender(gateway, key="not-the-key").send(DEALER, "hello")

    @pytest.mark.parametrize("status", [400, 422])
    def test_a_refused_number_is_a_permanent_rejection(self, gateway: SmsGateway, status: int) -> None:
        gateway.answer = status
        with pytest.raises(RecipientRejected) as caught:
            sender(gateway).send(DEALER, "hello")
        assert caught.value.status == status
        assert caught.value.channel == "sms"
        assert DEALER not in str(caught.value)

    def test_a_malformed_number_is_refused_by_the_gateway_for_good(self, gateway: SmsGateway) -> None:
        with pytest.raises(RecipientRejected):
            sender(gateway).send("0976540090", "hello")

    def test_a_gateway_that_never_answers_times_out(self, gateway: SmsGateway) -> None:
        gateway.hang = True
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match="in time"):
            sender(gateway, timeout=0.3).send(DEALER, "hello")
        assert time.monotonic() - started < 3

    def test_a_silent_port_times_out(self) -> None:
        with silent_server() as port:
            started = time.monotonic()
            with pytest.raises(UpstreamUnavailable):
                HttpSmsSender(f"http://127.0.0.1:{port}/sms", GATEWAY_KEY, timeout=0.3).send(DEALER, "hello")
            assert time.monotonic() - started < 3

    def test_nothing_listening_is_unavailable(self) -> None:
        with pytest.raises(UpstreamUnavailable, match="cannot be reached"):
            HttpSmsSender(f"http://127.0.0.1:{free_port()}/sms", GATEWAY_KEY, timeout=1).send(DEALER, "hello")

    def test_needs_a_url_and_a_key(self) -> None:
        with pytest.raises(ValueError, match="http"):
            HttpSmsSender("ftp://gateway", GATEWAY_KEY)
        with pytest.raises(ValueError, match="key"):
            HttpSmsSender("https://gateway", "")


class TestLogs:
    def test_neither_the_number_the_text_nor_the_key_is_logged(
        self, gateway: SmsGateway, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        sms = sender(gateway)
        sms.send(DEALER, "482913 is your CRM sign-in code.")
        gateway.answer = 400
        with pytest.raises(RecipientRejected):
            sms.send(DEALER, "482913 is your CRM sign-in code.")
        logged = caplog.text  # ours and httpx's
        assert "sms to +91976540****" in logged
        for secret in (DEALER, "482913", GATEWAY_KEY):
            assert secret not in logged
