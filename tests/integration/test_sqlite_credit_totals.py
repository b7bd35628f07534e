"""The running credit totals on SQLite: migration 4 adds them to `credit_accounts` and fills them from the stored
reservations, and an account read for some orders reads those orders' reservations only — also when it is
saved from another unit of work than the one that read it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sqlite import SqliteStore
from adapters.sqlite.codec import RESERVATION_COLUMNS
from adapters.sqlite.credit import SqliteCreditAccountRepository
from adapters.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from adapters.sqlite.session import SqliteSession
from tests.contract.builders import an_account, at, inr, read, write


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _account_v3(conn: sqlite3.Connection, customer_id: str, *reservations: tuple[str, int, str]) -> None:
    conn.execute(
        "INSERT INTO credit_accounts (customer_id, currency, credit_limit, tolerance_pct, temp_limit, "
        "temp_limit_until, overdue_block_days, blocked, block_reason, receivables, overdue_days, version, "
        "updated_at) VALUES (?, 'INR', 1000000, '0', NULL, NULL, NULL, 0, NULL, 5000, 0, 7, NULL)",
        (customer_id,),
    )
    conn.executemany(
        "INSERT INTO credit_reservations (customer_id, order_id, amount, stage, by_release, at) "
        "VALUES (?, ?, ?, ?, 0, 1700000000000000)",
        [(customer_id, order_id, amount, stage) for order_id, amount, stage in reservations],
    )


class TestMigrationToRunningTotals:
    @pytest.fixture
    def path(self, tmp_path: Path) -> Path:
        """A file at schema 3 with three accounts: open and dispatched reservations, none, dispatched only."""
        path = tmp_path / "crm.db"
        conn = _raw(path)
        for statements in MIGRATIONS[:3]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 3")
        _account_v3(conn, "c-1", ("o-1", 125_00, "open"), ("o-2", 300_50, "dispatched"), ("o-3", 99_99, "open"))
        _account_v3(conn, "c-2")
        _account_v3(conn, "c-3", ("o-4", 10_00, "dispatched"), ("o-5", 20_00, "dispatched"))
        _account_v3(conn, "c-4", ("o-6", 1, "open"))
        conn.close()
        return path

    def test_the_totals_are_filled_from_the_stored_reservations(self, path: Path) -> None:
        store = SqliteStore(path)
        read(store, lambda uow: uow.credit.get("c-1"))
        store.close()

        raw = _raw(path)
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 4
        rows = raw.execute(
            "SELECT customer_id, open_total, dispatched_total, version FROM credit_accounts ORDER BY customer_id"
        ).fetchall()
        assert rows == [
            ("c-1", 125_00 + 99_99, 300_50, 7),
            ("c-2", 0, 0, 7),
            ("c-3", 0, 30_00, 7),
            ("c-4", 1, 0, 7),
        ]

    def test_migrated_accounts_read_whole_or_in_part_agree_with_their_reservations(self, path: Path) -> None:
        store = SqliteStore(path)

        accounts = read(store, lambda uow: uow.credit.list_all())
        part = read(store, lambda uow: uow.credit.get("c-1", orders=["o-3"]))

        for account in accounts:
            reservations = account.reservations.values()
            assert account.open_orders == sum(r.amount for r in reservations if r.stage == "open")
            assert account.dispatched == sum(r.amount for r in reservations if r.stage == "dispatched")
        assert part is not None
        assert set(part.reservations) == {"o-3"}
        assert (part.open_orders, part.dispatched) == (125_00 + 99_99, 300_50)
        part.release("o-3")
        write(store, lambda uow: uow.credit.save(part))
        after = read(store, lambda uow: uow.credit.get("c-1"))
        assert after is not None
        assert (set(after.reservations), after.open_orders, after.dispatched) == ({"o-1", "o-2"}, 125_00, 300_50)
        store.close()


class TestWhatAPartialReadReads:
    """The SQL a partial read and save issue, seen through the connection's trace callback."""

    @pytest.fixture
    def traced(self, tmp_path: Path) -> Iterator[tuple[SqliteCreditAccountRepository, list[str]]]:
        path = tmp_path / "crm.db"
        store = SqliteStore(path)
        write(store, lambda uow: uow.credit.add(an_account()))
        store.close()
        conn = sqlite3.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        migrate(conn)
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        session = SqliteSession(None, immediate=True)
        session.open(conn)
        yield SqliteCreditAccountRepository(session), statements
        session.rollback()
        conn.close()

    @staticmethod
    def _reservation_reads(statements: list[str]) -> list[str]:
        return [s for s in statements if s.startswith("SELECT") and "FROM credit_reservations" in s]

    def test_a_read_for_one_order_selects_that_reservation_only(
        self, traced: tuple[SqliteCreditAccountRepository, list[str]]
    ) -> None:
        repository, statements = traced

        account = repository.get("c-1", orders=["o-2"])

        assert account is not None
        assert self._reservation_reads(statements) == [
            f"SELECT {RESERVATION_COLUMNS} FROM credit_reservations WHERE customer_id = 'c-1' AND order_id = 'o-2'"
        ]

    def test_a_save_without_what_was_seen_reads_the_orders_it_covers_only(
        self, traced: tuple[SqliteCreditAccountRepository, list[str]]
    ) -> None:
        repository, statements = traced
        account = repository.get("c-1", orders=["o-1", "o-7"])
        assert account is not None
        account.release("o-1")
        account.reserve("o-7", inr(7_00), at(7))
        repository.forget()  # as if read in another unit of work
        statements.clear()

        repository.save(account)

        reads = self._reservation_reads(statements)
        assert len(reads) == 1
        assert 'order_id IN (SELECT value FROM json_each(\'["o-1","o-7"]\'))' in reads[0]
        whole = repository.get("c-1")
        assert whole is not None
        assert set(whole.reservations) == {"o-2", "o-3", "o-7"}
        assert (whole.open_orders, whole.dispatched) == (99_99 + 7_00, 300_50)

    def test_a_save_after_the_read_in_the_same_unit_of_work_reads_no_reservation(
        self, traced: tuple[SqliteCreditAccountRepository, list[str]]
    ) -> None:
        repository, statements = traced
        account = repository.get("c-1", orders=["o-8"])
        assert account is not None
        account.reserve("o-8", inr(8_00), at(8))
        statements.clear()

        repository.save(account)

        assert self._reservation_reads(statements) == []
        assert [s.split()[0] for s in statements] == ["UPDATE", "INSERT"]
