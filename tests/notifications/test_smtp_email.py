"""The SMTP adapter against a real local SMTP server (aiosmtpd): what arrives (envelope, headers, body), AUTH
over STARTTLS, implicit TLS, refused recipients, and servers that are down or silent."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import pytest

from adapters.email.smtp import SmtpEmailSender, SmtpEndpoint
from crm_domain.errors import RecipientRejected, UpstreamUnavailable
from tests.net import free_port
from tests.notifications.conftest import SMTP_PASSWORD, SMTP_USER
from tests.notifications.servers import SmtpServer, Tls, silent_server

FROM = "CRM Notifications <crm@example.com>"
BODY = "Order SO-2026-000002 is on credit hold.\n\nShortfall:  INR 4,000.00\n"


def plain(server: SmtpServer, **kwargs: object) -> SmtpEmailSender:
    return SmtpEmailSender.from_url(f"smtp://{server.host}:{server.port}", FROM, **kwargs)  # type: ignore[arg-type]


def with_login(server: SmtpServer, tls: Tls, password: str = SMTP_PASSWORD) -> SmtpEmailSender:
    url = f"smtp://{quote(SMTP_USER, safe='')}:{quote(password, safe='')}@{server.host}:{server.port}?starttls=true"
    return SmtpEmailSender.from_url(url, FROM, ssl_context=tls.client_context())


class TestDelivery:
    def test_the_message_arrives_with_envelope_headers_and_body(self, smtp: SmtpServer) -> None:
        plain(smtp).send("meera@example.com", "Credit hold: order SO-2026-000002", BODY)
        [got] = smtp.mailbox.received
        assert got.mail_from == "crm@example.com"
        assert got.rcpt_tos == ["meera@example.com"]
        assert got.message["From"] == FROM
        assert got.message["To"] == "meera@example.com"
        assert got.subject == "Credit hold: order SO-2026-000002"
        assert got.body == BODY
        assert got.message["Date"] and got.message["Message-ID"].endswith("@example.com>")

    def test_text_beyond_ascii_and_long_subjects_survive(self, smtp: SmtpServer) -> None:
        subject = "Credit hold: order SO-2026-000002 of Śrī Gaṇeśa Traders, INR 1,23,45,678.00 " + "x" * 80
        plain(smtp).send("meera@example.com", subject, "₹ 1,23,456.00 — über\n")
        [got] = smtp.mailbox.received
        assert got.subject == subject
        assert got.body == "₹ 1,23,456.00 — über\n"

    def test_line_breaks_cannot_inject_headers(self, smtp: SmtpServer) -> None:
        plain(smtp).send("meera@example.com", "Hold\r\nBcc: thief@example.com", BODY)
        [got] = smtp.mailbox.received
        assert got.rcpt_tos == ["meera@example.com"]
        assert got.message["Bcc"] is None
        assert got.subject == "Hold Bcc: thief@example.com"

    def test_login_over_starttls(self, smtp_auth: SmtpServer, tls: Tls) -> None:
        with_login(smtp_auth, tls).send("chitra@example.com", "Credit hold", BODY)
        [got] = smtp_auth.mailbox.received
        assert got.login == SMTP_USER
        assert got.rcpt_tos == ["chitra@example.com"]

    def test_implicit_tls(self, smtps: SmtpServer, tls: Tls) -> None:
        url = f"smtps://{smtps.host}:{smtps.port}"
        SmtpEmailSender.from_url(url, FROM, ssl_context=tls.client_context()).send("chetan@example.com", "Hi", BODY)
        assert [r.rcpt_tos for r in smtps.mailbox.received] == [["chetan@example.com"]]


class TestFailures:
    def test_a_recipient_refused_for_good_is_a_permanent_rejection(self, smtp: SmtpServer) -> None:
        smtp.mailbox.refuse["gone@example.com"] = "550 5.1.1 no such mailbox"
        with pytest.raises(RecipientRejected) as caught:
            plain(smtp).send("gone@example.com", "Hold", BODY)
        assert caught.value.status == 550
        assert caught.value.channel == "email"
        assert smtp.mailbox.received == []

    def test_a_recipient_deferred_is_retried_later(self, smtp: SmtpServer) -> None:
        smtp.mailbox.refuse["busy@example.com"] = "450 4.2.1 mailbox busy, try later"
        with pytest.raises(UpstreamUnavailable):
            plain(smtp).send("busy@example.com", "Hold", BODY)

    def test_a_wrong_password_is_unavailable_and_never_shown(self, smtp_auth: SmtpServer, tls: Tls) -> None:
        with pytest.raises(UpstreamUnavailable) as caught:
            with_login(smtp_auth, tls, password="wrong-secret-9").send("chitra@example.com", "Hold", BODY)
        assert "535" in str(caught.value)
        assert "wrong-secret-9" not in str(caught.value)
        assert smtp_auth.mailbox.received == []

    def test_a_server_that_requires_login_refuses_anonymous_mail(self, smtp_auth: SmtpServer, tls: Tls) -> None:
        url = f"smtp://{smtp_auth.host}:{smtp_auth.port}?starttls=true"
        with pytest.raises(UpstreamUnavailable, match="530"):
            SmtpEmailSender.from_url(url, FROM, ssl_context=tls.client_context()).send("c@example.com", "Hold", BODY)

    def test_an_untrusted_certificate_is_unavailable(self, smtps: SmtpServer) -> None:
        with pytest.raises(UpstreamUnavailable, match="SSL"):
            SmtpEmailSender.from_url(f"smtps://{smtps.host}:{smtps.port}", FROM).send("c@example.com", "Hold", BODY)
        assert smtps.mailbox.received == []

    def test_a_refused_connection_is_unavailable(self) -> None:
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable, match="cannot be reached"):
            SmtpEmailSender.from_url(f"smtp://127.0.0.1:{free_port()}", FROM, timeout=1).send("c@example.com", "H", "")
        assert time.monotonic() - started < 2

    def test_a_server_that_never_greets_times_out(self) -> None:
        with silent_server() as port:
            started = time.monotonic()
            with pytest.raises(UpstreamUnavailable, match="cannot be reached"):
                SmtpEmailSender.from_url(f"smtp://127.0.0.1:{port}", FROM, timeout=0.3).send("c@example.com", "H", "")
            assert time.monotonic() - started < 3

    def test_logs_mask_the_address_and_hide_the_password(
        self, smtp_auth: SmtpServer, tls: Tls, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        with_login(smtp_auth, tls).send("chitra@example.com", "Hold", BODY)
        with pytest.raises(UpstreamUnavailable):
            with_login(smtp_auth, tls, password="wrong-secret-9").send("chitra@example.com", "Hold", BODY)
        ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("crm"))  # not the server's
        assert "c***@example.com" in ours
        for secret in ("chitra@", SMTP_PASSWORD, "wrong-secret-9"):
            assert secret not in ours


class TestUrl:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("smtp://mail.example.com", SmtpEndpoint(host="mail.example.com", port=25)),
            ("smtp://mail.example.com?starttls=true", SmtpEndpoint(host="mail.example.com", port=587, starttls=True)),
            ("smtps://mail.example.com", SmtpEndpoint(host="mail.example.com", port=465, implicit_tls=True)),
            (
                "smtp://u%40x.com:p%3Aw%40d@mail.example.com:2525",
                SmtpEndpoint(host="mail.example.com", port=2525, username="u@x.com", password="p:w@d"),
            ),
        ],
    )
    def test_forms(self, url: str, expected: SmtpEndpoint) -> None:
        assert SmtpEndpoint.parse(url) == expected

    @pytest.mark.parametrize(
        "url",
        [
            "http://mail.example.com",
            "smtp://",
            "smtps://mail.example.com?starttls=true",
            "smtp://mail.example.com?starttls=maybe",
            "smtp://mail.example.com?tls=1",
            "smtp://user:s3cret@mail.example.com:port",
        ],
    )
    def test_bad_forms_are_refused_without_the_password(self, url: str) -> None:
        with pytest.raises(ValueError, match="CRM_SMTP_URL") as caught:
            SmtpEndpoint.parse(url)
        assert "s3cret" not in str(caught.value)

    def test_the_password_is_not_in_the_repr(self) -> None:
        assert "s3cret" not in repr(SmtpEndpoint.parse("smtp://user:s3cret@mail.example.com"))
