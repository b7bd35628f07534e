"""The first page after sign-in: what needs the person's attention today, by role."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from entrypoints.http.deps import ActorDep, CrmDep
from entrypoints.web.rendering import page


class HomePages(Controller):
    path = "/home"

    @get("/", sync_to_thread=True)
    def home(self, request: Request[Any, Any, Any], crm: CrmDep, actor: ActorDep) -> Template:
        del crm
        return page(request, "home.html", actor=actor)
