"""The API docs pages, Swagger UI at /schema/swagger (also /schema) and ReDoc at /schema/redoc, with every asset served
by the app itself (SPEC §4): Swagger UI's script and styles from the installed `swagger-ui-py` package, ReDoc's
bundle from the repository (static/redoc, with its licence). The pages hold no inline script, so the
Content-Security-Policy of every HTML page (self only) applies to them too; see `middleware.DOCS_CSP`.
"""

from __future__ import annotations

import html
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any, Final

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.router import Router

ASSETS_PATH: Final = "/schema/assets"
_HERE: Final = Path(__file__).parent / "static"
_MEDIA: Final = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def _swagger_static() -> Path:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a declared dependency
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


#: name under /schema/assets -> the file served (nothing else is).
def _assets() -> dict[str, Path]:
    swagger = _swagger_static()
    return {
        "swagger-ui-bundle.js": swagger / "swagger-ui-bundle.js",
        "swagger-ui.css": swagger / "swagger-ui.css",
        "swagger-init.js": _HERE / "swagger-init.js",
        "redoc.standalone.js": _HERE / "redoc" / "redoc.standalone.js",
    }


ASSETS: Final = _assets()


@cache
def _read(name: str) -> bytes:
    return ASSETS[name].read_bytes()


@get("/assets/{name:str}", include_in_schema=False, sync_to_thread=False, cache_control=None)
def docs_asset(name: FromPath[str]) -> Response[bytes]:
    """One of the docs pages' assets; a day in caches (they change only with the installed packages)."""
    if name not in ASSETS:
        raise NotFoundException(f"no asset named {name!r}")
    return Response(
        _read(name),
        media_type=_MEDIA[ASSETS[name].suffix],
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _page(title: str, head: str, body: str) -> bytes:
    title = html.escape(title)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>{head}</head><body>{body}</body></html>"
    ).encode()


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI from the app's own assets; the spec URL travels in a data attribute, read by swagger-init.js."""

    def __init__(self, path: str | list[str] = "/swagger") -> None:
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _page(
            f"{openapi_schema['info']['title']} — Swagger UI",
            f'<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">',
            f'<div id="swagger-ui" data-spec-url="{self.get_openapi_json_route(request)}"></div>'
            f'<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>'
            f'<script src="{ASSETS_PATH}/swagger-init.js"></script>',
        )

    def receive_router(self, router: Router) -> None:
        """The assets of both pages live under the docs router: /schema/assets/{name}."""
        router.register(docs_asset)


class LocalRedocPlugin(OpenAPIRenderPlugin):
    """ReDoc from the app's own bundle; the bundle starts itself on the `<redoc spec-url>` element."""

    def __init__(self, path: str | list[str] = "/redoc") -> None:
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _page(
            f"{openapi_schema['info']['title']} — ReDoc",
            "",
            f'<redoc spec-url="{self.get_openapi_json_route(request)}"></redoc>'
            f'<script src="{ASSETS_PATH}/redoc.standalone.js"></script>',
        )
