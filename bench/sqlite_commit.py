"""Commit latency of the embedded store, `synchronous = FULL` against `NORMAL` (decision 0017).

    .venv/bin/python bench/sqlite_commit.py [--commits 300] [--rounds 2] [--dir .]

Each commit is one writing unit of work with one outbox row, alone (no group commit), on a fresh SQLite file
in `--dir` (put it on the disk the store will use: a tmpfs makes every sync free). Prints median, p90 and mean.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from adapters.sqlite import SqliteStore
from crm_domain.outbox import OutboxMessage


def commit_times(mode: str, commits: int, directory: Path) -> list[float]:
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        store = SqliteStore(Path(tmp) / "crm.db", synchronous=mode)
        now = datetime.now(UTC)
        times: list[float] = []
        for i in range(commits):
            message = OutboxMessage(
                id=f"m-{i}", event="order.submitted", aggregate_id="o", payload={}, occurred_at=now, next_attempt_at=now
            )
            with store() as uow:
                uow.outbox.add(message)
                started = time.perf_counter()
                uow.commit()
                times.append(time.perf_counter() - started)
        store.close()
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path.cwd())
    args = parser.parse_args()
    for round_no in range(1, args.rounds + 1):
        for mode in ("FULL", "NORMAL"):
            t = commit_times(mode, args.commits, args.dir)
            print(
                f"round {round_no} {mode:6}: {args.commits} commits, median {statistics.median(t) * 1000:.2f} ms,"
                f" p90 {t[int(len(t) * 0.9)] * 1000:.2f} ms, mean {statistics.mean(t) * 1000:.2f} ms"
            )


if __name__ == "__main__":
    main()
