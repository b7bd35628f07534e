"""CreditLimitRequestRepository: requests round-trip, decisions are saved, and the newest-first list filters
by status, by the actor's customers and by `updated_since` (asked or decided since)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_domain.credit_governance import CreditLimitRequest, LimitRequestStatus, TermKind
from crm_domain.errors import ValidationFailed
from crm_domain.ports import UnitOfWorkFactory
from crm_domain.records import PageRequest
from tests.contract.builders import a_limit_request, at, forged_cursors, inr, read, walk, write

PENDING, APPROVED, REJECTED = LimitRequestStatus.PENDING, LimitRequestStatus.APPROVED, LimitRequestStatus.REJECTED


class TestLimitRequestRoundTrip:
    def test_get_returns_the_request_as_added(self, store: UnitOfWorkFactory) -> None:
        request = a_limit_request()
        write(store, lambda uow: uow.limit_requests.add(request))

        assert read(store, lambda uow: uow.limit_requests.get("lr-1")) == request
        assert read(store, lambda uow: uow.limit_requests.get("lr-unknown")) is None

    def test_save_keeps_the_decision(self, store: UnitOfWorkFactory) -> None:
        write(store, lambda uow: uow.limit_requests.add(a_limit_request()))
        decided = attrs.evolve(
            a_limit_request(), status=APPROVED, decided_by="u-cc", decided_at=at(90), decision_note="ok"
        )

        write(store, lambda uow: uow.limit_requests.save(decided))

        assert read(store, lambda uow: uow.limit_requests.get("lr-1")) == decided

    @pytest.mark.parametrize(
        "payload",
        [
            {"kind": TermKind.LIMIT, "new_limit": inr(750_000_00)},
            {"kind": TermKind.TEMPORARY_LIMIT, "new_limit": inr(900_000_00), "valid_until": date(2027, 1, 31)},
            {"kind": TermKind.TEMPORARY_LIMIT},  # end one early
            {"kind": TermKind.TOLERANCE, "tolerance_pct": Decimal("12.50")},
            {"kind": TermKind.UNBLOCK},
            {"kind": TermKind.POLICY, "overdue_block_days": 45},
            {"kind": TermKind.POLICY},  # no overdue block
        ],
        ids=lambda p: "-".join(str(v) for v in p.values()),
    )
    def test_every_kind_round_trips_with_its_payload(self, store: UnitOfWorkFactory, payload: dict[str, Any]) -> None:
        request = attrs.evolve(a_limit_request(), **{"new_limit": None, **payload})
        write(store, lambda uow: uow.limit_requests.add(request))

        got = read(store, lambda uow: uow.limit_requests.get("lr-1"))

        assert got == request
        assert got is not None and got.kind is payload["kind"]


def _requests(store: UnitOfWorkFactory) -> None:
    rows = [
        ("lr-1", "c-1", PENDING, 0),
        ("lr-2", "c-2", APPROVED, 10),
        ("lr-3", "c-1", REJECTED, 20),
        ("lr-4", "c-3", PENDING, 20),  # same moment as lr-3: newest first means the larger id first
        ("lr-5", "c-2", PENDING, 30),
    ]
    write(
        store,
        lambda uow: [
            uow.limit_requests.add(a_limit_request(i, customer_id=c, status=s, minutes=m)) for i, c, s, m in rows
        ],
    )


class TestLimitRequestList:
    @pytest.mark.parametrize("limit", [1, 2, 200])
    def test_pages_walk_every_request_once_newest_first(self, store: UnitOfWorkFactory, limit: int) -> None:
        _requests(store)

        found = read(store, lambda uow: walk(uow.limit_requests.page, limit))

        assert [r.id for r in found] == ["lr-5", "lr-4", "lr-3", "lr-2", "lr-1"]

    def test_a_status_filter_keeps_the_requests_in_that_state(self, store: UnitOfWorkFactory) -> None:
        _requests(store)

        found = read(store, lambda uow: walk(lambda page: uow.limit_requests.page(page, status=PENDING), 1))

        assert [r.id for r in found] == ["lr-5", "lr-4", "lr-1"]

    def test_customer_ids_keep_the_requests_of_those_customers(self, store: UnitOfWorkFactory) -> None:
        _requests(store)
        ids = frozenset({"c-1", "c-3"})

        found = read(store, lambda uow: walk(lambda page: uow.limit_requests.page(page, customer_ids=ids), 2))
        both = read(store, lambda uow: uow.limit_requests.page(PageRequest(), status=PENDING, customer_ids=ids))
        none = read(store, lambda uow: uow.limit_requests.page(PageRequest(), customer_ids=frozenset()))

        assert [r.id for r in found] == ["lr-4", "lr-3", "lr-1"]
        assert [r.id for r in both.items] == ["lr-4", "lr-1"]
        assert none.items == []

    @pytest.mark.parametrize("limit", [1, 2, 200])
    def test_updated_since_keeps_the_requests_asked_or_decided_at_or_after_it(
        self, store: UnitOfWorkFactory, limit: int
    ) -> None:
        _requests(store)  # updated at: lr-1 0, lr-2 40 (decided), lr-3 50 (decided), lr-4 20, lr-5 30

        def since(minutes: float, **filters: Any) -> list[str]:
            found = read(
                store,
                lambda uow: walk(
                    lambda page: uow.limit_requests.page(page, updated_since=at(minutes), **filters), limit
                ),
            )
            return [r.id for r in found]

        assert since(30) == ["lr-5", "lr-3", "lr-2"]  # newest asked first; at the instant counts
        assert since(40.001) == ["lr-3"]  # asked at 20, decided at 50
        assert since(20, status=PENDING) == ["lr-5", "lr-4"]
        assert since(21, customer_ids=frozenset({"c-1", "c-3"})) == ["lr-3"]
        assert since(0) == ["lr-5", "lr-4", "lr-3", "lr-2", "lr-1"]
        assert since(51) == []

    def test_a_decision_brings_an_old_request_into_the_delta(self, store: UnitOfWorkFactory) -> None:
        _requests(store)
        pending = a_limit_request("lr-1", customer_id="c-1")
        decided = attrs.evolve(pending, status=REJECTED, decided_by="u-cc", decided_at=at(90))
        write(store, lambda uow: uow.limit_requests.save(decided))

        found = read(store, lambda uow: uow.limit_requests.page(PageRequest(), updated_since=at(60)))

        assert found.items == [decided]
        assert decided.updated_at == at(90) and pending.updated_at == at(0)

    @pytest.mark.parametrize("cursor", forged_cursors([1, "lr-1"]))
    def test_a_forged_cursor_is_a_validation_error(self, store: UnitOfWorkFactory, cursor: str) -> None:
        _requests(store)

        with pytest.raises(ValidationFailed), store(read_only=True) as uow:
            uow.limit_requests.page(PageRequest(limit=2, cursor=cursor))


#: (id, asked at, decided how long after or None): ties of asking, a decision at the moment of asking, late ones
DELTA_ROWS = [("d-1", 0, None), ("d-2", 10, 30), ("d-3", 20, 5), ("d-4", 20, None), ("d-5", 30, 0), ("d-6", 40, 100)]


def _delta_requests() -> list[CreditLimitRequest]:
    requests = []
    for request_id, minutes, after in DELTA_ROWS:
        request = a_limit_request(request_id, customer_id=f"c-{minutes % 3}", minutes=minutes)
        if after is not None:
            request = attrs.evolve(request, status=APPROVED, decided_by="u-cc", decided_at=at(minutes + after))
        requests.append(request)
    return requests


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    minutes=st.one_of(st.sampled_from([0, 10, 15, 20, 25, 30, 40, 140]), st.integers(-5, 150)),
    limit=st.integers(1, 4),
)
def test_every_store_keeps_exactly_the_requests_changed_since(
    store: UnitOfWorkFactory, minutes: int, limit: int
) -> None:
    """Whatever the instant, a store lists exactly the requests whose `updated_at` (the decision's time, or the
    request's while open) is at or after it, newest asked first."""
    requests = _delta_requests()
    if read(store, lambda uow: uow.limit_requests.get("d-1")) is None:
        write(store, lambda uow: [uow.limit_requests.add(r) for r in requests])
    expected = [
        r.id
        for r in sorted(requests, key=lambda r: (r.requested_at, r.id), reverse=True)
        if r.updated_at >= at(minutes)
    ]

    found = read(store, lambda uow: walk(lambda p: uow.limit_requests.page(p, updated_since=at(minutes)), limit))

    assert [r.id for r in found] == expected
