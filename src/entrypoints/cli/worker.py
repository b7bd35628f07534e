"""`crm worker`: the outbox dispatcher (ERP sync, notifications) as a long-running process, or one pass.

Stops on SIGTERM or SIGINT after the message in hand (exit 0); the messages it had claimed but not started are
handed back at once. Logs JSON lines on stderr (`entrypoints.logs`): one per failed attempt and dead letter, one
per delivery at debug (`CRM_LOG_LEVEL=debug`), and `--once` ends with one summary line.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import structlog
import typer

from crm_domain.services.delivery import DeliveryReport, OutboxDispatcher, Outcome
from crm_domain.services.digest import DigestService
from crm_domain.services.sweeps import run_sweeps
from entrypoints.bootstrap import Container, build_dispatcher
from entrypoints.cli.context import container, err, out
from entrypoints.logs import configure

log = logging.getLogger("crm.worker")

_MAX_BACKOFF = 30.0


def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, max=1000, help="How many messages each pass claims.")] = 20,
    poll: Annotated[
        float,
        typer.Option("--poll", min=0.01, max=3600, help="How many seconds to wait between polls when nothing is due."),
    ] = 1.0,
    sweep_every: Annotated[
        float, typer.Option("--sweep-every", min=1, help="How many seconds pass between housekeeping sweeps.")
    ] = 600.0,
    heartbeat: Annotated[
        Path | None,
        typer.Option(
            "--heartbeat",
            help="A file touched after every pass, for a health check of its age (--check).",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Health check: exit 0 when the --heartbeat file is fresh, else 1; run nothing."),
    ] = False,
    max_age: Annotated[
        float, typer.Option("--max-age", min=1, help="With --check: the oldest heartbeat that is fresh, seconds.")
    ] = 600.0,
) -> None:
    """Run the outbox dispatcher: ERP sync and notifications, with retries, dead letters and circuit breakers."""
    if check:
        _check_heartbeat(heartbeat, max_age)
        return
    c = container()
    configure(c.settings.log_level)
    c.maintenance.check()  # e.g. MongoDB standalone or without indexes: refused now, in one line
    dispatcher = build_dispatcher(c)
    if c.settings.worker_metrics_port is not None:
        from entrypoints.cli.worker_metrics import (  # prometheus_client: when asked
            configured_erps,
            serve_worker_metrics,
        )

        serve_worker_metrics(dispatcher, c.settings.worker_metrics_port, systems=configured_erps(c.erp))
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
            _beat(heartbeat)
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


def _check_heartbeat(heartbeat: Path | None, max_age: float) -> None:
    """`--check`: whether a worker's loop touched `heartbeat` within `max_age` seconds (no settings needed)."""
    if heartbeat is None:
        raise typer.BadParameter("--check needs --heartbeat PATH", param_hint="--check")
    try:
        age = time.time() - heartbeat.stat().st_mtime
    except FileNotFoundError:
        err.print(f"worker unhealthy: no heartbeat at {heartbeat} yet", markup=False)
        raise typer.Exit(1) from None
    if age > max_age:
        err.print(f"worker unhealthy: last heartbeat {age:.0f} s ago (more than {max_age:.0f} s)", markup=False)
        raise typer.Exit(1)
    out.print(f"worker healthy: last heartbeat {age:.0f} s ago", markup=False)


def _beat(heartbeat: Path | None) -> None:
    """Touch the heartbeat file: the loop is alive and its last pass reached the store."""
    if heartbeat is not None:
        heartbeat.touch(mode=0o600)
        os.utime(heartbeat)


def _once(c: Container, dispatcher: OutboxDispatcher, batch: int, stop: threading.Event) -> None:
    started = c.crm.ctx.now()
    totals: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
    while not stop.is_set():
        report = dispatcher.run_once(batch, due_by=started, should_stop=stop.is_set)
        _add(totals, report)
        if report.claimed == 0:
            break
    structlog.get_logger("crm.worker").info(
        "worker --once finished",
        delivered=totals[Outcome.DELIVERED],
        retried=totals[Outcome.RETRY],
        dead=totals[Outcome.DEAD],
        deferred=totals[Outcome.DEFERRED],
        released=totals[Outcome.RELEASED],
    )


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
    _purge_outbox(c)
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


#: One sweep deletes at most this many delivered messages (in writes of `_PURGE_BATCH`); the next sweep goes on.
_PURGE_BATCH = 1000
_PURGE_BATCHES = 20


def _purge_outbox(c: Container) -> None:
    """Delivered messages older than `CRM_OUTBOX_RETENTION_DAYS` (0: kept), so the outbox stays small."""
    days = c.settings.outbox_retention_days
    if days == 0:
        return
    dispatcher = OutboxDispatcher(c.crm.ctx, [])
    try:
        purged = dispatcher.purge_delivered(timedelta(days=days), _PURGE_BATCH, _PURGE_BATCHES)
    except Exception:
        log.exception("worker: outbox retention purge failed")
        return
    log.info("sweep: %d delivered outbox messages older than %d days purged", purged, days)


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
    """Finish or roll back the commits a crashed process left half done, for a store that needs it (none does
    today: SQLite and MongoDB both commit atomically, docs/decisions/0012)."""
    try:
        recovered = c.maintenance.recover()
    except Exception:
        log.exception("worker: store recovery sweep failed")
        return
    if recovered.completed or recovered.rolled_back:
        log.warning(
            "recovery: %d half-done commits completed, %d rolled back", recovered.completed, recovered.rolled_back
        )
