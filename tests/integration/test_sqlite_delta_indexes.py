"""`updated_since` on the lists of targets, credit-limit requests and calls is a range of an index on SQLite
(migration 11; the call log's own index), not a scan: the statements the repositories run are explained."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from adapters.sqlite import SqliteStore
from adapters.sqlite.session import SqliteSession
from crm_domain.ports import UnitOfWork
from crm_domain.records import PageRequest
from tests.contract.builders import at


def plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: Callable[[UnitOfWork], object]) -> list[str]:
    """How SQLite runs each statement `query` sends, one line per step of each plan."""
    store = SqliteStore(tmp_path / "crm.db")
    sent: list[tuple[str, Sequence[Any]]] = []
    execute = SqliteSession.execute

    def recording(self: SqliteSession, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        sent.append((sql, params))
        return execute(self, sql, params)

    monkeypatch.setattr(SqliteSession, "execute", recording)
    with store(read_only=True) as uow:
        query(uow)
    conn = sqlite3.connect(tmp_path / "crm.db")
    try:
        return [
            row[3]
            for sql, params in sent
            if sql.lstrip().upper().startswith("SELECT")
            for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        ]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (lambda uow: uow.targets.for_period("2026-11", updated_since=at(5)), "targets_by_period_updated"),
        (lambda uow: uow.limit_requests.page(PageRequest(), updated_since=at(5)), "limit_requests_by_updated"),
        (lambda uow: uow.interactions.page("c-1", PageRequest(), updated_since=at(5)), "interactions_by_customer"),
    ],
    ids=["targets", "credit-limit-requests", "calls"],
)
def test_updated_since_searches_an_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: Callable[[UnitOfWork], object], index: str
) -> None:
    steps = plans(tmp_path, monkeypatch, query)

    assert any(step.startswith("SEARCH") and index in step and ">" in step for step in steps), steps


def test_the_holds_report_reads_held_orders_in_order_from_their_partial_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = plans(tmp_path, monkeypatch, lambda uow: uow.reports.holds(None))

    assert any("orders_on_hold" in step for step in steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps  # no sort of the held orders' documents
