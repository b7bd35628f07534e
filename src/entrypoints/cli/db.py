"""`crm db init`: prepare the configured store — MongoDB indexes, or the SQLite schema migrations."""

from __future__ import annotations

import typer

from entrypoints.bootstrap import store_maintenance
from entrypoints.cli.context import out
from entrypoints.settings import Settings

app = typer.Typer(help="Prepare the database (migrations or indexes).", no_args_is_help=True)


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
