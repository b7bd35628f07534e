"""`crm outbox purge [--older-than DAYS]`: delivered messages older than the retention (`CRM_OUTBOX_RETENTION_DAYS`
by default) are deleted and counted; pending and dead ones stay whatever their age."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from crm_domain.outbox import OutboxMessage, OutboxStatus
from entrypoints.cli.context import container
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def message(message_id: str, status: OutboxStatus, days_ago: float) -> OutboxMessage:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    return OutboxMessage(
        id=message_id,
        event="order.submitted",
        aggregate_id="o-1",
        payload={"order_id": "o-1"},
        occurred_at=at,
        status=status,
        next_attempt_at=at,
        delivered_at=at if status is OutboxStatus.DELIVERED else None,
    )


@pytest.fixture
def outbox(crm_cli: Cli) -> Callable[[], set[str]]:
    messages = [
        message("d-30", OutboxStatus.DELIVERED, 30),
        message("d-10", OutboxStatus.DELIVERED, 10),
        message("d-3", OutboxStatus.DELIVERED, 3),
        message("p-30", OutboxStatus.PENDING, 30),
        message("x-30", OutboxStatus.DEAD, 30),
    ]
    store = container().uow
    with store() as uow:
        uow.outbox.add_all(messages)
        uow.commit()

    def left() -> set[str]:
        with store(read_only=True) as uow:
            return {m.id for m in messages if uow.outbox.get(m.id) is not None}

    return left


def test_purges_what_is_older_than_the_retention_and_says_how_many(
    crm_cli: Cli, outbox: Callable[[], set[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = crm_cli("outbox", "purge")  # the default retention: 7 days
    assert (first.code, first.out.strip()) == (0, "2 delivered message(s) older than 7 day(s) purged")
    assert outbox() == {"d-3", "p-30", "x-30"}

    again = crm_cli("outbox", "purge")
    assert again.out.strip() == "0 delivered message(s) older than 7 day(s) purged"

    shorter = crm_cli("outbox", "purge", "--older-than", "2")
    assert shorter.out.strip() == "1 delivered message(s) older than 2 day(s) purged"
    assert outbox() == {"p-30", "x-30"}


def test_the_retention_setting_is_the_default(
    crm_cli: Cli, outbox: Callable[[], set[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_OUTBOX_RETENTION_DAYS", "20")
    container.cache_clear()
    result = crm_cli("outbox", "purge")
    assert result.out.strip() == "1 delivered message(s) older than 20 day(s) purged"
    assert outbox() == {"d-10", "d-3", "p-30", "x-30"}


def test_a_negative_age_is_refused(crm_cli: Cli) -> None:
    result = crm_cli("outbox", "purge", "--older-than", "-1")
    assert result.code != 0
    assert "--older-than" in result.err
