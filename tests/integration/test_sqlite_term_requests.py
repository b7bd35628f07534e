"""Credit-term change requests on SQLite: migration 6 adds their kind and payload, and a request stored before it
reads back as the `limit` request it was (SPEC §2.3 credit governance, decision 0011)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from adapters.sqlite import SqliteStore
from adapters.sqlite.schema import MIGRATIONS
from crm_domain.credit_governance import LimitRequestStatus, TermKind
from tests.contract.builders import inr, read


def test_a_request_stored_before_kinds_reads_back_as_a_limit_request(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for statements in MIGRATIONS[:5]:
        for statement in statements:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 5")
    conn.execute(
        "INSERT INTO limit_requests (id, customer_id, current_limit, current_currency, new_limit, new_currency, "
        "reason, requested_by, requested_at, status, decided_by, decided_at, decision_note) "
        "VALUES ('lr-old', 'c-1', 1000000, 'INR', 2500000, 'INR', 'new showroom', 'u-1', 1700000000000000, "
        "'pending', NULL, NULL, NULL)"
    )
    conn.close()

    store = SqliteStore(path)
    request = read(store, lambda uow: uow.limit_requests.get("lr-old"))
    store.close()

    assert request is not None
    assert (request.kind, request.current_limit, request.new_limit, request.status) == (
        TermKind.LIMIT,
        inr(10_000_00),
        inr(25_000_00),
        LimitRequestStatus.PENDING,
    )
    assert (request.valid_until, request.tolerance_pct, request.overdue_block_days) == (None, None, None)
