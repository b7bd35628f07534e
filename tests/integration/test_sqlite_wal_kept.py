"""A process that has the embedded store open keeps its SQLite locks when it opens another connection: making
the database owner-only must not open and close the file (closing any descriptor drops every POSIX lock the
process holds on it). Without its locks, another process's last connection took the database for unused and
deleted its WAL file, and the server's later writes went to a deleted file (found by the README walkthrough:
an order answered 201 that no other process could see)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from adapters.owner_only import owner_only_database


def test_another_process_closing_does_not_delete_the_wal_of_an_open_database(tmp_path: Path) -> None:
    path = owner_only_database(tmp_path / "crm.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")

    owner_only_database(path)  # what each new connection of the store does first

    closing = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM t'); c.close()"
    subprocess.run([sys.executable, "-c", closing, str(path)], check=True, timeout=30)
    assert path.with_name("crm.db-wal").exists()
    conn.execute("INSERT INTO t VALUES (2)")
    other = sqlite3.connect(path)
    assert other.execute("SELECT count(*) FROM t").fetchone() == (2,)
    other.close()
    conn.close()
