"""The web part of the Litestar app: page routes, templates, static assets and the cookie session.

`create_app` (entrypoints/http/app.py) builds one `WebApp` from the container and adds its routes, template config,
middleware and state. See docs/web.md for how to add a page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.di import Provide
from litestar.plugins.htmx import HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from entrypoints.bootstrap import Container
from entrypoints.web import formatting
from entrypoints.web.errors import HANDLERS
from entrypoints.web.forms import provide_form
from entrypoints.web.pages import PAGES
from entrypoints.web.session import WebSessions, web_session_middleware

HERE = Path(__file__).parent
#: The largest upload a page takes (CSV imports, attachments): as the API's attachment limit.
PAGE_BODY_LIMIT = 11 * 1024 * 1024


class WebApp:
    def __init__(self, container: Container) -> None:
        settings = container.settings
        self.sessions = WebSessions(container.crm, container.auth, container.jwt_secret, secure=settings.env == "prod")
        self.local = formatting.LocalTime(container.crm.ctx.config.tz)
        self.middleware = web_session_middleware(self.sessions)
        self.template_config = TemplateConfig(
            directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=self._filters
        )
        pages = Router(
            path="/",
            route_handlers=PAGES,
            dependencies={"form": Provide(provide_form)},
            exception_handlers=HANDLERS,
            request_class=HTMXRequest,
            request_max_body_size=PAGE_BODY_LIMIT,
            # Pages sign in with the session cookie (web_session_middleware), not the API's bearer token.
            opt={"exclude_from_auth": True},
            include_in_schema=False,
        )
        static = create_static_files_router(
            path="/static", directories=[HERE / "static"], opt={"exclude_from_auth": True}, include_in_schema=False
        )
        self.route_handlers = [pages, static]
        self.state: dict[str, Any] = {"web_sessions": self.sessions}

    def _filters(self, engine: JinjaTemplateEngine) -> None:
        env = engine.engine
        env.filters.update(
            money=formatting.money,
            grouped=formatting.grouped,
            qty=formatting.quantity,
            pct=formatting.percent,
            when=self.local.datetime,
            day=self.local.date,
            iso=self.local.iso,
        )
        env.globals["tz_name"] = self.local.tz.key
        env.trim_blocks = True
        env.lstrip_blocks = True
