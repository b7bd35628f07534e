"""`crm outbox`: outbox health (backlog, its age, dead letters), putting dead letters back, and purging delivered
messages past their retention."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from crm_domain.outbox import OutboxMessage
from crm_domain.services.delivery import OutboxDispatcher
from entrypoints.cli.context import container, out

app = typer.Typer(help="Show the outbox's health and handle dead letters.", no_args_is_help=True)


def _dispatcher() -> OutboxDispatcher:
    """Reading and re-queueing need no handlers (and build no senders or gateways)."""
    return OutboxDispatcher(container().crm.ctx, [])


@app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many dead letters to list, oldest first.")] = 50,
) -> None:
    """Show the pending, dead and delivered counts, the age of the oldest pending event, and the dead letters."""
    dispatcher = _dispatcher()
    stats = dispatcher.stats()
    dead = dispatcher.dead_letters(limit)
    now = container().crm.ctx.now()
    age = None if stats.oldest_pending_at is None else (now - stats.oldest_pending_at).total_seconds()
    if as_json:
        body: dict[str, Any] = {
            "pending": stats.pending,
            "dead": stats.dead,
            "delivered": stats.delivered,
            "oldest_pending_at": stats.oldest_pending_at.isoformat() if stats.oldest_pending_at else None,
            "oldest_pending_age_seconds": None if age is None else round(age, 3),
            "dead_letters": [_letter(m) for m in dead],
        }
        out.print_json(json.dumps(body))
        return
    summary = Table("pending", "dead", "delivered", "oldest pending", title="outbox")
    summary.add_row(str(stats.pending), str(stats.dead), str(stats.delivered), _age(age))
    out.print(summary)
    if dead:
        letters = Table("id", "event", "aggregate", "attempts", "last error", title="dead letters")
        for m in dead:
            letters.add_row(m.id, m.event, m.aggregate_id, str(m.attempts), m.last_error or "")
        out.print(letters)


@app.command("retry-dead")
def retry_dead(
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="How many dead letters to put back, oldest first.")
    ] = 1000,
) -> None:
    """Put dead letters back to pending (attempts reset, due now); `crm worker` delivers them again."""
    count = _dispatcher().retry_dead(limit)
    out.print(f"{count} dead letter(s) put back to pending")


@app.command("purge")
def purge(
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than",
            min=0,
            max=36_600,
            metavar="DAYS",
            help="Delivered at least this many days ago [default: CRM_OUTBOX_RETENTION_DAYS].",
        ),
    ] = None,
) -> None:
    """Delete delivered messages (never pending or dead ones) older than the retention, 1000 per write."""
    days = container().settings.outbox_retention_days if older_than is None else older_than
    count = _dispatcher().purge_delivered(timedelta(days=days))
    out.print(f"{count} delivered message(s) older than {days} day(s) purged")


def _letter(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "event": message.event,
        "aggregate_id": message.aggregate_id,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "occurred_at": message.occurred_at.isoformat(),
        "done": list(message.done),
    }


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
