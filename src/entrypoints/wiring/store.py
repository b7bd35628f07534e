"""Maintenance of the configured store (`crm db init`, the start check, the recovery sweep), by the store's kind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from adapters.mongo import MongoStore
from adapters.owner_only import owner_only_database
from adapters.sqlite import SqliteStore
from adapters.sqlite import backup as sqlite_backup
from crm_domain.ports import UnitOfWorkFactory
from entrypoints.ports import MaintenanceRefused, Preparation, Recovery, StoreCopy, StoreMaintenance

MONGO_BACKUP = (
    "MongoDB is backed up with its own tools, not `crm db backup`: "
    'mongodump --uri "$CRM_DATABASE_URL" --oplog --gzip --archive=PATH '
    '(restore: mongorestore --uri "$CRM_DATABASE_URL" --oplogReplay --gzip --archive=PATH --drop); '
    "see docs/operations.md, Backups"
)


class SqliteMaintenance:
    """The embedded store: schema migrations; it commits atomically, so there is nothing to recover."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def prepare(self) -> Preparation:
        """Run the migrations on a connection of our own, to report how many there were (the store's own
        connections migrate silently on first use)."""
        from adapters.sqlite import schema

        path = owner_only_database(self._store.path)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            applied = schema.migrate(conn)
            version = schema.schema_version(conn)
        finally:
            conn.close()
        summary = f"SQLite {path}: {applied} migration(s) applied, schema version {version}"
        return Preparation(summary=summary, schema_version=version)

    def check(self) -> None:
        """Nothing to check: the store migrates itself on first use."""

    def recover(self) -> Recovery:
        return Recovery()

    def backup(self, target: Path, *, force: bool = False) -> StoreCopy:
        try:
            copied = sqlite_backup.backup(self._store.path, target, force=force)
        except sqlite_backup.BackupRefused as exc:
            raise MaintenanceRefused(str(exc)) from exc
        return _report(f"backed up {self._store.path} to {copied.path}", copied)

    def restore(self, source: Path) -> StoreCopy:
        try:
            copied = sqlite_backup.restore(source, self._store.path)
        except sqlite_backup.BackupRefused as exc:
            raise MaintenanceRefused(str(exc)) from exc
        kept = f"; the replaced store is kept as {copied.kept}" if copied.kept else ""
        return _report(f"restored {copied.path} from {source}{kept}", copied)

    def close(self) -> None:
        """Nothing to let go of: `prepare` closes its own connection."""


def _report(what: str, copied: sqlite_backup.Copied) -> StoreCopy:
    summary = f"{what}: {copied.size} bytes, schema version {copied.schema_version}"
    return StoreCopy(summary=summary, items=tuple(f"{table}: {n} rows" for table, n in copied.rows.items()))


class MongoMaintenance:
    """MongoDB: its indexes, and the start check (a replica set, every index in place). It commits in
    transactions (decision 0012), so there is nothing to recover."""

    def __init__(self, store: MongoStore) -> None:
        self._store = store

    def prepare(self) -> Preparation:
        names = self._store.init_indexes()
        summary = f"MongoDB database {self._store.db.name!r}: {len(names)} indexes in place"
        return Preparation(summary=summary, items=tuple(names))

    def check(self) -> None:
        self._store.check()

    def recover(self) -> Recovery:
        return Recovery()

    def backup(self, target: Path, *, force: bool = False) -> StoreCopy:
        raise MaintenanceRefused(MONGO_BACKUP)

    def restore(self, source: Path) -> StoreCopy:
        raise MaintenanceRefused(MONGO_BACKUP)

    def close(self) -> None:
        self._store.close()


class InMemoryMaintenance:
    """memory:// (and tests' fakes): nothing to prepare, nothing to recover."""

    def prepare(self) -> Preparation:
        return Preparation(summary="in-memory store: nothing to prepare")

    def check(self) -> None:
        """Nothing to check."""

    def recover(self) -> Recovery:
        return Recovery()

    def backup(self, target: Path, *, force: bool = False) -> StoreCopy:
        raise MaintenanceRefused("the in-memory store keeps nothing to back up")

    def restore(self, source: Path) -> StoreCopy:
        raise MaintenanceRefused("the in-memory store cannot be restored")

    def close(self) -> None:
        """Nothing to let go of."""


def maintenance_for(store: UnitOfWorkFactory) -> StoreMaintenance:
    """The maintenance of `store`, by its kind."""
    if isinstance(store, SqliteStore):
        return SqliteMaintenance(store)
    if isinstance(store, MongoStore):
        return MongoMaintenance(store)
    return InMemoryMaintenance()
