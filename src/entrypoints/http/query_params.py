"""Operations accept only the query parameters they declare (SPEC §4): a client's typo (`?qq=`, `?mobile=`)
is a 400 `unknown_parameter`, never an answer that silently ignores it (and returns everything).

One `before_request` hook for the whole app: the declared names of a handler (its own parameters and its
dependencies', by their query names) are worked out once per handler and kept.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException
from litestar.handlers import BaseRouteHandler


class UnknownParameter(ClientException):
    """A query parameter the operation does not declare (answered 400 `unknown_parameter`)."""

    problem_code = "unknown_parameter"


_KEY = "crm_declared_query_names"


def declared_query_names(handler: BaseRouteHandler, path_params: dict[str, Any]) -> frozenset[str]:
    """The query names `handler` declares (kept in its `opt`, worked out on first use)."""
    known = handler.opt.get(_KEY)
    if not isinstance(known, frozenset):
        model = handler.create_kwargs_model(path_parameters=dict.fromkeys(path_params))  # type: ignore[arg-type]
        known = frozenset(p.field_alias for p in model.expected_query_params)
        handler.opt[_KEY] = known
    return known


async def refuse_unknown_query_parameters(request: Request[Any, Any, Any]) -> None:
    """`before_request`: 400 when the query names a parameter the route does not declare. A coroutine: Litestar
    runs a plain function hook in a worker thread, a hop that cost more than the check."""
    if not request.scope.get("query_string"):
        return
    declared = declared_query_names(request.route_handler, request.path_params)
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        accepted = ", ".join(sorted(declared)) or "none"
        raise UnknownParameter(
            detail=f"unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)} "
            f"(this operation accepts: {accepted})"
        )
