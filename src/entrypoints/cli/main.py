"""The `crm` command: registers the command groups and maps errors to one line and an exit code."""

from __future__ import annotations

import os
import sys

import typer
from pydantic import ValidationError

from crm_domain.errors import DomainError
from entrypoints.bootstrap import ConfigurationError
from entrypoints.cli import (
    config,
    credit,
    customers,
    db,
    demo,
    erp,
    orders,
    outbox,
    products,
    reports,
    serve,
    targets,
    users,
    worker,
)
from entrypoints.cli.context import err
from entrypoints.cli.help_text import plain_labels

plain_labels()

app = typer.Typer(
    name="crm",
    help="Run and administer the Sales & CRM platform: dealer orders, credit and ERP sync.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.add_typer(users.app, name="users")
app.add_typer(customers.app, name="customers")
app.add_typer(products.app, name="products")
app.add_typer(credit.app, name="credit")
app.add_typer(demo.app, name="demo")
app.add_typer(config.app, name="config")
app.add_typer(db.app, name="db")
app.command("worker")(worker.worker)
app.add_typer(outbox.app, name="outbox")
app.add_typer(erp.app, name="erp")
app.add_typer(orders.app, name="orders")
app.add_typer(reports.app, name="reports")
app.add_typer(targets.app, name="targets")

EXIT_BUSINESS = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: business errors exit 1 and usage or configuration errors exit 2, each with one line."""
    try:
        result = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(EXIT_BUSINESS)
    except typer.TyperException as exc:  # Typer's own click: usage errors carry exit code 2
        code = getattr(exc, "exit_code", EXIT_USAGE)
        prefix = "usage error" if code == EXIT_USAGE else "error"
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        err.print(f"{prefix}: {message}", markup=False)
        sys.exit(code)
    except DomainError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(EXIT_BUSINESS)
    except (ConfigurationError, ValidationError) as exc:
        err.print(f"configuration error: {_one_line(exc)}", markup=False)
        sys.exit(EXIT_USAGE)
    except OSError as exc:
        err.print(f"error: {exc}", markup=False)
        sys.exit(EXIT_BUSINESS)
    except Exception as exc:
        if os.environ.get("CRM_DEBUG"):
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc} (set CRM_DEBUG=1 for details)", markup=False)
        sys.exit(EXIT_BUSINESS)
    sys.exit(result if isinstance(result, int) else 0)


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors())
    return str(exc)


if __name__ == "__main__":  # pragma: no cover
    main()
