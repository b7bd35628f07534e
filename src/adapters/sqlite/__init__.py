"""The SQLite store: the embedded default, implementing every store port of `crm_domain.ports`."""

from adapters.sqlite.store import SqliteStore, SqliteUnitOfWork

__all__ = ["SqliteStore", "SqliteUnitOfWork"]
