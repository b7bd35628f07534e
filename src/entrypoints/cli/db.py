"""`crm db init|backup|restore`: prepare the configured store (MongoDB indexes, or the SQLite schema migrations),
and back up or restore the embedded store (MongoDB: mongodump and mongorestore, which the commands name)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrypoints.bootstrap import store_maintenance
from entrypoints.cli.context import err, out
from entrypoints.ports import MaintenanceRefused, StoreCopy
from entrypoints.settings import Settings

app = typer.Typer(help="Prepare, back up and restore the database.", no_args_is_help=True)


@app.command("init")
def init() -> None:
    """Create the store's indexes (MongoDB) or bring its schema up to date (SQLite); safe to run again."""
    maintenance = store_maintenance(Settings())
    try:
        done = maintenance.prepare()
    finally:
        maintenance.close()
    out.print(done.summary)
    for item in done.items:
        out.print(f"  {item}")


@app.command("backup")
def backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write (0600).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
) -> None:
    """Copy the embedded store to PATH while the API and the worker keep running.

    SQLite's online backup: every order acknowledged before it started is in the copy. MongoDB: use mongodump
    (the message says how)."""
    maintenance = store_maintenance(Settings())
    try:
        _print(maintenance.backup(path, force=force))
    except MaintenanceRefused as exc:
        _refused(exc)
    finally:
        maintenance.close()


@app.command("restore")
def restore(path: Annotated[Path, typer.Argument(help="A backup written by `crm db backup`.")]) -> None:
    """Replace the embedded store with the backup PATH (stop the API and the worker first).

    Checks that PATH is a crm database of a schema this release runs, swaps it in atomically and keeps the old
    store as crm.db.bak."""
    maintenance = store_maintenance(Settings())
    try:
        _print(maintenance.restore(path))
    except MaintenanceRefused as exc:
        _refused(exc)
    finally:
        maintenance.close()


def _print(copy: StoreCopy) -> None:
    out.print(copy.summary, markup=False)
    for item in copy.items:
        out.print(f"  {item}", markup=False)


def _refused(exc: MaintenanceRefused) -> None:
    err.print(f"error: {exc}", markup=False, soft_wrap=True)
    raise typer.Exit(1)
