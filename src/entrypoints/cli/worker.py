"""`crm worker`: the outbox dispatcher (ERP sync, notifications) as a long-running process, or one pass.

Stops on SIGTERM or SIGINT after the message in hand (exit 0); the messages it had claimed but not started are
handed back at once. Logs one JSON line per delivery or failure on stderr.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from crm_domain.services.delivery import DeliveryReport, OutboxDispatcher, Outcome
from crm_domain.services.digest import DigestService
from crm_domain.services.sweeps import run_sweeps
from entrypoints.bootstrap import Container, build_dispatcher
from entrypoints.cli.context import container

log = logging.getLogger("crm.worker")

_MAX_BACKOFF = 30.0


def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, max=1000, help="Messages claimed per pass.")] = 20,
    poll: Annotated[float, typer.Option("--poll", min=0.01, max=3600, help="Seconds between idle polls.")] = 1.0,
    sweep_every: Annotated[
        float, typer.Option("--sweep-every", min=1, help="Seconds between housekeeping sweeps.")
    ] = 600.0,
) -> None:
    """Run the outbox dispatcher: ERP sync and notifications, with retries, dead letters and circuit breakers."""
    _log_json_lines()
    c = container()
    dispatcher = build_dispatcher(c)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    _sweep(c)
    if once:
        _once(c, dispatcher, batch, stop)
        return
    log.info("worker started: batch %d, poll %.2fs", batch, poll)
    next_sweep = time.monotonic() + sweep_every
    failures = 0
    while not stop.is_set():
        try:
            report = dispatcher.run_once(batch, should_stop=stop.is_set)
            failures = 0
        except Exception:
            failures += 1
            log.exception("worker: a pass failed (%d in a row)", failures)
            stop.wait(min(poll * 2**failures, _MAX_BACKOFF))
            continue
        if time.monotonic() >= next_sweep:
            _sweep(c)
            next_sweep = time.monotonic() + sweep_every
        if report.claimed < batch:
            stop.wait(poll)
    log.info("worker stopped")


def _once(c: Container, dispatcher: OutboxDispatcher, batch: int, stop: threading.Event) -> None:
    started = c.crm.ctx.now()
    totals: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
    while not stop.is_set():
        report = dispatcher.run_once(batch, due_by=started, should_stop=stop.is_set)
        _add(totals, report)
        if report.claimed == 0:
            break
    log.info("worker --once: %s", ", ".join(f"{outcome.value} {n}" for outcome, n in totals.items()))


def _add(totals: dict[Outcome, int], report: DeliveryReport) -> None:
    for outcome in Outcome:
        totals[outcome] += report.count(outcome)


def _sweep(c: Container) -> None:
    _recover_store(c)
    _schedule_digests(c)
    try:
        report = run_sweeps(c.crm.ctx, c.auth)
    except Exception:
        log.exception("worker: housekeeping sweep failed")
        return
    purged = report.runtime_purged
    log.info(
        "sweep: %d expired idempotency records purged, %d held orders released, %d expired codes, %d ended"
        " sessions and %d rate-limit records purged",
        report.idempotency_purged,
        report.holds_released,
        purged.otps,
        purged.sessions,
        purged.rate_records,
    )


def _schedule_digests(c: Container) -> None:
    """Queue today's digest of every manager once the local time passes CRM_DIGEST_HOUR (once a day each: the
    idempotency records make later sweeps, and other workers, queue nothing more)."""
    digests = DigestService(c.crm.ctx)
    try:
        day = digests.due_today(c.settings.digest_hour) if c.settings.digest_hour < 24 else None
        queued = digests.schedule(day) if day is not None else 0
    except Exception:
        log.exception("worker: scheduling the daily digests failed")
        return
    if queued:
        log.info("sweep: %d daily digests queued for %s", queued, day)


def _recover_store(c: Container) -> None:
    """On MongoDB without transactions, finish or roll back the commits a crashed process left half done
    (docs/decisions/0006). Other stores commit atomically and have nothing to recover."""
    try:
        recovered = c.maintenance.recover()
    except Exception:
        log.exception("worker: store recovery sweep failed")
        return
    if recovered.completed or recovered.rolled_back:
        log.warning(
            "recovery: %d half-done commits completed, %d rolled back", recovered.completed, recovered.rolled_back
        )


class _JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the delivery's fields when there are some."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        delivery = getattr(record, "outbox", None)
        if isinstance(delivery, dict):
            line.update({k: v for k, v in delivery.items() if v not in (None, ())})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, default=str)


def _log_json_lines() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
