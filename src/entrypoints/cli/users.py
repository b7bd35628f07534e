"""`crm users`: bootstrap an administrator, inspect users, lift a sign-in lock-out."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from crm_domain.records import PageRequest
from entrypoints.cli.context import OPERATOR, container, out

app = typer.Typer(help="Create the first administrator and list the users.", no_args_is_help=True)


@app.command("create-admin")
def create_admin(
    mobile: Annotated[str, typer.Option(help="The mobile number, normalised to E.164 (default region IN).")],
    name: Annotated[str, typer.Option(help="The user's full name.")],
) -> None:
    """Create an administrator (the first user of a new installation)."""
    user = container().crm.users.create_admin(mobile, name)
    out.print(f"created admin {user.name} ({user.mobile}) with id {user.id}")


@app.command("unlock")
def unlock(
    mobile: Annotated[str, typer.Option(help="The mobile number of the user locked out of sign-in.")],
) -> None:
    """Lift a sign-in lock-out: the mobile's code limits and its live or burned code are forgotten."""
    container().auth.unlock(mobile)
    out.print("sign-in unlocked: a new code can be requested now")


@app.command("list")
def list_users(
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many users each page lists.")] = 200,
) -> None:
    """List users: name, mobile, roles, their manager by name, territory and whether they are active."""
    crm = container().crm
    users = []
    cursor: str | None = None
    while True:
        page = crm.users.list(OPERATOR, PageRequest(limit=limit, cursor=cursor))
        users += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    names = {user.id: user.name for user in users}
    table = Table("name", "mobile", "roles", "manager", "territory", "active", "id")
    for user in users:
        manager = user.manager_id
        table.add_row(
            user.name,
            user.mobile,
            ", ".join(sorted(user.roles)),
            (names.get(manager) or crm.users.get(OPERATOR, manager).name) if manager else "",
            user.territory or "",
            "yes" if user.active else "no",
            user.id,
        )
    out.print(table)
