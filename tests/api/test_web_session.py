"""The web app's cookie session and CSRF check, in process, on both configurations (embedded; MongoDB + Redis):
the cookie names a live session of the API's store, is signed, and ends with logout and deactivation; every form
needs the token of its own browser's session; pages answer out-of-scope orders with the 404 page."""

from __future__ import annotations

import re
from typing import Any

from crm_domain.users import User
from tests.api.conftest import Api


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def sign_in_page(api: Api, user: User) -> str:
    """Signs the test client's browser in through the pages; returns the session cookie's value."""
    client = api.client
    token = csrf(client.get("/sign-in").text)
    asked = client.post("/sign-in", data={"csrf_token": token, "mobile": user.mobile, "next": "/orders"})
    assert asked.status_code == 200 and "Enter your code" in asked.text
    done = client.post(
        "/sign-in/verify",
        data={"csrf_token": token, "mobile": user.mobile, "next": "/orders", "code": api.last_otp(user.mobile)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/orders"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # Secure in prod only
    return str(client.cookies["crm_session"])


def signed_out(response: Any) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/sign-in")


class TestCookieSession:
    def test_sign_in_opens_a_session_the_pages_recognise(self, api: Api) -> None:
        sign_in_page(api, api.rep)
        page = api.client.get("/orders")
        assert page.status_code == 200 and "Ravi Rep" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "default-src 'self'" in page.headers["content-security-policy"]

    def test_a_signed_out_browser_is_sent_to_sign_in_and_back(self, api: Api) -> None:
        answer = api.client.get("/credit/holds", follow_redirects=False)
        assert answer.headers["location"] == "/sign-in?next=/credit/holds"

    def test_an_edited_cookie_signs_no_one_in(self, api: Api) -> None:
        value = sign_in_page(api, api.rep)
        session_id, _user, mac = value.split(".")
        forged = f"{session_id}.{api.admin.id}.{mac}"  # the rep's session passed off as the admin's
        api.client.cookies.set("crm_session", forged)
        assert signed_out(api.client.get("/admin/users", follow_redirects=False))

    def test_sign_out_ends_the_session_in_the_store(self, api: Api) -> None:
        value = sign_in_page(api, api.rep)
        page = api.client.get("/orders")
        api.client.post("/sign-out", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
        api.client.cookies.set("crm_session", value)  # the old cookie, kept by a thief
        assert signed_out(api.client.get("/orders", follow_redirects=False))

    def test_deactivation_ends_the_browser_session_at_once(self, api: Api) -> None:
        sign_in_page(api, api.rep)
        admin = api.login(api.admin)
        assert api.client.patch(f"/api/v1/users/{api.rep.id}", json={"active": False}, headers=admin).is_success
        assert signed_out(api.client.get("/orders", follow_redirects=False))


class TestCsrf:
    def test_a_form_without_its_token_gets_the_403_page(self, api: Api) -> None:
        sign_in_page(api, api.rep)
        answer = api.client.post("/sign-out", data={}, follow_redirects=False)
        assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
        assert "Not allowed" in answer.text
        assert api.client.get("/orders").status_code == 200  # still signed in

    def test_the_token_from_before_sign_in_no_longer_works_after_it(self, api: Api) -> None:
        before = csrf(api.client.get("/sign-in").text)
        sign_in_page(api, api.rep)
        answer = api.client.post("/sign-out", data={"csrf_token": before}, follow_redirects=False)
        assert answer.status_code == 403

    def test_another_browsers_token_is_refused(self, api: Api) -> None:
        sign_in_page(api, api.rep)
        token = csrf(api.client.get("/orders").text)
        api.client.cookies.set("crm_csrf", "a" * 32)  # another browser's nonce
        assert api.client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False).status_code == 403


class TestScopeOnPages:
    def test_another_dealers_order_is_the_not_found_page(self, api: Api) -> None:
        theirs = api.order(api.admin, customer_id=api.other_customer.id)
        sign_in_page(api, api.rep)
        answer = api.client.get(f"/orders/{theirs['id']}")
        assert answer.status_code == 404 and "Not found" in answer.text
        assert answer.headers["content-type"].startswith("text/html")
        mine = api.order(api.rep)
        assert api.client.get(f"/orders/{mine['id']}").status_code == 200


class TestUnknownPaths:
    def test_a_browser_gets_the_not_found_page_and_the_api_its_problem(self, api: Api) -> None:
        page = api.client.get("/no-such-page", headers={"Accept": "text/html,*/*"})
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "Not found" in page.text
        api_answer = api.client.get("/api/v1/no-such-thing", headers={"Accept": "text/html,*/*"})
        assert api_answer.status_code == 404
        assert api_answer.headers["content-type"].startswith("application/problem+json")
        assert api.client.get("/no-such-page").headers["content-type"].startswith("application/problem+json")
