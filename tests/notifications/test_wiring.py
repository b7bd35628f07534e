"""The composition root builds the notification senders from the settings (SPEC §7): `CRM_SMS_BACKEND=http:URL`
with `CRM_SMS_API_KEY` (the sign-in code goes through the gateway too), `CRM_SMTP_URL`, and the development
log + JSON-lines file when nothing is configured."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from adapters.system import FixedClock
from entrypoints.bootstrap import ConfigurationError, bootstrap, build_email, build_sms
from entrypoints.settings import Settings
from tests.notifications.servers import GATEWAY_KEY, SmsGateway, SmtpServer

ADMIN = "+919876500001"


def settings(tmp_path: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": "memory://",
        "data_dir": tmp_path,
        "jwt_secret": "x" * 48,
        "smtp_url": None,
        "sms_api_key": None,
    }
    return Settings(**(base | values))


class TestSmsBackend:
    @pytest.mark.parametrize("prefix", ["http:", ""])
    def test_http_backend_sends_through_the_gateway(self, tmp_path: Path, gateway: SmsGateway, prefix: str) -> None:
        sms = build_sms(settings(tmp_path, sms_backend=prefix + gateway.url, sms_api_key=GATEWAY_KEY), FixedClock())
        sms.send("+919765400901", "Order SO-2026-000001 has been dispatched.")
        assert gateway.taken == [{"to": "+919765400901", "text": "Order SO-2026-000001 has been dispatched."}]

    def test_http_backend_needs_the_api_key(self, tmp_path: Path, gateway: SmsGateway) -> None:
        with pytest.raises(ConfigurationError, match="CRM_SMS_API_KEY"):
            build_sms(settings(tmp_path, sms_backend="http:" + gateway.url), FixedClock())

    def test_http_backend_needs_a_url(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match="http://"):
            build_sms(settings(tmp_path, sms_backend="http:gateway", sms_api_key=GATEWAY_KEY), FixedClock())

    def test_the_sign_in_code_goes_through_the_gateway(self, tmp_path: Path, gateway: SmsGateway) -> None:
        container = bootstrap(settings(tmp_path, sms_backend="http:" + gateway.url, sms_api_key=GATEWAY_KEY))
        container.crm.users.create_admin(ADMIN, "Asha Admin")
        container.auth.request_otp(ADMIN, "127.0.0.1")
        [message] = gateway.taken
        assert message["to"] == ADMIN
        code = re.search(r"\b(\d{6})\b", message["text"])
        assert code is not None
        signed_in = container.auth.verify_otp(ADMIN, code.group(1), "127.0.0.1")
        assert signed_in.user.mobile == ADMIN


class TestEmailBackend:
    def test_smtp_url_sends_through_the_server(self, tmp_path: Path, smtp: SmtpServer) -> None:
        config = settings(tmp_path, smtp_url=f"smtp://{smtp.host}:{smtp.port}", mail_from="Ops <ops@example.com>")
        build_email(config, FixedClock()).send("meera@example.com", "Credit hold", "Order on hold.\n")
        [got] = smtp.mailbox.received
        assert got.mail_from == "ops@example.com"
        assert got.rcpt_tos == ["meera@example.com"]
        assert got.subject == "Credit hold"

    def test_without_smtp_mail_goes_to_the_log_and_a_file(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="crm.email")  # one line per e-mail: debug
        clock = FixedClock()
        build_email(settings(tmp_path), clock).send("meera@example.com", "Credit hold", "Order on hold.\n")
        lines = (tmp_path / "email.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in lines] == [
            {
                "to": "meera@example.com",
                "subject": "Credit hold",
                "body": "Order on hold.\n",
                "at": clock.now().isoformat(),
            }
        ]
        assert "m***@example.com: Credit hold" in caplog.text
        assert "meera@" not in caplog.text

    def test_a_bad_smtp_url_is_a_configuration_error_without_the_password(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match="CRM_SMTP_URL") as caught:
            build_email(settings(tmp_path, smtp_url="smtp://user:s3cret@mail.example.com:x"), FixedClock())
        assert "s3cret" not in str(caught.value)

    def test_the_default_from_address_is_usable(self, tmp_path: Path, smtp: SmtpServer) -> None:
        sender = build_email(settings(tmp_path, smtp_url=f"smtp://{smtp.host}:{smtp.port}"), FixedClock())
        sender.send("meera@example.com", "Hi", "Body\n")
        assert smtp.mailbox.received[0].mail_from == "crm@localhost"


class TestSignInCodeWhenTheGatewayFails:
    """SPEC §5: no user enumeration. An unknown mobile gets 202 and no SMS; a registered one whose SMS fails
    must get the same answer, not a 503 or 400 that would tell the two apart."""

    @pytest.mark.parametrize("status", [500, 422])
    def test_a_registered_mobile_gets_the_same_answer_as_an_unknown_one(
        self, tmp_path: Path, gateway: SmsGateway, status: int, caplog: pytest.LogCaptureFixture
    ) -> None:
        container = bootstrap(settings(tmp_path, sms_backend="http:" + gateway.url, sms_api_key=GATEWAY_KEY))
        container.crm.users.create_admin(ADMIN, "Asha Admin")
        gateway.answer = status

        known = container.auth.request_otp(ADMIN, "127.0.0.1")
        unknown = container.auth.request_otp("+919876500000", "127.0.0.2")

        # the gateway was asked and refused: a 5xx three times (adapters.sms.failover), a refusal for good once
        assert gateway.requests == (3 if status >= 500 else 1) and gateway.taken == []
        assert (known.expires_in, known.resend_after) == (unknown.expires_in, unknown.resend_after)
        assert "sign-in code not sent" in caplog.text
        assert ADMIN not in caplog.text and ADMIN[-4:] not in caplog.text
