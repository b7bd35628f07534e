"""`crm db init`: prepare the configured store — MongoDB indexes, or the SQLite schema migrations."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import typer

from entrypoints.bootstrap import build_store
from entrypoints.cli.context import out
from entrypoints.settings import Settings

if TYPE_CHECKING:
    from adapters.sqlite import SqliteStore

app = typer.Typer(help="Prepare the database.", no_args_is_help=True)


@app.command("init")
def init() -> None:
    """Create the store's indexes (MongoDB) or bring its schema up to date (SQLite); safe to run again."""
    from adapters.mongo import MongoStore
    from adapters.sqlite import SqliteStore

    store = build_store(Settings())
    if isinstance(store, MongoStore):
        names = store.init_indexes()
        out.print(f"MongoDB database {store.db.name!r}: {len(names)} indexes in place")
        for name in names:
            out.print(f"  {name}")
        store.close()
    elif isinstance(store, SqliteStore):
        applied, version = _migrate(store)
        out.print(f"SQLite {store.path}: {applied} migration(s) applied, schema version {version}")
    else:
        out.print("in-memory store: nothing to prepare")


def _migrate(store: SqliteStore) -> tuple[int, int]:
    """Run the migrations on a connection of our own, to report how many there were (the store's own
    connections migrate silently on first use)."""
    from adapters.sqlite import schema

    store.path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(store.path, isolation_level=None)
    try:
        applied = schema.migrate(conn)
        return applied, schema.schema_version(conn)
    finally:
        conn.close()
