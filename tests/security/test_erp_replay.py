"""Issue 12 finding 8, SPEC §5: "ERP webhook events need an `event_id`; a balance or status older than the one
already applied (by the ERP's own timestamp or sequence) is ignored". The review replayed a correctly signed
balance event without an id inside the 5-minute window and rolled the receivables back. Through the signed
webhook (tests/api/test_integrations.py signs the requests)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.system import FixedClock
from tests.api.conftest import Api, problem
from tests.api.test_integrations import credit, make_api, order_state, send, status_event

T0 = "2026-12-07T10:00:00+05:30"
T1 = "2026-12-07T11:00:00+05:30"
T2 = "2026-12-07T12:00:00+05:30"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def api(tmp_path: Path, clock: FixedClock) -> Iterator[Api]:
    yield from make_api(tmp_path, clock)


def balance(event_id: str | None, receivables: str, as_of: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "customer.balance", "customer_code": "D0001", "receivables": receivables}
    if event_id is not None:
        event["id"] = event_id
    if as_of is not None:
        event["as_of"] = as_of
    return event


def outcome(api: Api, clock: FixedClock, event: dict[str, Any]) -> str:
    response = send(api, clock, event)
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["outcome"])


class TestEventIdRequired:
    def test_a_signed_balance_without_an_id_is_400_and_changes_nothing(self, api: Api, clock: FixedClock) -> None:
        problem(send(api, clock, balance(None, "50000.00")), 400)
        assert credit(api)["receivables"] == "0.00"

    def test_a_signed_status_without_an_id_is_400_and_changes_nothing(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)
        without_id = {k: v for k, v in status_event(order, "open").items() if k != "id"}
        problem(send(api, clock, without_id), 400)
        assert order_state(api, order["id"])["status"] == "submitted"

    def test_the_id_may_be_sent_as_event_id_and_a_replay_under_either_name_is_a_duplicate(
        self, api: Api, clock: FixedClock
    ) -> None:
        owed = balance("evt-1", "50000.00", T0)
        as_event_id = {("event_id" if k == "id" else k): v for k, v in owed.items()}
        assert outcome(api, clock, as_event_id) == "applied"
        assert outcome(api, clock, owed) == "duplicate"
        assert credit(api)["receivables"] == "50000.00"

    def test_a_batch_with_one_event_without_an_id_applies_none(self, api: Api, clock: FixedClock) -> None:
        problem(send(api, clock, {"events": [balance("evt-1", "10.00", T0), balance(None, "20.00", T1)]}), 400)
        assert credit(api)["receivables"] == "0.00"


class TestReplayedBalance:
    def test_a_replayed_balance_cannot_roll_the_receivables_back(self, api: Api, clock: FixedClock) -> None:
        owed = balance("evt-1", "50000.00", T0)
        assert outcome(api, clock, owed) == "applied"
        assert outcome(api, clock, balance("evt-2", "0.00", T1)) == "applied"  # the customer paid
        clock.advance(timedelta(minutes=2))

        assert outcome(api, clock, owed) == "duplicate"
        assert outcome(api, clock, {**owed, "id": "evt-1-again"}) == "unchanged"  # same event, new id: older
        assert credit(api)["receivables"] == "0.00"

    def test_a_balance_older_than_the_applied_one_is_unchanged(self, api: Api, clock: FixedClock) -> None:
        assert outcome(api, clock, balance("evt-2", "100.00", T2)) == "applied"
        assert outcome(api, clock, balance("evt-1", "7000.00", T1)) == "unchanged"
        assert credit(api)["receivables"] == "100.00"

    def test_a_newer_balance_with_the_same_figures_still_moves_the_as_of(self, api: Api, clock: FixedClock) -> None:
        assert outcome(api, clock, balance("evt-1", "100.00", T0)) == "applied"
        assert outcome(api, clock, balance("evt-3", "100.00", T2)) == "unchanged"
        assert outcome(api, clock, balance("evt-2", "9000.00", T1)) == "unchanged"  # older than evt-3's figure
        assert credit(api)["receivables"] == "100.00"


class TestReplayedStatus:
    def test_a_cancel_older_than_the_applied_status_is_unchanged(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)
        assert outcome(api, clock, status_event(order, "open", id="evt-1", changed_at=T1)) == "applied"
        stale = status_event(order, "cancelled", id="evt-0", changed_at=T0)
        assert outcome(api, clock, stale) == "unchanged"
        state = order_state(api, order["id"])
        assert state["status"] == "confirmed"
        assert credit(api)["open_orders"] == "495.60"

    def test_a_newer_cancel_applies(self, api: Api, clock: FixedClock) -> None:
        order = api.order(api.rep)
        assert outcome(api, clock, status_event(order, "open", id="evt-1", changed_at=T1)) == "applied"
        assert outcome(api, clock, status_event(order, "cancelled", id="evt-2", changed_at=T2)) == "applied"
        assert order_state(api, order["id"])["status"] == "cancelled"
