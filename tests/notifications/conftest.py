"""Fixtures: a local HTTP SMS gateway, local SMTP servers (plain; STARTTLS with AUTH; implicit TLS), and a
throwaway certificate the clients trust."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notifications.servers import Credentials, SmsGateway, SmtpServer, Tls, sms_gateway, smtp_server

SMTP_USER = "crm@example.com"
SMTP_PASSWORD = "p@ss w0rd:/?"  # needs percent-encoding in a URL


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    with sms_gateway() as running:
        yield running


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return Tls.make(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def smtp_auth(tls: Tls) -> Iterator[SmtpServer]:
    """STARTTLS required, then AUTH required."""
    with smtp_server(credentials=Credentials(SMTP_USER, SMTP_PASSWORD), tls=tls) as running:
        yield running


@pytest.fixture
def smtps(tls: Tls) -> Iterator[SmtpServer]:
    """Implicit TLS (port 465 style)."""
    with smtp_server(tls=tls, implicit_tls=True) as running:
        yield running
