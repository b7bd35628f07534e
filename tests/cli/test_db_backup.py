"""`crm db backup` and `crm db restore` on the embedded store: a private copy that is never a partial file,
refusals as one line (an existing target, a store in use, a file that is not a crm database of a schema this
build runs), the replaced store kept; MongoDB names its own tools. The round trip under load with a real
`crm serve` is in tests/reliability/test_backup_under_load.py."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.sqlite import schema
from tests.cli.conftest import Result

Cli = Callable[..., Result]


def users(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {mobile for (mobile,) in conn.execute("SELECT mobile FROM users")}


@pytest.fixture
def store(crm_cli: Cli, data_dir: Path) -> Path:
    assert crm_cli("users", "create-admin", "--mobile", "9876543210", "--name", "Asha Admin").code == 0
    return data_dir / "crm.db"


class TestBackup:
    def test_writes_a_private_copy_and_says_what_is_in_it(self, crm_cli: Cli, store: Path, tmp_path: Path) -> None:
        target = tmp_path / "backups" / "crm.db"

        result = crm_cli("db", "backup", str(target))

        assert result.code == 0, result.err
        assert f"backed up {store} to {target}: {target.stat().st_size} bytes" in result.out
        assert f"schema version {schema.SCHEMA_VERSION}" in result.out
        assert "users: 1 rows" in result.out and "orders: 0 rows" in result.out
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert users(target) == {"+919876543210"}
        assert [p.name for p in target.parent.iterdir()] == ["crm.db"]  # no partial or journal file left

    def test_refuses_to_overwrite_unless_forced(self, crm_cli: Cli, store: Path, tmp_path: Path) -> None:
        target = tmp_path / "crm-backup.db"
        target.write_text("an older backup")

        refused = crm_cli("db", "backup", str(target))
        forced = crm_cli("db", "backup", str(target), "--force")

        assert refused.code == 1
        assert refused.err.strip() == f"error: {target} exists; pass --force to overwrite it"
        assert forced.code == 0, forced.err
        assert users(target) == {"+919876543210"}

    def test_refuses_a_directory_and_the_store_itself(self, crm_cli: Cli, store: Path, tmp_path: Path) -> None:
        directory = crm_cli("db", "backup", str(tmp_path), "--force")
        itself = crm_cli("db", "backup", str(store), "--force")

        assert (directory.code, itself.code) == (1, 1)
        assert directory.err.strip() == f"error: {tmp_path} is a directory; name the backup file"
        assert itself.err.strip() == "error: the backup must not be the store itself"
        assert users(store) == {"+919876543210"}

    def test_mongodb_names_mongodump(self, crm_cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("CRM_DATABASE_URL", "mongodb://127.0.0.1:1/crm")  # never connected to

        for command in (("backup", str(tmp_path / "b")), ("restore", str(tmp_path / "b"))):
            result = crm_cli("db", *command)

            assert result.code == 1
            assert "mongodump --uri" in result.err and "mongorestore --uri" in result.err
            assert len(result.err.strip().splitlines()) == 1


@pytest.fixture
def backup_file(crm_cli: Cli, store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "crm-backup.db"
    assert crm_cli("db", "backup", str(target)).code == 0
    return target


class TestRestore:
    def test_replaces_the_store_and_keeps_the_old_one(self, crm_cli: Cli, store: Path, backup_file: Path) -> None:
        assert crm_cli("users", "create-admin", "--mobile", "9876543211", "--name", "Later Admin").code == 0

        result = crm_cli("db", "restore", str(backup_file))

        assert result.code == 0, result.err
        assert f"the replaced store is kept as {store}.bak" in result.out
        assert users(store) == {"+919876543210"}
        assert users(store.with_name("crm.db.bak")) == {"+919876543210", "+919876543211"}
        assert stat.S_IMODE(store.stat().st_mode) == 0o600
        assert not store.with_name("crm.db-wal").exists()
        assert crm_cli("users", "create-admin", "--mobile", "9876543212", "--name", "Next Admin").code == 0

    def test_refuses_a_file_that_is_not_a_crm_database(self, crm_cli: Cli, store: Path, tmp_path: Path) -> None:
        text = tmp_path / "notes.txt"
        text.write_text("not a database at all, but long enough to have a header of sorts" * 10)
        other = tmp_path / "other.db"
        with sqlite3.connect(other) as conn:
            conn.execute("CREATE TABLE things (x)")

        for path, why in ((text, "is not a SQLite database"), (other, "is not a crm database")):
            result = crm_cli("db", "restore", str(path))

            assert result.code == 1
            assert why in result.err
        assert users(store) == {"+919876543210"}

    def test_refuses_a_newer_schema(self, crm_cli: Cli, store: Path, backup_file: Path) -> None:
        with sqlite3.connect(backup_file) as conn:
            conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")

        result = crm_cli("db", "restore", str(backup_file))

        assert result.code == 1
        assert f"newer than this build's {schema.SCHEMA_VERSION}" in result.err

    def test_refuses_while_another_process_has_the_store_open(
        self, crm_cli: Cli, store: Path, backup_file: Path
    ) -> None:
        with holding_open(store):
            result = crm_cli("db", "restore", str(backup_file))

        assert result.code == 1
        assert "is open in another process: stop the API and the worker first" in result.err
        assert not store.with_name("crm.db.bak").exists()


class holding_open:  # noqa: N801  # a context manager read as a phrase
    """Another process with a connection open on the store (as a running API or worker has)."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def __enter__(self) -> subprocess.Popen[str]:
        code = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL');"
            "c.execute('SELECT count(*) FROM users').fetchall(); print('open', flush=True); sys.stdin.read()"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(self.db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "open"
        return self.process

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)
