"""The API rates of the embedded default (`RateLimiter.throttle`) in a small SQLite file of their own, shared by
every worker process of `crm serve --workers N`.

One row per key holds its GCRA arrival time (`crm_domain.rates`); a call is one `INSERT … ON CONFLICT DO UPDATE …
RETURNING` statement, atomic by itself (SQLite runs it in its own write transaction), so two processes never
both take the last call of a window. The file is apart from the store so that this per-request write never
waits behind an order commit, and it is written without fsync (`synchronous = OFF`): a power cut may forget a
few seconds of counting, never an order.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Final

from adapters.owner_only import owner_only_database
from adapters.system import process_id
from crm_domain.rates import MICROS, emission_interval

_SCHEMA: Final = "CREATE TABLE IF NOT EXISTS rates (key TEXT PRIMARY KEY, tat INTEGER NOT NULL) WITHOUT ROWID"

_TAKE: Final = """
INSERT INTO rates (key, tat) VALUES (:key, :now + :step)
ON CONFLICT (key) DO UPDATE SET tat = max(tat, :now) + :step WHERE max(tat, :now) + :step - :now <= :period
RETURNING tat
"""


class SqliteRates:
    """GCRA arrival times by key in the SQLite file at `path` (created on first use)."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != process_id():  # a new thread, or a forked child
            owner_only_database(self.path)  # the counters name users and addresses: the service's only
            conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute(_SCHEMA)
            local.conn, local.pid = conn, process_id()
        conn_: sqlite3.Connection = local.conn
        return conn_

    def take(self, key: str, now: int, rate: int, period_seconds: int) -> int:
        """0 when the call at `now` (µs) is accepted (and counted), else the seconds to wait."""
        step = emission_interval(rate, period_seconds)
        period = period_seconds * MICROS
        conn = self._conn()
        if conn.execute(_TAKE, {"key": key, "now": now, "step": step, "period": period}).fetchall():
            return 0
        row = conn.execute("SELECT tat FROM rates WHERE key = ?", (key,)).fetchone()
        tat = int(row[0]) if row is not None else now
        wait = max(tat, now) + step - now - period
        return max(-(-wait // MICROS), 1)

    def forget(self, key: str) -> None:
        self._conn().execute("DELETE FROM rates WHERE key = ?", (key,))

    def purge(self, now: int) -> int:
        """Delete the keys whose arrival time has passed: they are back to a full allowance anyway."""
        return int(self._conn().execute("DELETE FROM rates WHERE tat <= ?", (now,)).rowcount)
