"""Names of what handlers get injected (Litestar `NamedDependency`): the use cases, the signed-in actor, the
token service. Provided in app.py, and resolved one after the other (`resolve_in_turn`)."""

from __future__ import annotations

from typing import TypeAlias

from litestar import Litestar
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.routes import HTTPRoute

from crm_domain.app import Crm
from crm_domain.ports import FileStore
from crm_domain.services.auth import AuthService
from crm_domain.users import Actor
from entrypoints.http.readiness import Readiness
from entrypoints.http.security import Tokens
from entrypoints.ports import Writes

CrmDep: TypeAlias = NamedDependency[Crm]
ActorDep: TypeAlias = NamedDependency[Actor]
AuthDep: TypeAlias = NamedDependency[AuthService]
TokensDep: TypeAlias = NamedDependency[Tokens]
ReadinessDep: TypeAlias = NamedDependency[Readiness]
#: A Protocol again: not validated.
WritesDep: TypeAlias = NamedDependency[SkipValidation[Writes]]
#: A Protocol cannot be checked with isinstance, so Litestar is told not to validate the provided store.
FilesDep: TypeAlias = NamedDependency[SkipValidation[FileStore]]


def resolve_in_turn(app: Litestar) -> None:
    """Resolve each handler's dependencies one after the other, never in an anyio task group.

    Litestar resolves the dependencies that do not depend on each other (`crm` and `actor`, on nearly every
    route) concurrently, in a task group that spawns a task each: about 130 µs of CPU per request for two
    dependencies that return at once (every one here is a plain function that does no I/O, or reads a form).
    Splitting each batch into batches of one keeps the order (a dependency still comes after those it needs)
    and makes Litestar await each in turn."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for _handler, model in route.route_handler_map.values():
            model.dependency_batches = [{dependency} for batch in model.dependency_batches for dependency in batch]
