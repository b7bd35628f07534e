"""What the SQLite store adds to the contract: the file and its schema, WAL, the write lock taken at the start
of a writing unit of work, connections per thread, and how values are laid out on disk."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from adapters.pagination import encode_cursor
from adapters.sqlite import SqliteStore
from adapters.sqlite.schema import SCHEMA_VERSION
from crm_domain.errors import UpstreamUnavailable, ValidationFailed
from crm_domain.ports import OrderQuery, UnitOfWork
from crm_domain.records import PageRequest
from tests.contract.builders import a_product, an_account, an_idempotency_record, an_order, at, inr, read, write


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


class TestFileAndSchema:
    def test_nothing_is_created_until_the_first_unit_of_work(self, tmp_path: Path) -> None:
        path = tmp_path / "data" / "crm.db"
        store = SqliteStore(path)

        assert not path.parent.exists()
        assert read(store, lambda uow: uow.products.get("P-1")) is None
        assert path.exists()

    def test_a_new_file_gets_the_current_schema_in_wal_mode(self, tmp_path: Path) -> None:
        path = tmp_path / "crm.db"
        read(SqliteStore(path), lambda uow: uow.products.get("P-1"))

        raw = _raw(path)
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"orders", "credit_accounts", "credit_reservations", "sequences", "idempotency"} <= tables

    def test_data_survives_a_new_store_on_the_same_file(self, tmp_path: Path) -> None:
        path = tmp_path / "crm.db"
        first = SqliteStore(path)
        write(first, lambda uow: uow.products.add(a_product("P-1")))
        first.close()

        again = SqliteStore(path)

        assert read(again, lambda uow: uow.products.get("P-1")) == a_product("P-1")
        assert _raw(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION

    def test_a_file_a_newer_build_only_expanded_is_used_as_it_is(self, tmp_path: Path) -> None:
        path = tmp_path / "crm.db"
        write(SqliteStore(path), lambda uow: uow.products.add(a_product("P-1")))
        newer = _raw(path)
        newer.execute("ALTER TABLE products ADD COLUMN colour TEXT")  # the next release's expand migration
        newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

        again = SqliteStore(path)
        write(again, lambda uow: uow.products.add(a_product("P-2")))

        assert read(again, lambda uow: uow.products.get("P-2")) == a_product("P-2")
        assert _raw(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1  # left as it is

    def test_a_file_a_newer_build_contracted_past_this_one_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "crm.db"
        write(SqliteStore(path), lambda uow: uow.products.add(a_product("P-1")))
        newer = _raw(path)
        newer.execute("INSERT INTO table_versions VALUES ('schema:contracted-at', ?)", (SCHEMA_VERSION + 2,))
        newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 2}")

        with pytest.raises(RuntimeError, match=f"no longer runs code older than version {SCHEMA_VERSION + 2}"):
            read(SqliteStore(path), lambda uow: uow.products.get("P-1"))

    def test_a_file_of_no_release_of_ours_with_a_higher_version_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "crm.db"
        _raw(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

        with pytest.raises(RuntimeError, match="upgrade crm"):
            read(SqliteStore(path), lambda uow: uow.products.get("P-1"))

    def test_closed_stores_open_new_connections_when_used_again(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "crm.db")
        write(store, lambda uow: uow.products.add(a_product("P-1")))
        store.close()

        assert read(store, lambda uow: uow.products.get("P-1")) == a_product("P-1")


class TestTransactions:
    def test_a_writer_holds_the_write_lock_from_its_start(self, tmp_path: Path) -> None:
        path = tmp_path / "crm.db"
        store = SqliteStore(path, busy_timeout=0.2)
        read(store, lambda uow: None)

        with store():  # no statement yet: BEGIN IMMEDIATE alone takes the lock
            other = SqliteStore(path, busy_timeout=0.2)
            with pytest.raises(UpstreamUnavailable, match="busy"), other():
                pass

    def test_readers_are_not_blocked_by_a_writer_and_see_the_last_commit(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "crm.db")
        write(store, lambda uow: uow.products.add(a_product("P-1")))

        with store() as writer:
            writer.products.add(a_product("P-2"))
            assert read(store, lambda uow: uow.products.get("P-1")) == a_product("P-1")
            assert read(store, lambda uow: uow.products.get("P-2")) is None
            writer.commit()

        assert read(store, lambda uow: uow.products.get("P-2")) == a_product("P-2")

    def test_a_unit_of_work_cannot_be_used_outside_its_block(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "crm.db")
        with store() as uow:
            pass

        with pytest.raises(RuntimeError, match="not open"):
            uow.products.get("P-1")

    def test_threads_draw_order_numbers_without_gaps_or_repeats(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "crm.db")
        numbers: list[int] = []
        lock = threading.Lock()

        def draw() -> None:
            for _ in range(25):
                number = write(store, lambda uow: uow.orders.next_number(2026))
                with lock:
                    numbers.append(number)

        threads = [threading.Thread(target=draw) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(numbers) == list(range(1, 201))
        store.close()


class TestLayout:
    def test_times_are_integer_microseconds_and_money_integer_minor_units(self, tmp_path: Path) -> None:
        path = tmp_path / "crm.db"
        store = SqliteStore(path)
        write(store, lambda uow: uow.orders.add(an_order(created_at=at())))
        write(store, lambda uow: uow.products.add(a_product("P-1", price=420_00)))

        raw = _raw(path)
        created_at, kind = raw.execute("SELECT created_at, typeof(created_at) FROM orders").fetchone()
        price, tax_rate = raw.execute("SELECT unit_price, tax_rate FROM products").fetchone()

        assert kind == "integer"
        assert created_at == int(at().timestamp()) * 1_000_000 + at().microsecond
        assert (price, tax_rate) == (420_00, "18.00")


class TestCreditReservations:
    def test_a_save_after_a_rollback_writes_exactly_the_accounts_reservations(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "crm.db")
        write(store, lambda uow: uow.credit.add(an_account()))

        with store() as uow:
            account = uow.credit.get("c-1")
            assert account is not None
            account.release("o-1")
            uow.credit.save(account)
            uow.rollback()  # the store is back at the version read; what this unit of work saw is stale

            def meanwhile(other: UnitOfWork) -> None:  # another writer moves the account to the same version
                theirs = other.credit.get("c-1")
                assert theirs is not None
                theirs.release("o-2")
                other.credit.save(theirs)

            write(store, meanwhile)
            account.reserve("o-9", inr(9_00), at(9))
            uow.credit.save(account)
            uow.commit()

        stored = read(store, lambda uow: uow.credit.get("c-1"))
        assert stored is not None
        assert stored.reservations == account.reservations


class TestCursors:
    def test_a_cursor_with_a_number_sqlite_cannot_hold_is_a_validation_error(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "crm.db")
        write(store, lambda uow: uow.orders.add(an_order()))

        with pytest.raises(ValidationFailed), store(read_only=True) as uow:
            uow.orders.page(PageRequest(limit=1, cursor=encode_cursor([2**64, "o-1"])), OrderQuery())


class TestIdempotencyWithoutClock:
    def test_records_stay_valid_until_purged(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "crm.db")  # no clock: nothing judges expiry but the purge
        record = an_idempotency_record(expires_at=at(-60))
        write(store, lambda uow: uow.idempotency.add(record))

        assert (
            read(store, lambda uow: uow.idempotency.get(actor_id="u-1", operation="order.create", key="key-1"))
            == record
        )
        assert write(store, lambda uow: uow.idempotency.purge_expired(at())) == 1
        assert (
            read(store, lambda uow: uow.idempotency.get(actor_id="u-1", operation="order.create", key="key-1")) is None
        )
