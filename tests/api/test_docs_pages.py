"""The API docs pages (Swagger UI, ReDoc) load only what the app itself serves, so they work offline and under the
self-only Content-Security-Policy (SPEC §4, §5)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from entrypoints.bootstrap import bootstrap
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

PAGES = ["/schema", "/schema/swagger", "/schema/redoc"]
#: Every URL a page names: in src/href attributes and in spec-url/data-spec-url.
URL = re.compile(r"""(?:src|href|spec-url|data-spec-url)\s*=\s*["']([^"']+)["']""")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    tmp_path: Path = tmp_path_factory.mktemp("docs")
    settings = Settings(database_url="memory://", data_dir=tmp_path, jwt_secret="x" * 48)  # type: ignore[arg-type]
    with TestClient(create_app(bootstrap(settings))) as test_client:
        yield test_client


@pytest.mark.parametrize("page", PAGES)
def test_a_docs_page_names_no_foreign_host_and_its_assets_are_served(client: TestClient[Any], page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<script>" not in html and "<script type" not in html  # no inline script: the policy would block it
    assert "//" not in html.replace("<!DOCTYPE html>", "")  # no scheme-relative or absolute URL at all
    urls = URL.findall(html)
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts, html
    assert "/schema/openapi.json" in urls
    for url in urls:
        assert url.startswith("/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    for script in scripts:
        served = client.get(script)
        assert served.headers["content-type"].startswith("text/javascript")
        # ReDoc's footer logo, its only asset on another host (cdn.redoc.ly), is never rendered (static/redoc/README)
        assert '!1?n.createElement("img",{alt:"redocly logo"' in served.text or "redocly logo" not in served.text
    if page != "/schema/redoc":
        assert "validatorUrl: null" in client.get("/schema/assets/swagger-init.js").text  # no validator badge


@pytest.mark.parametrize("page", PAGES)
def test_the_docs_pages_carry_a_self_only_policy(client: TestClient[Any], page: str) -> None:
    policy = client.get(page).headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # scripts fall back to default-src: the app's own origin only
    assert "http" not in policy and "*" not in policy  # no other origin


def test_only_the_listed_assets_are_served(client: TestClient[Any]) -> None:
    assert client.get("/schema/assets/swagger-editor-bundle.js").status_code == 404
    assert client.get("/schema/assets/..%2Fdocs_pages.py").status_code == 404
