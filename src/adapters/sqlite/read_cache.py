"""Decoded rows of the tables that change rarely and are read on every order (products, customers), kept per
process for read-only units of work (decision 0010).

Every change to such a table bumps its row in `table_versions` (triggers, schema migration 5), in the same
transaction as the change, whichever process or tool makes it. A read-only unit of work reads the versions once
(its snapshot's) and uses the rows cached at exactly that version; rows read at another version are never
used. Writers read the tables themselves: a write's own uncommitted changes never reach the cache, and a
rolled-back change leaves the version where it was.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

from crm_domain.customers import Customer
from crm_domain.products import Product

K = TypeVar("K")
V = TypeVar("V")

#: rows kept per table; past this, rows not yet cached are read from the table each time
MAX_ROWS = 20_000


class VersionedRows(Generic[K, V]):
    """The rows of one table at one version. Thread-safe: a stale snapshot simply gets no cache."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self._lock = threading.Lock()
        self._version = -1
        self._rows: dict[K, V] = {}
        self._max_rows = max_rows

    def at(self, version: int) -> dict[K, V] | None:
        """The rows cached at `version` (empty when the table changed since), or None for a snapshot older
        than the newest one seen: its rows must come from the table."""
        with self._lock:
            if version > self._version:
                self._version, self._rows = version, {}
            return self._rows if version == self._version else None

    def keep(self, rows: dict[K, V], key: K, value: V) -> None:
        """Keep `value` in `rows` (a dict `at` returned), unless the cache is full."""
        if len(rows) < self._max_rows:
            rows[key] = value


class ReadCache:
    """The cached tables of one store in one process: products by SKU, customers by id."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.products: VersionedRows[str, Product] = VersionedRows(max_rows)
        self.customers: VersionedRows[str, Customer] = VersionedRows(max_rows)
