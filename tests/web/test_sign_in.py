"""Signing in through the pages, the cookie session, and forms refused without their CSRF token."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.conftest import Demo


def test_sign_in_page_then_home_then_sign_out(visitor: Any, demo: Demo) -> None:
    mobile = demo.mobile_of("dealer", 4)  # signed out at the end: no other test uses this mobile
    v = visitor("dealer-sign-in", None)
    v.visit("/")
    v.page.get_by_label("Mobile number").fill(mobile)
    v.page.get_by_role("button", name="Text me a code").click()
    v.check("sign-in-code")
    v.page.get_by_label("Six-digit code").fill(demo.server.last_otp(mobile))
    v.page.get_by_role("button", name="Sign in").click()
    v.page.wait_for_url("**/home")
    v.check("home")
    cookie = next(c for c in v.context.cookies() if c["name"] == "crm_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    v.page.get_by_role("button", name="Sign out").click()
    v.page.wait_for_url("**/sign-in")
    # The session has ended in the store: the old cookie no longer signs anyone in.
    with httpx.Client(base_url=demo.base, cookies={"crm_session": cookie["value"]}) as client:
        response = client.get("/home")
        assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")


def test_a_wrong_code_is_refused_on_the_page(visitor: Any, demo: Demo) -> None:
    v = visitor("wrong-code", None)
    v.visit("/sign-in")
    v.page.get_by_label("Mobile number").fill(demo.mobile_of("dealer", 5))  # a code is asked: no other test uses it
    v.page.get_by_role("button", name="Text me a code").click()
    v.page.get_by_label("Six-digit code").fill("000000")
    v.page.get_by_role("button", name="Sign in").click()
    assert "wrong or has expired" in v.page.get_by_role("alert").inner_text()
    v.check("sign-in-wrong-code")


def test_a_form_without_its_csrf_token_is_refused(visitor: Any, demo: Demo) -> None:
    v = visitor("csrf", demo.mobile_of("sales_rep"))
    v.visit("/home")
    # The same form, posted by the signed-in browser with its token removed (as a forged cross-site form would be).
    v.page.eval_on_selector("form.signout input[name=csrf_token]", "e => e.remove()")
    v.page.get_by_role("button", name="Sign out").click()
    assert v.page.get_by_role("heading", level=1).inner_text() == "Not allowed"
    v.check("csrf-refused")
    # ...and with a token of another browser: refused too, and the session is still live.
    response = v.page.request.post("/sign-out", form={"csrf_token": "forged"})
    assert response.status == 403
    assert v.page.goto("/home").url.endswith("/home")


def test_pages_carry_the_security_headers(demo: Demo) -> None:
    response = httpx.get(f"{demo.base}/sign-in")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "http" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
