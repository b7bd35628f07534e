"""Messages counted where they leave: notifications by channel (`crm_notifications_total{channel, result}`, from
the worker) and sign-in codes (`crm_sign_in_codes_total{result}`, from the API), each `sent` or `failed`. A failed
send is counted and re-raised unchanged: the caller decides what it means (the outbox retries a notification; a
sign-in code is lost and the user asks again)."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

from crm_domain.ports import EmailSender, SmsSender

RESULTS: Final = ("sent", "failed")

NOTIFICATIONS = Counter(
    "crm_notifications_total",
    "Notifications handed to their gateway, by channel (sms, email) and result.",
    ["channel", "result"],
)
SIGN_IN_CODES = Counter("crm_sign_in_codes_total", "Sign-in codes texted, by result (sent, failed).", ["result"])
SMS_GATEWAY_SENDS = Counter(
    "crm_sms_gateway_sends_total",
    "Each try of an SMS gateway, by gateway (primary, fallback) and result.",
    ["gateway", "result"],
)


class MeteredSmsSender:
    """An `SmsSender` that counts what the one it wraps sent and failed to send, in `counter` (one of the two
    above; `labels` name the series, e.g. `channel="sms"`)."""

    def __init__(self, inner: SmsSender, counter: Counter, **labels: str) -> None:
        self._inner = inner
        self._sent = counter.labels(**labels, result="sent")
        self._failed = counter.labels(**labels, result="failed")

    def send(self, to: str, text: str) -> None:
        try:
            self._inner.send(to, text)
        except Exception:
            self._failed.inc()
            raise
        self._sent.inc()


class MeteredEmailSender:
    """An `EmailSender` counted in `crm_notifications_total{channel="email"}`."""

    def __init__(self, inner: EmailSender) -> None:
        self._inner = inner
        self._sent = NOTIFICATIONS.labels(channel="email", result="sent")
        self._failed = NOTIFICATIONS.labels(channel="email", result="failed")

    def send(self, to: str, subject: str, body: str, html: str | None = None) -> None:
        try:
            self._inner.send(to, subject, body, html)
        except Exception:
            self._failed.inc()
            raise
        self._sent.inc()
