"""`crm users`: bootstrap an administrator, inspect users, lift a sign-in lock-out."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from crm_domain.records import PageRequest
from entrypoints.cli.context import OPERATOR, container, out

app = typer.Typer(help="Bootstrap and inspect users.", no_args_is_help=True)


@app.command("create-admin")
def create_admin(
    mobile: Annotated[str, typer.Option(help="Mobile number; normalised to E.164 (default region IN).")],
    name: Annotated[str, typer.Option(help="Full name.")],
) -> None:
    """Create an administrator (the first user of a new installation)."""
    user = container().crm.users.create_admin(mobile, name)
    out.print(f"created admin {user.name} ({user.mobile}) with id {user.id}")


@app.command("unlock")
def unlock(
    mobile: Annotated[str, typer.Option(help="Mobile number of the user locked out of sign-in.")],
) -> None:
    """Lift a sign-in lock-out: the mobile's code limits and its live or burned code are forgotten."""
    container().auth.unlock(mobile)
    out.print("sign-in unlocked: a new code can be requested now")


@app.command("list")
def list_users(
    limit: Annotated[int, typer.Option(min=1, max=200, help="Users per page.")] = 200,
) -> None:
    """List users: name, mobile, roles, manager, active."""
    crm = container().crm
    table = Table("id", "name", "mobile", "roles", "manager", "territory", "active")
    cursor: str | None = None
    while True:
        page = crm.users.list(OPERATOR, PageRequest(limit=limit, cursor=cursor))
        for user in page.items:
            table.add_row(
                user.id,
                user.name,
                user.mobile,
                ", ".join(sorted(user.roles)),
                user.manager_id or "",
                user.territory or "",
                "yes" if user.active else "no",
            )
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    out.print(table)
