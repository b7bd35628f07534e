"""Browser journeys: Playwright for Python driving Debian's chromium against a real `crm serve --workers 2` on the
demo data (one server per test process: safe under pytest-xdist). Every page a journey visits is screenshotted to
$CRM_TEST_ARTIFACTS (default tests/web/artifacts/) and checked with axe-core (no serious or critical finding)."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.conftest import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "assets" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("CRM_TEST_ARTIFACTS") or Path(__file__).parent / "artifacts")
ADMIN_MOBILE = "+919000000001"


class Demo:
    """The server with demo data, and who is who in it (from the API, as the admin)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.base = server.base
        with httpx.Client(base_url=server.base, timeout=20) as client:
            headers = server.sign_in(client, ADMIN_MOBILE)
            users = client.get("/api/v1/users", params={"limit": 200}, headers=headers).json()["items"]
        self.users: list[dict[str, Any]] = users

    def mobile_of(self, role: str, index: int = 0) -> str:
        return str([u for u in self.users if role in u["roles"]][index]["mobile"])

    def user(self, role: str, index: int = 0) -> dict[str, Any]:
        return next(iter([u for u in self.users if role in u["roles"]][index : index + 1]))


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    server = Server(tmp_path_factory.mktemp("crm-web"), workers=2)
    server.env["CRM_API_RATE"] = "100000"
    server.env["CRM_ANON_API_RATE"] = "100000"
    seeded = server.crm("demo", "seed", "--months", "2", "--orders-per-month", "40")
    assert seeded.returncode == 0, seeded.stderr
    try:
        server.start(ready_within=120)  # two workers starting on a busy 2-core machine (CI runs every suite at once)
        yield Demo(server)
    finally:
        server.stop()  # also when it never became ready: no server is left behind


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module's journeys. Not longer: Playwright's sync API keeps an event loop running in this
    thread while it is started, and later tests in the same process that run one of their own
    (`asyncio.run`: the SQLite loop writer's, the Redis stores') would fail."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)
    assert CHROMIUM.exists(), "Debian's chromium is needed (scripts/test.sh installs it)"
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Visitor:
    """One person's browser: signs in through the pages, and checks every page it shows."""

    def __init__(self, browser: Any, demo: Demo, name: str, width: int = 1280, state: Any = None) -> None:
        self.demo = demo
        self.name = name
        self.context = browser.new_context(
            base_url=demo.base, viewport={"width": width, "height": 900}, storage_state=state, accept_downloads=True
        )
        self.context.set_default_timeout(20_000)  # generous: CI runs every suite at once on 2 cores
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def sign_in(self, mobile: str) -> None:
        page = self.page
        page.goto("/")
        page.get_by_label("Mobile number").fill(mobile)
        page.get_by_role("button", name="Text me a code").click()
        page.get_by_label("Six-digit code").fill(self.demo.server.last_otp(mobile))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/home$|/call-center"))

    def visit(self, path: str) -> Any:
        response = self.page.goto(path)
        self.check(path)
        return response

    def check(self, label: str) -> None:
        """A screenshot of the page as it is now, and axe-core's verdict on it."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        label = urlsplit(label).path if label.startswith("http") else label
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.name}-{label}".lower()).strip("-")
        self.page.screenshot(path=str(ARTIFACTS / f"{slug}.png"), full_page=True)
        assert_accessible(self.page, label)
        assert not [e for e in self.errors if "Content Security Policy" in e], self.errors

    def close(self) -> None:
        self.context.close()


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


def assert_accessible(page: Any, label: str) -> None:
    page.evaluate(_axe_source())  # through the DevTools protocol: the page's CSP does not apply to it
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{label}: {json.dumps(serious)}"


@pytest.fixture(scope="session")
def signed_in_states() -> dict[str, Any]:
    """Cookies of people already signed in on this server (a mobile gets one code per 30 s)."""
    return {}


@pytest.fixture
def visitor(browser: Any, demo: Demo, signed_in_states: dict[str, Any]) -> Iterator[Any]:
    """`visitor(name, mobile)`: a browser of its own, signed in as `mobile` (None: not signed in)."""
    opened: list[Visitor] = []

    def open_as(name: str, mobile: str | None = None, width: int = 1280) -> Visitor:
        v = Visitor(browser, demo, name, width, signed_in_states.get(mobile or ""))
        opened.append(v)
        if mobile and mobile not in signed_in_states:
            v.sign_in(mobile)
            signed_in_states[mobile] = v.context.storage_state()
        return v

    yield open_as
    for v in opened:
        v.close()
