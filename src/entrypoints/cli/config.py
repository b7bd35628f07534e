"""`crm config show`: the effective settings, secrets redacted."""

from __future__ import annotations

import json

import typer

from entrypoints.cli.context import out
from entrypoints.settings import Settings

app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)


@app.command("show")
def show() -> None:
    """Print the effective settings as JSON; secrets and URL passwords are shown as ***."""
    out.print_json(json.dumps(Settings().redacted(), default=str))
