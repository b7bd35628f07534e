"""The embedded store commits durably by default (decision 0017): every connection it opens, for units of work
and for the loop writer's batches, runs with `PRAGMA synchronous = FULL` in WAL mode, or with the value of
`CRM_SQLITE_SYNCHRONOUS`."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.sqlite import SqliteStore
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings

LEVELS = {1: "NORMAL", 2: "FULL"}  # what PRAGMA synchronous answers


def pragmas(store: SqliteStore) -> tuple[str, str]:
    conn = store.connect()
    synchronous = LEVELS[conn.execute("PRAGMA synchronous").fetchone()[0]]
    journal = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    return synchronous, journal


@pytest.mark.parametrize(("configured", "expected"), [(None, "FULL"), ("NORMAL", "NORMAL"), ("full", "FULL")])
def test_the_store_of_the_settings_commits_with_the_configured_level(
    tmp_path: Path, configured: str | None, expected: str
) -> None:
    values = {} if configured is None else {"sqlite_synchronous": configured}
    container = bootstrap(Settings(data_dir=tmp_path, jwt_secret="x" * 48, **values))  # type: ignore[arg-type]
    store = container.uow
    assert isinstance(store, SqliteStore)
    assert pragmas(store) == (expected, "wal")
    with store() as uow:  # the units of work's own connections too
        uow.commit()
    conn = store.acquire()
    try:
        assert LEVELS[conn.execute("PRAGMA synchronous").fetchone()[0]] == expected
    finally:
        store.release(conn)
    store.close()


def test_other_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="sqlite_synchronous"):
        Settings(data_dir=tmp_path, sqlite_synchronous="OFF")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="FULL, NORMAL"):
        SqliteStore(tmp_path / "crm.db", synchronous="OFF")
