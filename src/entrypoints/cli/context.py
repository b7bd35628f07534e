"""What every command shares: the container (built once, lazily), the operator identity, output consoles."""

from __future__ import annotations

from functools import cache

from rich.console import Console

from crm_domain.users import Actor, Role
from entrypoints.bootstrap import Container, bootstrap

#: Who the command line acts as: an operator on the server, with administrator rights, recorded as "cli".
OPERATOR = Actor(id="cli", roles=frozenset({Role.ADMIN}), name="command line")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@cache
def container() -> Container:
    return bootstrap()
